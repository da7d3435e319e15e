// zlib-backed gzip stages. Both write straight into the caller's buffer, so
// the only buffer of their own is the input chunk.

#include <zlib.h>

#include <memory>
#include <string>
#include <vector>

#include "codec/stages.h"

namespace dbbackup::codec::internal {
namespace {

// windowBits 15 + 16: a 32 KiB window with the gzip wrapper (not zlib's).
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kMemLevel = 8;  // zlib's and gzip's default

class GzipCompressor : public Reader {
 public:
  GzipCompressor(Reader& source, int level) : source_(source), in_(kInputChunk) {
    if (deflateInit2(&zs_, level, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      status_ = Status::IOError("cannot initialise gzip compression");
    }
  }
  ~GzipCompressor() override { deflateEnd(&zs_); }

  Result<size_t> Read(void* buf, size_t n) override {
    if (!status_.ok()) return status_;
    if (finished_ || n == 0) return size_t{0};
    zs_.next_out = static_cast<Bytef*>(buf);
    // zlib counts in uInt; larger requests are simply served partially.
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const uInt want = zs_.avail_out;
    while (zs_.avail_out == want) {
      if (zs_.avail_in == 0 && !source_eof_) {
        Result<size_t> got = source_.Read(in_.data(), in_.size());
        if (!got.ok()) return status_ = got.status();
        if (*got == 0) source_eof_ = true;
        zs_.next_in = in_.data();
        zs_.avail_in = static_cast<uInt>(*got);
      }
      const int flush = source_eof_ && zs_.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH;
      const int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_END) {
        finished_ = true;
        break;
      }
      // Z_BUF_ERROR only means "no progress without more input": loop reads.
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return status_ = Status::IOError("gzip compression failed: " +
                                         std::string(zs_.msg ? zs_.msg : zError(rc)));
      }
    }
    return static_cast<size_t>(want - zs_.avail_out);
  }

 private:
  Reader& source_;
  std::vector<Bytef> in_;
  z_stream zs_{};
  Status status_;
  bool source_eof_ = false;
  bool finished_ = false;
};

class GzipDecompressor : public Reader {
 public:
  explicit GzipDecompressor(Reader& source) : source_(source), in_(kInputChunk) {
    if (inflateInit2(&zs_, kGzipWindowBits) != Z_OK) {
      status_ = Status::IOError("cannot initialise gzip decompression");
    }
  }
  ~GzipDecompressor() override { inflateEnd(&zs_); }

  Result<size_t> Read(void* buf, size_t n) override {
    if (!status_.ok()) return status_;
    if (done_ || n == 0) return size_t{0};
    zs_.next_out = static_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const uInt want = zs_.avail_out;
    while (zs_.avail_out == want) {
      // inflate may hold decoded bytes back when the output fills up, so it
      // gets another call before any conclusion is drawn from missing input.
      if (zs_.avail_in == 0 && !source_eof_ && !output_pending_) {
        Result<size_t> got = source_.Read(in_.data(), in_.size());
        if (!got.ok()) return status_ = got.status();
        if (*got == 0) source_eof_ = true;
        zs_.next_in = in_.data();
        zs_.avail_in = static_cast<uInt>(*got);
      }
      if (member_done_) {
        if (zs_.avail_in == 0 && source_eof_) {
          done_ = true;
          break;
        }
        if (zs_.avail_in == 0) continue;
        // Another member follows, as in `cat a.gz b.gz`.
        inflateReset(&zs_);
        member_done_ = false;
      }
      if (zs_.avail_in == 0 && source_eof_ && !output_pending_) {
        return status_ = Status::Corruption("compressed stream is truncated");
      }
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      output_pending_ = zs_.avail_out == 0;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
        output_pending_ = false;
      } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
        return status_ = Status::Corruption("corrupt gzip stream: " +
                                            std::string(zs_.msg ? zs_.msg : zError(rc)));
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return status_ = Status::IOError("gzip decompression failed: " + std::string(zError(rc)));
      }
    }
    return static_cast<size_t>(want - zs_.avail_out);
  }

 private:
  Reader& source_;
  std::vector<Bytef> in_;
  z_stream zs_{};
  Status status_;
  bool source_eof_ = false;
  bool output_pending_ = false;
  bool member_done_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Reader> NewGzipCompressor(Reader& source, int level) {
  return std::make_unique<GzipCompressor>(source, level);
}

std::unique_ptr<Reader> NewGzipDecompressor(Reader& source) {
  return std::make_unique<GzipDecompressor>(source);
}

}  // namespace dbbackup::codec::internal
