#include "engine/util.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "env/file_util.h"

namespace dbbackup::engine {

Status CheckFreeSpace(const std::string& dir, uint64_t needed, const std::string& hint) {
  auto free_bytes = env::FreeSpace(dir);
  if (!free_bytes.ok()) return free_bytes.status();
  if (*free_bytes < needed) {
    return Status::FailedPrecondition("not enough free space in " + dir + ": need " +
                                      HumanBytes(needed) + ", have " + HumanBytes(*free_bytes) +
                                      " (free space or set " + hint + ")");
  }
  return Status::OK();
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

PrefetchReader::PrefetchReader(Reader& source, size_t chunk_size, size_t chunks)
    : source_(source), chunk_size_(chunk_size), max_chunks_(chunks) {
  thread_ = std::thread([this] { Run(); });
}

PrefetchReader::~PrefetchReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PrefetchReader::Run() {
  for (;;) {
    std::vector<char> buf;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !free_.empty() || allocated_ < max_chunks_; });
      if (stop_) return;
      if (!free_.empty()) {
        buf = std::move(free_.back());
        free_.pop_back();
      } else {
        ++allocated_;
      }
    }
    buf.resize(chunk_size_);
    Result<size_t> got = ReadFull(source_, buf.data(), buf.size());
    std::lock_guard<std::mutex> lock(mu_);
    if (!got.ok() || *got == 0) {
      if (!got.ok()) status_ = got.status();
      done_ = true;
      cv_.notify_all();
      return;
    }
    ready_.push_back(Chunk{std::move(buf), *got});
    // ReadFull comes back short only at the end of the stream.
    if (*got < chunk_size_) done_ = true;
    cv_.notify_all();
    if (done_) return;
  }
}

Result<size_t> PrefetchReader::Read(void* buf, size_t n) {
  if (n == 0) return size_t{0};
  if (pos_ == current_.size) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!current_.data.empty()) free_.push_back(std::move(current_.data));
    current_ = Chunk{};
    pos_ = 0;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !ready_.empty() || done_; });
    if (ready_.empty()) {
      if (!status_.ok()) return status_;
      return size_t{0};
    }
    current_ = std::move(ready_.front());
    ready_.pop_front();
  }
  const size_t k = std::min(n, current_.size - pos_);
  std::memcpy(buf, current_.data.data() + pos_, k);
  pos_ += k;
  return k;
}

}  // namespace dbbackup::engine
