#include "store/s3/ranged_get.h"

#include <algorithm>
#include <cstring>

namespace dbbackup::store::s3 {

RangedGetReader::RangedGetReader(S3Client& client, RangedGetParams params,
                                 std::unique_ptr<HttpResponseStream> first)
    : client_(client),
      params_(std::move(params)),
      parts_(static_cast<size_t>((params_.size + params_.part_size - 1) / params_.part_size)),
      first_(std::move(first)) {
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(1, params_.concurrency)), parts_);
  for (size_t i = 0; i < n; ++i) workers_.emplace_back([this] { Work(); });
}

RangedGetReader::~RangedGetReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

uint64_t RangedGetReader::PartLength(size_t index) const {
  uint64_t start = static_cast<uint64_t>(index) * params_.part_size;
  return std::min<uint64_t>(params_.part_size, params_.size - start);
}

void RangedGetReader::Work() {
  const size_t window = static_cast<size_t>(std::max(1, params_.concurrency));
  for (;;) {
    size_t index;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A part may start only while fewer than `window` buffers are alive.
      cv_.wait(lock, [&] {
        return stop_ || !error_.ok() || next_part_ >= parts_ || next_part_ < reading_ + window;
      });
      if (stop_ || !error_.ok() || next_part_ >= parts_) return;
      index = next_part_++;
      ++buffers_;
      if (params_.buffers_peak != nullptr) {
        size_t peak = params_.buffers_peak->load();
        while (buffers_ > peak && !params_.buffers_peak->compare_exchange_weak(peak, buffers_)) {
        }
      }
    }
    Result<std::string> part = Fetch(index);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (part.ok()) {
        ready_[index] = std::move(part).value();
      } else if (error_.ok()) {
        error_ = part.status();
      }
    }
    cv_.notify_all();
  }
}

Result<std::string> RangedGetReader::Fetch(size_t index) {
  std::unique_ptr<HttpResponseStream> first;
  if (index == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    first = std::move(first_);
  }
  if (first != nullptr) {
    std::string data(PartLength(0), '\0');
    Result<size_t> n = ReadFull(*first, data.data(), data.size());
    if (n.ok() && *n == data.size()) return data;
    // The stream failed: fetch the part by range like the others.
  }
  return FetchRange(index);
}

Result<std::string> RangedGetReader::FetchRange(size_t index) {
  const uint64_t start = static_cast<uint64_t>(index) * params_.part_size;
  const uint64_t length = PartLength(index);
  S3Request r;
  r.action = "s3:GetObject";
  r.key = params_.key;
  r.headers = params_.headers;
  r.headers.emplace_back("If-Match", "\"" + params_.etag + "\"");
  r.headers.emplace_back(
      "Range", "bytes=" + std::to_string(start) + "-" + std::to_string(start + length - 1));
  r.accept_statuses = {412};
  r.check = [&](const HttpResponse& res) {
    if (res.status == 412 || res.body.size() == length) return Status::OK();
    // A short body is a cut connection; a whole-object 200 a server that
    // ignored Range. Both are worth another try.
    return Status(StatusCode::kIOError,
                  "range " + std::to_string(start) + "+" + std::to_string(length) + " of " +
                      params_.key + ": got " + std::to_string(res.body.size()) + " bytes",
                  true);
  };
  DBB_ASSIGN_OR_RETURN(HttpResponse res, client_.Call(r));
  if (res.status == 412) {
    return Status::FailedPrecondition("object '" + params_.key +
                                      "' was replaced while it was being downloaded (its ETag "
                                      "changed); try again");
  }
  return std::move(res.body);
}

Result<size_t> RangedGetReader::Read(void* buf, size_t n) {
  if (n == 0) return size_t{0};
  if (!have_current_ || pos_ == current_.size()) {
    std::unique_lock<std::mutex> lock(mu_);
    if (have_current_) {
      // Done with the part: free its buffer and let a worker start another.
      have_current_ = false;
      current_ = std::string();
      pos_ = 0;
      ++reading_;
      --buffers_;
      cv_.notify_all();
    }
    if (reading_ >= parts_) return size_t{0};
    cv_.wait(lock, [&] { return !error_.ok() || ready_.count(reading_) > 0; });
    auto it = ready_.find(reading_);
    if (it == ready_.end()) return error_.Annotate("reading " + params_.key);
    current_ = std::move(it->second);
    ready_.erase(it);
    have_current_ = true;
  }
  size_t k = std::min(n, current_.size() - pos_);
  std::memcpy(buf, current_.data() + pos_, k);
  pos_ += k;
  return k;
}

}  // namespace dbbackup::store::s3
