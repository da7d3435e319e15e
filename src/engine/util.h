// Small helpers shared by the engine's operations.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/io.h"
#include "common/status.h"

namespace dbbackup::engine {

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// kFailedPrecondition "not enough free space in DIR: need N MB, have M MB
// (set HINT)" when the file system holding `dir` has less than `needed` bytes.
Status CheckFreeSpace(const std::string& dir, uint64_t needed, const std::string& hint);

// "123.4 MB" style sizes for messages.
std::string HumanBytes(uint64_t bytes);

// Reads `source` ahead on a thread of its own into at most `chunks` buffers
// of `chunk_size` bytes, so that what the caller does with the bytes
// (decompressing, hashing, writing) overlaps waiting for them (a download).
// Read() returns the source's bytes in order, then its end or its error,
// exactly as the source did. Destroying the reader early stops the thread
// once the source's current Read returns. `source` must outlive it and is
// touched only by that thread.
class PrefetchReader : public Reader {
 public:
  explicit PrefetchReader(Reader& source, size_t chunk_size = 1 << 20, size_t chunks = 4);
  ~PrefetchReader() override;
  Result<size_t> Read(void* buf, size_t n) override;

 private:
  struct Chunk {
    std::vector<char> data;
    size_t size = 0;
  };
  void Run();

  Reader& source_;
  const size_t chunk_size_;
  const size_t max_chunks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> ready_;              // guarded by mu_
  std::vector<std::vector<char>> free_;  // guarded by mu_
  size_t allocated_ = 0;                 // guarded by mu_
  bool done_ = false;                    // guarded by mu_
  bool stop_ = false;                    // guarded by mu_
  Status status_;                        // guarded by mu_
  Chunk current_;                        // the caller's thread only
  size_t pos_ = 0;                       // in current_
  std::thread thread_;
};

}  // namespace dbbackup::engine
