// RangedGetReader: one large object read as parallel ranged GETs, for
// S3ObjectStore::Get (transparent to callers: a Reader of the whole object).
//
// - The object is cut into parts of `part_size` bytes; up to `concurrency`
//   workers fetch them with `Range: bytes=A-B` over the client's kept-alive
//   connections and hand them over in order.
// - Memory is bounded: a worker may only start part i while i is fewer than
//   `concurrency` parts ahead of the one being read, so at most
//   `concurrency` part buffers exist at any time (ranged_get_buffers_peak
//   records the high-water mark, for tests).
// - Each part is retried on its own by S3Client::Call (5xx, resets, short
//   bodies); one failed part does not restart the download.
// - Every request carries If-Match with the ETag of the first response, so
//   an object overwritten mid-download fails with kFailedPrecondition instead
//   of mixing two versions.
// - The first part comes from the already open plain GET whose headers told
//   the size; only if that stream fails is part 0 fetched by range.
//
// Thread-safety: Read() from one thread at a time, like every Reader.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/io.h"
#include "store/s3/http_transport.h"
#include "store/s3/s3_client.h"

namespace dbbackup::store::s3 {

struct RangedGetParams {
  std::string key;
  std::string etag;  // without quotes
  uint64_t size = 0;
  size_t part_size = 8 << 20;
  int concurrency = 4;
  // Extra headers of every request (as the plain GET had them).
  HeaderList headers;
  // Raised to the most part buffers alive at once, if set.
  std::atomic<size_t>* buffers_peak = nullptr;
};

class RangedGetReader : public Reader {
 public:
  // `first` is the open response of a plain GET of the whole object. `client`
  // must outlive the reader.
  RangedGetReader(S3Client& client, RangedGetParams params,
                  std::unique_ptr<HttpResponseStream> first);
  ~RangedGetReader() override;
  RangedGetReader(const RangedGetReader&) = delete;
  RangedGetReader& operator=(const RangedGetReader&) = delete;

  Result<size_t> Read(void* buf, size_t n) override;

 private:
  void Work();
  // Part `index`'s bytes: from the first stream for part 0 when it serves,
  // else a ranged GET.
  Result<std::string> Fetch(size_t index);
  Result<std::string> FetchRange(size_t index);
  uint64_t PartLength(size_t index) const;

  S3Client& client_;
  const RangedGetParams params_;
  const size_t parts_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<HttpResponseStream> first_;  // taken by the worker of part 0
  size_t next_part_ = 0;                       // guarded by mu_: next to claim
  size_t reading_ = 0;                         // guarded by mu_: part being read
  size_t buffers_ = 0;                         // guarded by mu_: alive part buffers
  std::map<size_t, std::string> ready_;        // guarded by mu_
  Status error_;                               // guarded by mu_
  bool stop_ = false;                          // guarded by mu_
  std::vector<std::thread> workers_;

  // Reader side (one thread).
  std::string current_;
  size_t pos_ = 0;
  bool have_current_ = false;
};

}  // namespace dbbackup::store::s3
