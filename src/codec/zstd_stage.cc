// libzstd streaming stages. Like the gzip ones they write straight into the
// caller's buffer and own only an input chunk plus the zstd context.

#include <zstd.h>

#include <memory>
#include <string>
#include <vector>

#include "codec/stages.h"

namespace dbbackup::codec::internal {
namespace {

constexpr int kZstdJobSize = 2 * 1024 * 1024;

class ZstdCompressor : public Reader {
 public:
  ZstdCompressor(Reader& source, int level, int threads)
      : source_(source), in_(kInputChunk), cctx_(ZSTD_createCCtx()) {
    if (cctx_ == nullptr) {
      status_ = Status::IOError("cannot create zstd compression context");
      return;
    }
    // The content checksum lets `zstd -d` and our reader detect damage.
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    if (threads > 1) {
      // Fails harmlessly on a libzstd built without threads: we stay serial.
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, threads);
      // libzstd's default job is 4 x the window (8-32 MiB at levels 1-3), and
      // it buffers a few jobs per worker: 66 MiB of context at level 3 with
      // two workers on the benchmark database. 2 MiB jobs bring that to
      // 17-18 MiB, keep both cores busy on small inputs, and cost under
      // 0.2% of ratio.
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_jobSize, kZstdJobSize);
    }
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }

  Result<size_t> Read(void* buf, size_t n) override {
    if (!status_.ok()) return status_;
    if (finished_ || n == 0) return size_t{0};
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (in_pos_ == in_size_ && !source_eof_) {
        Result<size_t> got = source_.Read(in_.data(), in_.size());
        if (!got.ok()) return status_ = got.status();
        if (*got == 0) source_eof_ = true;
        in_pos_ = 0;
        in_size_ = *got;
      }
      ZSTD_inBuffer in{in_.data(), in_size_, in_pos_};
      const bool end = source_eof_ && in_pos_ == in_size_;
      const size_t rc = ZSTD_compressStream2(cctx_, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
      in_pos_ = in.pos;
      if (ZSTD_isError(rc)) {
        return status_ = Status::IOError("zstd compression failed: " +
                                         std::string(ZSTD_getErrorName(rc)));
      }
      if (end && rc == 0) {
        finished_ = true;
        break;
      }
    }
    return out.pos;
  }

 private:
  Reader& source_;
  std::vector<char> in_;
  size_t in_pos_ = 0;
  size_t in_size_ = 0;
  ZSTD_CCtx* cctx_;
  Status status_;
  bool source_eof_ = false;
  bool finished_ = false;
};

class ZstdDecompressor : public Reader {
 public:
  explicit ZstdDecompressor(Reader& source)
      : source_(source), in_(kInputChunk), dctx_(ZSTD_createDCtx()) {
    if (dctx_ == nullptr) status_ = Status::IOError("cannot create zstd decompression context");
  }
  ~ZstdDecompressor() override { ZSTD_freeDCtx(dctx_); }

  Result<size_t> Read(void* buf, size_t n) override {
    if (!status_.ok()) return status_;
    if (done_ || n == 0) return size_t{0};
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      // A full output buffer may leave decoded bytes inside zstd: call again
      // before deciding anything from the input side.
      if (in_pos_ == in_size_ && !source_eof_ && !output_pending_) {
        Result<size_t> got = source_.Read(in_.data(), in_.size());
        if (!got.ok()) return status_ = got.status();
        if (*got == 0) source_eof_ = true;
        in_pos_ = 0;
        in_size_ = *got;
      }
      if (in_pos_ == in_size_ && source_eof_ && !output_pending_) {
        if (frame_done_) {
          done_ = true;
          break;
        }
        return status_ = Status::Corruption("compressed stream is truncated");
      }
      ZSTD_inBuffer in{in_.data(), in_size_, in_pos_};
      const size_t out_before = out.pos;
      const size_t rc = ZSTD_decompressStream(dctx_, &out, &in);
      const bool progress = in.pos != in_pos_ || out.pos != out_before;
      in_pos_ = in.pos;
      if (ZSTD_isError(rc)) {
        return status_ =
                   Status::Corruption("corrupt zstd stream: " + std::string(ZSTD_getErrorName(rc)));
      }
      // rc == 0: a frame ended and is fully flushed; more frames may follow.
      // A call that did nothing (probing for held-back output after a frame
      // ended exactly at a full buffer) answers for the next frame instead,
      // so it must not undo that.
      if (rc == 0) {
        frame_done_ = true;
      } else if (progress) {
        frame_done_ = false;
      }
      output_pending_ = out.pos == out.size;
    }
    return out.pos;
  }

 private:
  Reader& source_;
  std::vector<char> in_;
  size_t in_pos_ = 0;
  size_t in_size_ = 0;
  ZSTD_DCtx* dctx_;
  Status status_;
  bool source_eof_ = false;
  bool output_pending_ = false;
  // False until a frame completes, so an empty stream counts as truncated.
  bool frame_done_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Reader> NewZstdCompressor(Reader& source, int level, int threads) {
  return std::make_unique<ZstdCompressor>(source, level, threads);
}

std::unique_ptr<Reader> NewZstdDecompressor(Reader& source) {
  return std::make_unique<ZstdDecompressor>(source);
}

}  // namespace dbbackup::codec::internal
