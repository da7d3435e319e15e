// S3Client: signed S3 requests over an HttpTransport, with retries. It knows
// how to address a bucket (path-style or virtual-hosted), sign (SigV4 with
// x-amz-content-sha256 = the payload's SHA-256), retry transient failures
// with jittered exponential backoff (sleeping through the injected Clock) and
// turn error responses into Status values (errors.h). It knows nothing of
// backups; S3ObjectStore and the multipart uploader build on it.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
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
  const Endpoint& endpoint() const { return endpoint_; }
  // "scheme://host[:port]" as configured, for messages.
  std::string EndpointUrl() const;

  // Test helpers: create the bucket (OK if it already exists and is ours);
  // delete every object in it and then the bucket.
  Status CreateBucket();
  Status DeleteBucketAndContents();

 private:
  // Sets `*expired_token` when the server answered ExpiredToken or
  // TokenRefreshRequired.
  Result<std::unique_ptr<HttpResponseStream>> OpenOnce(const S3Request& request,
                                                       std::string_view payload_sha256,
                                                       Reader* body, bool* expired_token);
  // After an ExpiredToken answer: true (and the provider invalidated) if the
  // request should be retried at once with refreshed credentials.
  bool RefreshAfterExpiredToken(bool expired_token, bool* refreshed) const;
  // x-amz-content-sha256 for `r`: its body's SHA-256, or UNSIGNED-PAYLOAD
  // when S3Options::unsigned_payload.
  std::string PayloadHash(const S3Request& r) const;
  Status AnnotateTransportError(const Status& s) const;
  std::chrono::milliseconds Backoff(int retry);
  void LogRetry(const S3Request& r, int attempt, const Status& failure,
                std::chrono::milliseconds delay) const;

  const S3Options options_;
  Endpoint endpoint_;
  env::Clock& clock_;
  std::unique_ptr<HttpTransport> transport_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
};

}  // namespace dbbackup::store::s3
