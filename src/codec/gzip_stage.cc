// gzip stages. The zlib-backed ones write straight into the caller's buffer,
// so the only buffer of their own is the input chunk. Decompression first
// tries libdeflate member by member (2-3x faster than zlib's inflate on our
// concurrently compressed multi-member streams) and hands over to zlib's
// streaming inflate for anything else.

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
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

class ZlibGzipDecompressor : public Reader {
 public:
  explicit ZlibGzipDecompressor(Reader& source) : source_(source), in_(kInputChunk) {
    if (inflateInit2(&zs_, kGzipWindowBits) != Z_OK) {
      status_ = Status::IOError("cannot initialise gzip decompression");
    }
  }
  ~ZlibGzipDecompressor() override { inflateEnd(&zs_); }

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

// Bytes already read from `source` (owned), then the rest of `source`.
class PrefixedReader : public Reader {
 public:
  PrefixedReader(std::vector<uint8_t> prefix, Reader& source)
      : prefix_(std::move(prefix)), source_(source) {}
  Result<size_t> Read(void* buf, size_t n) override {
    if (pos_ == prefix_.size()) return source_.Read(buf, n);
    const size_t k = std::min(n, prefix_.size() - pos_);
    std::memcpy(buf, prefix_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::vector<uint8_t> prefix_;
  size_t pos_ = 0;
  Reader& source_;
};

// Decodes whole gzip members with libdeflate, which needs a member's input
// and output in memory at once. Members of at most kMaxMemberOut bytes
// decompressed whose compressed form fits in kMaxMemberIn (all our
// backups: 1-2 MiB blocks) take this path. The first member that does not,
// and any error, hands the rest of the stream (from that member's start) to
// ZlibGzipDecompressor, which then also produces the error messages.
class GzipDecompressor : public Reader {
 public:
  static constexpr size_t kMaxMemberIn = 4 * 1024 * 1024;
  static constexpr size_t kMaxMemberOut = 4 * 1024 * 1024;

  explicit GzipDecompressor(Reader& source)
      : source_(source), decompressor_(libdeflate_alloc_decompressor()) {
    if (decompressor_ == nullptr) status_ = Status::IOError("cannot initialise gzip decompression");
  }
  ~GzipDecompressor() override {
    if (decompressor_ != nullptr) libdeflate_free_decompressor(decompressor_);
  }

  Result<size_t> Read(void* buf, size_t n) override {
    if (!status_.ok()) return status_;
    if (zlib_ != nullptr) return zlib_->Read(buf, n);
    if (n == 0) return size_t{0};
    while (out_pos_ == out_end_) {
      DBB_ASSIGN_OR_RETURN(bool more, DecodeMember());
      if (!more) return zlib_ != nullptr ? zlib_->Read(buf, n) : Result<size_t>(size_t{0});
    }
    const size_t k = std::min(n, out_end_ - out_pos_);
    std::memcpy(buf, out_.data() + out_pos_, k);
    out_pos_ += k;
    return k;
  }

 private:
  // Decodes the next member into out_. Returns false at the end of the
  // stream or after handing over to zlib_.
  Result<bool> DecodeMember() {
    if (in_.empty()) {
      in_.resize(kMaxMemberIn);
      out_.resize(kMaxMemberOut);
    }
    // Keep at least the largest member seen so far (plus slack) buffered, so
    // a member rarely has to be decoded twice.
    if (!source_eof_ && in_end_ - in_pos_ < std::min(kMaxMemberIn, 2 * largest_member_ + 65536)) {
      DBB_RETURN_IF_ERROR(Refill());
    }
    for (;;) {
      if (in_pos_ == in_end_ && source_eof_) {
        if (any_member_) return false;
        return HandOver();  // empty stream: zlib reports it as truncated
      }
      size_t in_used = 0;
      size_t out_got = 0;
      const libdeflate_result rc =
          libdeflate_gzip_decompress_ex(decompressor_, in_.data() + in_pos_, in_end_ - in_pos_,
                                        out_.data(), out_.size(), &in_used, &out_got);
      if (rc == LIBDEFLATE_SUCCESS) {
        in_pos_ += in_used;
        largest_member_ = std::max(largest_member_, in_used);
        out_pos_ = 0;
        out_end_ = out_got;
        any_member_ = true;
        return true;
      }
      // BAD_DATA also means "member continues past the buffer": read more if
      // there is room and input, else let zlib stream it (or name the error).
      const bool full = in_pos_ == 0 && in_end_ == in_.size();
      if (rc != LIBDEFLATE_BAD_DATA || full || source_eof_) return HandOver();
      DBB_RETURN_IF_ERROR(Refill());
    }
  }

  // Moves the unread bytes to the front and fills the buffer from the source.
  Status Refill() {
    std::memmove(in_.data(), in_.data() + in_pos_, in_end_ - in_pos_);
    in_end_ -= in_pos_;
    in_pos_ = 0;
    while (in_end_ < in_.size() && !source_eof_) {
      Result<size_t> got = source_.Read(in_.data() + in_end_, in_.size() - in_end_);
      if (!got.ok()) return status_ = got.status();
      if (*got == 0) source_eof_ = true;
      in_end_ += *got;
    }
    return Status::OK();
  }

  Result<bool> HandOver() {
    std::vector<uint8_t> rest(in_.begin() + static_cast<std::ptrdiff_t>(in_pos_),
                              in_.begin() + static_cast<std::ptrdiff_t>(in_end_));
    in_ = std::vector<uint8_t>();
    out_ = std::vector<uint8_t>();
    prefixed_ = std::make_unique<PrefixedReader>(std::move(rest), source_);
    zlib_ = std::make_unique<ZlibGzipDecompressor>(*prefixed_);
    return false;
  }

  Reader& source_;
  libdeflate_decompressor* decompressor_;
  Status status_;
  std::vector<uint8_t> in_;
  size_t in_pos_ = 0;
  size_t in_end_ = 0;
  std::vector<uint8_t> out_;
  size_t out_pos_ = 0;
  size_t out_end_ = 0;
  size_t largest_member_ = 0;
  bool source_eof_ = false;
  bool any_member_ = false;
  std::unique_ptr<PrefixedReader> prefixed_;
  std::unique_ptr<ZlibGzipDecompressor> zlib_;
};

}  // namespace

std::unique_ptr<Reader> NewGzipCompressor(Reader& source, int level) {
  return std::make_unique<GzipCompressor>(source, level);
}

std::unique_ptr<Reader> NewGzipDecompressor(Reader& source) {
  return std::make_unique<GzipDecompressor>(source);
}

}  // namespace dbbackup::codec::internal
