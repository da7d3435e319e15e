// Compression as pull-based stream stages: wrap a Reader, get a Reader.
// Memory stays bounded by fixed buffers (1-10 MiB per stage and thread plus
// the codec's own state), whatever the stream length.
//
// Output formats are the standard ones, so backups can be restored by hand:
//   kGzip: RFC 1952 gzip (plain `gunzip` reads it): one member, or with
//          threads > 1 several concatenated members;
//   kZstd: zstd frames with content checksums (plain `zstd -d` reads it);
//   kNone: the input unchanged.
//
// Thread-safety: a stage is used by one thread at a time, like any Reader.
// The free functions are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/io.h"
#include "common/status.h"

namespace dbbackup::codec {

// Persisted: the names below appear in object keys and manifests. Frozen.
enum class Compression { kGzip, kZstd, kNone };

// "gzip", "zstd", "none".
std::string_view CompressionName(Compression c);
// Parses a name from CompressionName (exact, lower case). Returns
// kInvalidArgument "unknown compression: NAME (expected gzip, zstd or none)".
Result<Compression> ParseCompression(std::string_view name);
// File name extension including the dot: ".gz", ".zst", "" for kNone.
std::string_view CompressionExtension(Compression c);
// MIME type of the compressed stream: "application/gzip", "application/zstd",
// "application/octet-stream".
std::string_view CompressionContentType(Compression c);

// Selects the codec's default level in NewCompressingReader.
inline constexpr int kDefaultLevel = -1;
// The level used for kDefaultLevel: 6 for gzip (as `gzip`), 1 for zstd (its
// fastest; on the benchmark database within 2% of `gzip -6`'s ratio,
// at 3-4x the speed of zstd's own default 3), 0 for kNone.
int DefaultLevel(Compression c);
// OK if `level` is kDefaultLevel or valid for `c` (gzip 1..9, zstd 1..22, none
// any); kInvalidArgument naming the valid range otherwise. For validating
// flags early; the compressing reader reports the same error on first Read.
Status ValidateLevel(Compression c, int level);

struct CompressOptions {
  // Codec level, or kDefaultLevel.
  // Default: kDefaultLevel.
  int level = kDefaultLevel;
  // Worker threads. 1 compresses on the reading thread with zlib / libzstd.
  // More: gzip cuts the input into 2 MiB blocks compressed in parallel
  // (libdeflate) and emits them in order as concatenated gzip members, which
  // gunzip and NewDecompressingReader read as one stream; zstd uses its own
  // workers (2 MiB jobs) and still writes one standard frame. Memory grows to
  // about 10 MiB per thread.
  // Default: 1.
  int threads = 1;
  // Random access to the whole input, for a caller that has it (a file):
  // reads up to `n` bytes at `offset`, fewer only at its end. Called from
  // several threads at once; must yield the bytes `source` yields, and
  // `input_size` must be their total. gzip with threads > 1 then takes the
  // samples that choose its libdeflate level (parallel_gzip_stage.cc) from
  // the whole input before the first block, so every block runs the level
  // the whole input needs; a stream alone learns it as it goes and runs its
  // early blocks a level or two higher than needed. A failed read only
  // brings back the stream's way. Ignored by the other codecs.
  // Default: none.
  std::function<Result<size_t>(uint64_t offset, void* buf, size_t n)> read_at;
  uint64_t input_size = 0;
};

// Returns a Reader yielding the compressed form of `source`. Read() returns
// source errors as they are (annotated), and kInvalidArgument for a bad
// level. `source` must outlive the returned reader.
std::unique_ptr<Reader> NewCompressingReader(Reader& source, Compression c,
                                             const CompressOptions& opts);
std::unique_ptr<Reader> NewCompressingReader(Reader& source, Compression c,
                                             int level = kDefaultLevel);

// Returns a Reader yielding the decompressed form of `source`. gzip input may
// consist of several concatenated members (as `gunzip` accepts), zstd input of
// several frames; all are decoded in order. gzip members of up to 4 MiB
// (compressed and decompressed, as ours are) are decoded whole with
// libdeflate, in 8 MiB of buffers; anything larger continues with zlib's
// streaming inflate. Read() returns
//   kCorruption "compressed stream is truncated" if `source` ends inside a
//     member/frame (an empty gzip or zstd stream counts as truncated);
//   kCorruption "corrupt gzip stream: ..." / "corrupt zstd stream: ..." for
//     anything that is not a valid stream, including bad checksums and
//     trailing garbage after the last member;
//   source errors as they are.
// `source` must outlive the returned reader.
std::unique_ptr<Reader> NewDecompressingReader(Reader& source, Compression c);

}  // namespace dbbackup::codec
