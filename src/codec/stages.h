// Internal: the codec-specific stream stages behind compression.h. Each
// returns a Reader over `source`, which must outlive it. Not public API.
#pragma once

#include <memory>

#include "codec/compression.h"
#include "common/io.h"
#include "common/status.h"

namespace dbbackup::codec::internal {

// Input chunk each stage pulls from its source. Together with the codec's own
// state this bounds a stage's memory.
inline constexpr size_t kInputChunk = 256 * 1024;

// REQUIRES: 1 <= level <= 9.
std::unique_ptr<Reader> NewGzipCompressor(Reader& source, int level);
// Independent blocks compressed by `threads` workers, emitted in order as
// concatenated gzip members; `opts.read_at`, if set, samples the whole input
// first (compression.h). REQUIRES: 1 <= level <= 9, threads >= 2.
std::unique_ptr<Reader> NewParallelGzipCompressor(Reader& source, int level, int threads,
                                                  const CompressOptions& opts = {});
std::unique_ptr<Reader> NewGzipDecompressor(Reader& source);
// REQUIRES: 1 <= level <= ZSTD_maxCLevel(), threads >= 1.
std::unique_ptr<Reader> NewZstdCompressor(Reader& source, int level, int threads);
std::unique_ptr<Reader> NewZstdDecompressor(Reader& source);

// A Reader that fails every Read with `status`.
class ErrorReader : public Reader {
 public:
  explicit ErrorReader(Status status) : status_(std::move(status)) {}
  Result<size_t> Read(void*, size_t) override { return status_; }

 private:
  Status status_;
};

// Passes `source` through unchanged (Compression::kNone).
class PassThroughReader : public Reader {
 public:
  explicit PassThroughReader(Reader& source) : source_(source) {}
  Result<size_t> Read(void* buf, size_t n) override { return source_.Read(buf, n); }

 private:
  Reader& source_;
};

}  // namespace dbbackup::codec::internal
