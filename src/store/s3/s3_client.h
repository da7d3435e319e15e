// S3Client: signed S3 requests over an HttpTransport, with retries. It knows
// how to address a bucket (path-style or virtual-hosted), sign (SigV4 with
// x-amz-content-sha256 = the payload's SHA-256), retry transient failures
// with jittered exponential backoff (sleeping through the injected Clock) and
// turn error responses into Status values (errors.h). It knows nothing of
// backups; S3ObjectStore and the multipart uploader build on it.
//
// Like the AWS SDKs it recovers, once per request and for the rest of the
// client's life, from two configuration mistakes the server can correct:
// - a wrong region (PermanentRedirect, AuthorizationHeaderMalformed with
//   <Region>, or a 301/307/400 carrying x-amz-bucket-region): requests are
//   re-signed for the bucket's region (and sent to s3.REGION.amazonaws.com
//   when the endpoint is AWS's own);
// - a skewed clock (RequestTimeTooSkewed, or a 403 whose Date is more than
//   15 minutes off): the offset to the server's Date header is added to the
//   signing time.
// Each is logged once at info.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "env/clock.h"
#include "store/s3/credentials.h"
#include "store/s3/errors.h"
#include "store/s3/http_transport.h"
#include "store/s3/s3_options.h"
#include "store/s3/sigv4.h"

namespace dbbackup::store::s3 {

struct S3Request {
  std::string method = "GET";
  // IAM action the request needs, for messages ("s3:PutObject").
  std::string action;
  // Object key; empty for a bucket-level request.
  std::string key;
  QueryList query;
  // Extra headers to send and sign (Content-MD5, Range, x-amz-meta-*, ...).
  HeaderList headers;
  // Body, kept in memory so retries can resend it. Must outlive the call.
  std::string_view body;
  // Statuses returned as success rather than mapped to errors (e.g. 404 for
  // a delete).
  std::vector<int> accept_statuses;
  // Checks a 2xx response inside the retry loop; a retryable error from it
  // retries the request (CompleteMultipartUpload's 200-with-<Error>).
  std::function<Status(const HttpResponse&)> check;
  // If set, receives the number of attempts sent (corrections and the first
  // try included), so a caller can tell a retry's answer from a first one.
  int* attempts_sent = nullptr;
};

// Where requests go, resolved from S3Options.
struct Endpoint {
  std::string scheme;  // "https"
  std::string host;    // "s3.us-east-1.amazonaws.com", "127.0.0.1", "::1"
  std::string port;    // "" for the scheme's default
  bool path_style = false;
};
Result<Endpoint> ResolveEndpoint(const S3Options& options);

class S3Client {
 public:
  // REQUIRES: ValidateS3Options(options).ok(). `clock` must outlive this.
  S3Client(S3Options options, env::Clock& clock, std::unique_ptr<HttpTransport> transport);

  // Sends the request with retries and reads the whole response. Returns the
  // 2xx (or accepted) response, or the mapped error of the last attempt.
  Result<HttpResponse> Call(const S3Request& request);

  // Sends the request with retries until a 2xx response's headers arrive;
  // the body is left to the caller to stream. Errors as for Call().
  Result<std::unique_ptr<HttpResponseStream>> Open(const S3Request& request);

  // The request as it goes on the wire (URL, signed headers) at time `now`,
  // signed with `credentials`; the first form uses S3Options' fixed keys.
  // Exposed for tests.
  HttpRequest BuildHttpRequest(const S3Request& request, std::string_view payload_sha256,
                               std::chrono::system_clock::time_point now) const;
  HttpRequest BuildHttpRequest(const S3Request& request, std::string_view payload_sha256,
                               std::chrono::system_clock::time_point now,
                               const Credentials& credentials) const;

  // The credentials the next request is signed with: S3Options::credentials'
  // Get() when set (its errors returned as they are), else the fixed keys.
  Result<Credentials> CurrentCredentials() const;

  RequestContext Context(std::string action, std::string key) const;
  const S3Options& options() const { return options_; }
  Endpoint endpoint() const;
  // The region requests are signed for: the configured one until the server
  // names another.
  std::string SigningRegion() const;
  // Added to the clock's time when signing (zero until the server reports a
  // skewed clock).
  std::chrono::seconds ClockOffset() const;
  // "scheme://host[:port]" as configured, for messages.
  std::string EndpointUrl() const;

  // Test helpers: create the bucket (OK if it already exists and is ours);
  // delete every object in it and then the bucket.
  Status CreateBucket();
  Status DeleteBucketAndContents();

 private:
  // What an error answer says the client can fix by itself.
  struct Hints {
    bool expired_token = false;  // ExpiredToken / TokenRefreshRequired
    std::string region;          // the bucket's region, when not the signing one
    std::optional<std::chrono::system_clock::time_point> server_time;  // clock skewed
  };
  // Corrections already made for one request: each is tried once.
  struct Recovery {
    bool refreshed = false;
    bool region = false;
    bool skew = false;
  };
  Result<std::unique_ptr<HttpResponseStream>> OpenOnce(const S3Request& request,
                                                       std::string_view payload_sha256,
                                                       Reader* body, Hints* hints);
  // True if the request should be retried at once (not counted as an
  // attempt) after acting on `hints`: credentials refreshed, region switched,
  // clock offset applied.
  bool Recover(const Hints& hints, Recovery* done);
  std::chrono::system_clock::time_point SigningTime();
  // x-amz-content-sha256 for `r`: its body's SHA-256, or UNSIGNED-PAYLOAD
  // when S3Options::unsigned_payload.
  std::string PayloadHash(const S3Request& r) const;
  Status AnnotateTransportError(const Status& s) const;
  std::chrono::milliseconds Backoff(int retry);
  void LogRetry(const S3Request& r, int attempt, const Status& failure,
                std::chrono::milliseconds delay) const;

  const S3Options options_;
  mutable std::mutex state_mu_;
  Endpoint endpoint_;                     // guarded by state_mu_
  std::string region_;                    // guarded by state_mu_
  std::chrono::seconds clock_offset_{0};  // guarded by state_mu_
  env::Clock& clock_;
  std::unique_ptr<HttpTransport> transport_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
};

}  // namespace dbbackup::store::s3
