#include "store/s3/multipart.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/log.h"
#include "store/s3/crypto.h"
#include "store/s3/sse.h"
#include "store/s3/xml.h"

namespace dbbackup::store::s3 {
namespace {

struct Part {
  int number = 0;
  std::string data;
};

// Parts flow from the reading thread to `concurrency` workers through a
// queue that admits a part only when a worker is free, which is what bounds
// memory. The first error stops everything.
class PartPipeline {
 public:
  PartPipeline(S3Client& client, const std::string& key, const std::string& upload_id,
               int concurrency)
      : client_(client), key_(key), upload_id_(upload_id), concurrency_(concurrency) {
    for (int i = 0; i < concurrency_; ++i) workers_.emplace_back([this] { Work(); });
  }

  ~PartPipeline() { Finish().IgnoreError(); }

  // Blocks until a worker can take a part. Returns the first error so far.
  // Reading the next part only after this keeps at most `concurrency` part
  // buffers alive, not one more.
  Status WaitForSlot() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      return !error_.ok() || static_cast<int>(queue_.size()) + busy_ < concurrency_;
    });
    return error_;
  }

  // Blocks until a worker can take the part. Returns the first error so far.
  Status Submit(Part part) {
    DBB_RETURN_IF_ERROR(WaitForSlot());
    std::unique_lock<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    queue_.push_back(std::move(part));
    cv_.notify_all();
    return Status::OK();
  }

  void Fail(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = std::move(s);
    cv_.notify_all();
  }

  // Waits for all submitted parts; returns the first error.
  Status Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      cv_.notify_all();
    }
    for (auto& t : workers_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  std::vector<CompletedPart> TakeParts() {
    std::lock_guard<std::mutex> lock(mu_);
    std::sort(done_.begin(), done_.end(),
              [](const auto& a, const auto& b) { return a.part_number < b.part_number; });
    return std::move(done_);
  }

 private:
  void Work() {
    for (;;) {
      Part part;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty() || closed_ || !error_.ok(); });
        if (!error_.ok() || queue_.empty()) return;
        part = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      Result<std::string> etag = UploadPart(part);
      part.data = std::string();  // free the buffer before waking the reader
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
      if (etag.ok()) {
        done_.push_back(CompletedPart{part.number, *etag});
      } else if (error_.ok()) {
        error_ =
            etag.status().Annotate("upload part " + std::to_string(part.number) + " of " + key_);
      }
      cv_.notify_all();
    }
  }

  Result<std::string> UploadPart(const Part& part) {
    S3Request r;
    r.method = "PUT";
    r.action = "s3:PutObject";
    r.key = key_;
    r.query = {{"partNumber", std::to_string(part.number)}, {"uploadId", upload_id_}};
    r.headers = SseCustomerHeaders(client_.options());
    // A signed payload hash already makes S3 check every byte of the part
    // (XAmzContentSHA256Mismatch; AWS's UploadPart reference: with SigV4 it
    // is the checksum in place of Content-MD5), so an MD5 on top only cost
    // CPU: 0.5 CPU-s per GB uploaded, 17% of the upload stage on loopback
    // RGW. Without a signed hash it is the only check.
    if (client_.options().unsigned_payload) {
      r.headers.emplace_back("Content-MD5", Base64Encode(Md5(part.data)));
    }
    r.body = part.data;
    DBB_ASSIGN_OR_RETURN(HttpResponse res, client_.Call(r));
    std::optional<std::string> etag = res.Header("etag");
    if (!etag || etag->empty()) return Status::IOError("UploadPart response has no ETag");
    return *etag;
  }

  S3Client& client_;
  const std::string& key_;
  const std::string& upload_id_;
  const int concurrency_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Part> queue_;           // guarded by mu_
  int busy_ = 0;                     // guarded by mu_
  bool closed_ = false;              // guarded by mu_
  Status error_;                     // guarded by mu_
  std::vector<CompletedPart> done_;  // guarded by mu_
  std::vector<std::thread> workers_;
};

// The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, "-N".
// Ceph RGW (Pacific) leaves <ETag> empty in its CompleteMultipartUpload
// answer, so we derive it from the part ETags when they are plain MD5s.
std::string DeriveMultipartEtag(const std::vector<CompletedPart>& parts) {
  std::string digests;
  for (const CompletedPart& p : parts) {
    std::string hex = StripQuotes(p.etag);
    if (hex.size() != 32 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return "";
    }
    for (size_t i = 0; i < 32; i += 2) {
      digests.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
  }
  return HexEncode(Md5(digests)) + "-" + std::to_string(parts.size());
}

// A Complete that timed out may still have succeeded; its retry then finds
// the upload gone (NoSuchUpload). The upload counts as done if the object is
// there with our size and part count.
bool CompletedEarlier(S3Client& client, const std::string& key, MultipartResult& result) {
  S3Request head;
  head.method = "HEAD";
  head.action = "s3:GetObject";
  head.key = key;
  head.headers = SseCustomerHeaders(client.options());
  Result<HttpResponse> res = client.Call(head);
  if (!res.ok()) return false;
  std::string etag = StripQuotes(res->Header("etag").value_or(""));
  if (res->Header("content-length") != std::to_string(result.size) ||
      !etag.ends_with("-" + std::to_string(result.parts))) {
    return false;
  }
  result.etag = etag;
  return true;
}

void Abort(S3Client& client, const std::string& key, const std::string& upload_id,
           std::atomic<bool>& abort_denied_warned) {
  S3Request r;
  r.method = "DELETE";
  r.action = "s3:AbortMultipartUpload";
  r.key = key;
  r.query = {{"uploadId", upload_id}};
  r.accept_statuses = {404};  // already gone
  Status s = client.Call(r).status();
  if (s.ok()) return;
  if (s.code() == StatusCode::kPermissionDenied) {
    // The seed's least-privilege policy has no s3:AbortMultipartUpload.
    if (!abort_denied_warned.exchange(true)) {
      log::Warning("s3: cannot abort failed multipart uploads (" + s.message() +
                   "); their parts stay stored and billed. Grant s3:AbortMultipartUpload or add "
                   "a lifecycle rule to bucket '" +
                   client.options().bucket +
                   "' that aborts incomplete multipart uploads after a few days "
                   "(AbortIncompleteMultipartUpload)");
    }
    return;
  }
  log::Warning("s3: aborting the multipart upload of " + key + " failed: " + s.message() +
               "; a lifecycle rule for incomplete multipart uploads will clean it up");
}

}  // namespace

Result<MultipartResult> UploadMultipart(S3Client& client, const std::string& key, std::string first,
                                        std::string second, Reader& rest,
                                        const MultipartParams& params,
                                        std::atomic<bool>& abort_denied_warned) {
  S3Request create;
  create.method = "POST";
  create.action = "s3:PutObject";
  create.key = key;
  create.query = {{"uploads", ""}};
  create.headers = params.create_headers;
  DBB_ASSIGN_OR_RETURN(HttpResponse created, client.Call(create));
  DBB_ASSIGN_OR_RETURN(std::string upload_id, ParseInitiateMultipartUpload(created.body));

  MultipartResult result;
  Status status;
  {
    PartPipeline pipeline(client, key, upload_id, params.concurrency);
    int number = 0;
    auto submit = [&](std::string data) {
      result.size += data.size();
      return pipeline.Submit(Part{++number, std::move(data)});
    };
    status = submit(std::move(first));
    if (status.ok()) status = submit(std::move(second));
    while (status.ok()) {
      status = pipeline.WaitForSlot();
      if (!status.ok()) break;
      std::string buf(params.part_size, '\0');
      Result<size_t> n = ReadFull(rest, buf.data(), buf.size());
      if (!n.ok()) {
        status = n.status();
        break;
      }
      if (*n == 0) break;
      if (number >= params.max_parts) {
        status = Status::InvalidArgument(
            "object " + key + " is larger than " + std::to_string(params.max_parts) + " parts of " +
            std::to_string(params.part_size) + " bytes; raise part_size");
        break;
      }
      buf.resize(*n);
      status = submit(std::move(buf));
    }
    if (!status.ok()) pipeline.Fail(status);
    Status finished = pipeline.Finish();
    if (status.ok()) status = finished;
    result.parts = number;
    if (status.ok()) {
      std::vector<CompletedPart> parts = pipeline.TakeParts();
      std::string body = BuildCompleteMultipartUpload(parts);
      S3Request complete;
      complete.method = "POST";
      complete.action = "s3:PutObject";
      complete.key = key;
      complete.query = {{"uploadId", upload_id}};
      if (params.if_none_match) complete.headers = {{"If-None-Match", "*"}};
      complete.body = body;
      RequestContext ctx = client.Context("s3:PutObject", key);
      // S3 may answer 200 and report the failure in the body.
      complete.check = [&](const HttpResponse& res) -> Status {
        Result<CompleteOutcome> outcome = ParseCompleteMultipartUpload(res.body);
        if (!outcome.ok()) return outcome.status();
        if (outcome->error) return MapS3Error(*outcome->error, res.status, res.headers, ctx);
        result.etag = outcome->result->etag;
        if (result.etag.empty()) result.etag = StripQuotes(res.Header("etag").value_or(""));
        if (result.etag.empty()) result.etag = DeriveMultipartEtag(parts);
        return Status::OK();
      };
      status = client.Call(complete).status();
      if (status.code() == StatusCode::kNotFound && CompletedEarlier(client, key, result)) {
        status = Status::OK();
      }
      if (!status.ok()) status = status.Annotate("complete multipart upload of " + key);
    }
  }
  if (!status.ok()) {
    Abort(client, key, upload_id, abort_denied_warned);
    return status;
  }
  return result;
}

}  // namespace dbbackup::store::s3
