// FakeTransport: an HttpTransport for hermetic tests. It records every
// request (with its body) and answers through a handler the test supplies,
// so tests can check request shapes and script failures (503 then 200, a
// transport error, a truncated body).
//
// Thread-safety: Send() and requests() may be called from several threads
// (multipart uploads send parts in parallel); the handler is called under no
// lock and must be thread-safe itself.
#pragma once

#include <algorithm>
#include <cctype>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/s3/http_transport.h"
#include "store/s3/s3_options.h"

namespace dbbackup::store::s3 {

struct RecordedRequest {
  std::string method;
  std::string url;
  HeaderList headers;
  std::string body;

  // Case-insensitive lookup of a request header.
  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return v;
      }
    }
    return std::nullopt;
  }
  // The URL's query string ("" if none).
  std::string Query() const {
    size_t q = url.find('?');
    return q == std::string::npos ? "" : url.substr(q + 1);
  }
};

struct FakeResponse {
  int status = 200;
  HeaderList headers;  // lower-case names
  std::string body;
  // When not OK, Send() fails with this instead of answering.
  Status error;
};

class FakeTransport : public HttpTransport {
 public:
  using Handler = std::function<FakeResponse(const RecordedRequest&)>;

  explicit FakeTransport(Handler handler = {}) : handler_(std::move(handler)) {}

  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  Result<std::unique_ptr<HttpResponseStream>> Send(const HttpRequest& request) override {
    RecordedRequest rec{request.method, request.url, request.headers, ""};
    if (request.body != nullptr) {
      rec.body.resize(request.body_length);
      DBB_ASSIGN_OR_RETURN(size_t n, ReadFull(*request.body, rec.body.data(), rec.body.size()));
      rec.body.resize(n);
    }
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(rec);
      handler = handler_;
    }
    FakeResponse res = handler ? handler(rec) : FakeResponse{};
    if (!res.error.ok()) return res.error;
    return std::unique_ptr<HttpResponseStream>(std::make_unique<Stream>(std::move(res)));
  }

 private:
  class Stream : public HttpResponseStream {
   public:
    explicit Stream(FakeResponse res)
        : status_(res.status), headers_(std::move(res.headers)), body_(std::move(res.body)) {}
    int status() const override { return status_; }
    const HeaderList& headers() const override { return headers_; }
    Result<size_t> Read(void* buf, size_t n) override { return body_.Read(buf, n); }

   private:
    int status_;
    HeaderList headers_;
    StringReader body_;
  };

  mutable std::mutex mu_;
  Handler handler_;                        // guarded by mu_
  std::vector<RecordedRequest> requests_;  // guarded by mu_
};

// Options for a store or client over a FakeTransport: a loopback http
// endpoint, bucket "bkt", static test keys with `secret`.
inline S3Options FakeS3Options(std::string secret = "secret") {
  S3Options o;
  o.endpoint = "http://127.0.0.1:9000";
  o.allow_http = true;
  o.bucket = "bkt";
  o.access_key_id = "AKIDTEST";
  o.secret_access_key = std::move(secret);
  return o;
}

}  // namespace dbbackup::store::s3
