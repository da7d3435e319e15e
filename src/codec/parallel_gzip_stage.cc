// pigz-style parallel gzip: the input is cut into fixed blocks, worker threads
// compress each block independently with libdeflate into a complete gzip
// member, and the members are emitted in input order. Concatenated members
// are one valid gzip file (RFC 1952 section 2.2): gunzip, zlib's gzread,
// Python and Go read them whole, as does our decompressor. Independent 2 MiB
// blocks cost well under 1% of ratio against one long stream (and 0.2% less
// than 1 MiB blocks on the benchmark database).
//
// The caller's thread reads the source (a Reader is single-threaded) and
// hands blocks to the workers; at most 2 x threads blocks are in flight, so
// memory is bounded at about 2 x threads x 4 MiB, plus one 2 MiB trial
// buffer per worker for sampling.

#include <libdeflate.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "codec/stages.h"

namespace dbbackup::codec::internal {
namespace {

constexpr size_t kBlockSize = 2 * 1024 * 1024;

// libdeflate's levels are not zlib's: measured on 1 MiB blocks, its level 6
// came out 1.2% smaller than one zlib -6 stream on the benchmark's SQLite
// database but 0.8% (tar of /usr/include) and 4.3% (repetitive log text)
// larger, while its level 7 was within +0.1% or smaller on all three. Level 7
// costs 1.3-1.7x the time of level 6, though, so the level is chosen by
// sampling: every kSampleEvery-th block is compressed at both the "safe"
// level (one step up, LibdeflateSafeLevel) and the fast one (the same number),
// the smaller output is kept, and the blocks that follow use the fast level
// only if it came within 1% (kFastSlackDiv) of the safe level's size on the
// sample. On data where the fast level loses ratio (the log text) every block
// stays at the safe level; where it does not (SQLite pages) most blocks go
// 1.3-1.5x faster.
int LibdeflateSafeLevel(int gzip_level) { return std::min(gzip_level + 1, 12); }
constexpr size_t kSampleEvery = 16;
// Fast output may be at most 1 + 1/kFastSlackDiv times the safe output.
constexpr size_t kFastSlackDiv = 100;

struct Block {
  size_t index = 0;  // position in the stream; every kSampleEvery-th is a sample
  std::vector<uint8_t> in;
  size_t in_size = 0;
  std::vector<uint8_t> out;
  size_t out_size = 0;
  size_t out_pos = 0;
  bool done = false;  // guarded by the compressor's mutex
};

class ParallelGzipCompressor : public Reader {
 public:
  ParallelGzipCompressor(Reader& source, int level, int threads)
      : source_(source), max_in_flight_(2 * static_cast<size_t>(threads)) {
    out_bound_ = libdeflate_gzip_compress_bound(nullptr, kBlockSize);
    const int safe = LibdeflateSafeLevel(level);
    for (int i = 0; i < threads; ++i) {
      libdeflate_compressor* c = libdeflate_alloc_compressor(safe);
      libdeflate_compressor* fast = safe == level ? nullptr : libdeflate_alloc_compressor(level);
      if (c == nullptr || (fast == nullptr && safe != level)) {
        if (c != nullptr) libdeflate_free_compressor(c);
        if (fast != nullptr) libdeflate_free_compressor(fast);
        status_ = Status::IOError("cannot allocate gzip compressor");
        break;
      }
      workers_.emplace_back([this, c, fast] { Work(c, fast); });
    }
  }

  ~ParallelGzipCompressor() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  Result<size_t> Read(void* buf, size_t n) override {
    if (!status_.ok()) return status_;
    if (n == 0) return size_t{0};
    for (;;) {
      DBB_RETURN_IF_ERROR(Fill());
      if (in_flight_.empty()) return size_t{0};
      Block& front = *in_flight_.front();
      {
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, [&] { return front.done; });
      }
      if (front.out_size == 0) {
        return status_ = Status::IOError("gzip compression failed (output bound exceeded)");
      }
      if (front.out_pos < front.out_size) {
        size_t k = std::min(n, front.out_size - front.out_pos);
        std::memcpy(buf, front.out.data() + front.out_pos, k);
        front.out_pos += k;
        return k;
      }
      free_.push_back(std::move(in_flight_.front()));
      in_flight_.pop_front();
    }
  }

 private:
  // Reads blocks from the source and queues them until the window is full.
  Status Fill() {
    while (!source_eof_ && in_flight_.size() < max_in_flight_) {
      std::unique_ptr<Block> block;
      if (free_.empty()) {
        block = std::make_unique<Block>();
        block->in.resize(kBlockSize);
        block->out.resize(out_bound_);
      } else {
        block = std::move(free_.back());
        free_.pop_back();
      }
      Result<size_t> got = ReadFull(source_, block->in.data(), kBlockSize);
      if (!got.ok()) return status_ = got.status();
      // ReadFull comes back short only at end of stream.
      if (*got < kBlockSize) source_eof_ = true;
      // An empty input still needs one (empty) member to be a gzip file.
      if (*got == 0 && any_block_) break;
      any_block_ = true;
      block->index = next_index_++;
      block->in_size = *got;
      block->out_size = 0;
      block->out_pos = 0;
      block->done = false;
      Block* raw = block.get();
      in_flight_.push_back(std::move(block));
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(raw);
      }
      work_cv_.notify_one();
    }
    return Status::OK();
  }

  // `safe` compresses at the level known to match zlib's ratio; `fast` (null
  // when there is no faster level) at the one sampling may choose instead.
  void Work(libdeflate_compressor* safe, libdeflate_compressor* fast) {
    std::vector<uint8_t> trial(fast != nullptr ? out_bound_ : 0);
    for (;;) {
      Block* block;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) break;
        block = queue_.front();
        queue_.pop_front();
      }
      // 0 means "did not fit", impossible with the bound; Read reports it.
      size_t size;
      if (fast == nullptr) {
        size = Compress(safe, *block, block->out.data());
      } else if (block->index % kSampleEvery == 0) {
        size = Compress(safe, *block, block->out.data());
        const size_t fast_size = Compress(fast, *block, trial.data());
        use_fast_.store(fast_size != 0 && size != 0 && fast_size <= size + size / kFastSlackDiv,
                        std::memory_order_relaxed);
        if (fast_size != 0 && fast_size < size) {
          std::memcpy(block->out.data(), trial.data(), fast_size);
          size = fast_size;
        }
      } else {
        size = Compress(use_fast_.load(std::memory_order_relaxed) ? fast : safe, *block,
                        block->out.data());
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        block->out_size = size;
        block->done = true;
      }
      done_cv_.notify_all();
    }
    libdeflate_free_compressor(safe);
    if (fast != nullptr) libdeflate_free_compressor(fast);
  }

  size_t Compress(libdeflate_compressor* c, const Block& block, uint8_t* out) const {
    return libdeflate_gzip_compress(c, block.in.data(), block.in_size, out, out_bound_);
  }

  Reader& source_;
  const size_t max_in_flight_;
  size_t out_bound_ = 0;
  Status status_;
  bool source_eof_ = false;
  bool any_block_ = false;
  size_t next_index_ = 0;
  // Set by the latest sample: whether the fast level is good enough. Blocks
  // compressed concurrently with a sample may see either value; both outputs
  // are valid, only their size differs.
  std::atomic<bool> use_fast_{false};
  // Blocks in input order, owned here; the caller's thread alone touches the
  // deque, workers touch only the Block they were handed.
  std::deque<std::unique_ptr<Block>> in_flight_;
  std::vector<std::unique_ptr<Block>> free_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Block*> queue_;  // guarded by mu_
  bool stop_ = false;         // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<Reader> NewParallelGzipCompressor(Reader& source, int level, int threads) {
  return std::make_unique<ParallelGzipCompressor>(source, level, threads);
}

}  // namespace dbbackup::codec::internal
