#include "store/s3/s3_client.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "common/log.h"
#include "store/s3/crypto.h"
#include "store/s3/sse.h"
#include "store/s3/xml.h"

namespace dbbackup::store::s3 {
namespace {

// Reads a body the caller keeps in memory, without copying it per attempt.
class ViewReader : public Reader {
 public:
  explicit ViewReader(std::string_view data) : data_(data) {}
  Result<size_t> Read(void* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Reads a response body into one allocation of its announced size. Appended
// in 64 KiB steps, a string's capacity doubles past the body: an 8 MiB range
// of a ranged download held 16 MiB, and at 1 GB a restore's four parts in
// flight (spread over worker threads' malloc arenas) peaked at 127 MiB RSS.
// Content-Length sizes the buffer only up to kMaxBodyReserve, so a bad header
// cannot make us allocate a huge buffer up front.
constexpr uint64_t kMaxBodyReserve = 64ull << 20;
Result<std::string> ReadBody(HttpResponseStream& stream) {
  std::string out;
  if (std::optional<std::string> length = stream.Header("content-length")) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(length->c_str(), &end, 10);
    if (end != length->c_str() && *end == '\0' && n <= kMaxBodyReserve) out.reserve(n);
  }
  std::vector<char> buf(64 * 1024);
  for (;;) {
    DBB_ASSIGN_OR_RETURN(size_t k, stream.Read(buf.data(), buf.size()));
    if (k == 0) return out;
    out.append(buf.data(), k);
  }
}

bool IsIpAddress(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool Is2xx(int status) { return status >= 200 && status < 300; }

// S3 rejects requests signed more than 15 minutes off its own clock.
constexpr std::chrono::minutes kMaxSkew{15};

// AWS's own regional endpoint, which a region change must follow; custom
// endpoints (RGW, MinIO) keep their host.
bool IsAwsHost(std::string_view host) {
  return host.starts_with("s3.") && host.ends_with(".amazonaws.com");
}

std::string HostHeader(const std::string& host, const std::string& port) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!port.empty()) h += ":" + port;
  return h;
}

}  // namespace

Status ValidateS3Options(const S3Options& o) {
  if (o.bucket.empty()) return Status::InvalidArgument("S3: no bucket configured");
  if (o.bucket.size() < 3 || o.bucket.size() > 63 ||
      o.bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
    return Status::InvalidArgument("S3: invalid bucket name '" + o.bucket +
                                   "' (3-63 characters of a-z, 0-9, '.', '-')");
  }
  if (o.region.empty()) return Status::InvalidArgument("S3: no region configured");
  if (!o.credentials && (o.access_key_id.empty() || o.secret_access_key.empty())) {
    return Status::InvalidArgument(
        "S3: no credentials configured (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  }
  if (o.part_size < kMinPartSize || o.part_size > kMaxPartSize) {
    return Status::InvalidArgument("S3: part_size must be between 5 MiB and 5 GiB, got " +
                                   std::to_string(o.part_size));
  }
  if (o.concurrency < 1) return Status::InvalidArgument("S3: concurrency must be at least 1");
  if (o.max_attempts < 1) return Status::InvalidArgument("S3: max_attempts must be at least 1");
  if (o.get_part_size < 1 || o.get_concurrency < 1) {
    return Status::InvalidArgument("S3: get_part_size and get_concurrency must be at least 1");
  }
  if (o.max_keys < 1 || o.max_keys > 1000) {
    return Status::InvalidArgument("S3: max_keys must be between 1 and 1000");
  }
  DBB_RETURN_IF_ERROR(ValidateSseOptions(o));
  Result<Endpoint> ep = ResolveEndpoint(o);
  if (!ep.ok()) return ep.status();
  if (o.unsigned_payload && ep->scheme != "https") {
    return Status::InvalidArgument(
        "S3: unsigned payloads are only allowed over https, and "
        "endpoint '" +
        o.endpoint + "' is plain http");
  }
  return Status::OK();
}

Result<Endpoint> ResolveEndpoint(const S3Options& o) {
  Endpoint ep;
  if (o.endpoint.empty()) {
    ep.scheme = "https";
    ep.host = "s3." + o.region + ".amazonaws.com";
    ep.path_style = o.force_path_style.value_or(o.bucket.find('.') != std::string::npos);
    return ep;
  }
  std::string_view url = o.endpoint;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return Status::InvalidArgument("S3: endpoint '" + o.endpoint +
                                   "' must start with https:// or http://");
  }
  ep.scheme = std::string(url.substr(0, sep));
  if (ep.scheme != "https" && ep.scheme != "http") {
    return Status::InvalidArgument("S3: endpoint '" + o.endpoint + "' must use https or http");
  }
  if (ep.scheme == "http" && !o.allow_http) {
    return Status::InvalidArgument("S3: endpoint '" + o.endpoint +
                                   "' uses plain http; set allow_http to permit it");
  }
  std::string_view rest = url.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return Status::InvalidArgument("S3: endpoint '" + o.endpoint +
                                   "' must be scheme://host[:port] without a path");
  }
  std::string_view hostport = rest;
  if (hostport.starts_with("[")) {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("S3: endpoint '" + o.endpoint + "' has an unclosed '['");
    }
    ep.host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') {
        return Status::InvalidArgument("S3: bad endpoint '" + o.endpoint + "'");
      }
      ep.port = std::string(hostport.substr(close + 2));
    }
  } else {
    size_t colon = hostport.rfind(':');
    ep.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) ep.port = std::string(hostport.substr(colon + 1));
  }
  if (ep.host.empty() ||
      (!ep.port.empty() && ep.port.find_first_not_of("0123456789") != std::string::npos)) {
    return Status::InvalidArgument("S3: bad endpoint '" + o.endpoint + "'");
  }
  if ((ep.scheme == "https" && ep.port == "443") || (ep.scheme == "http" && ep.port == "80")) {
    ep.port.clear();
  }
  ep.path_style = o.force_path_style.value_or(IsIpAddress(ep.host) || ep.host == "localhost" ||
                                              o.bucket.find('.') != std::string::npos);
  return ep;
}

S3Client::S3Client(S3Options options, env::Clock& clock, std::unique_ptr<HttpTransport> transport)
    : options_(std::move(options)),
      region_(options_.region),
      clock_(clock),
      transport_(std::move(transport)),
      rng_(std::random_device{}()) {
  Result<Endpoint> ep = ResolveEndpoint(options_);
  if (ep.ok()) endpoint_ = *ep;
}

std::string S3Client::EndpointUrl() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return endpoint_.scheme + "://" + HostHeader(endpoint_.host, endpoint_.port);
}

Endpoint S3Client::endpoint() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return endpoint_;
}

std::string S3Client::SigningRegion() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return region_;
}

std::chrono::seconds S3Client::ClockOffset() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return clock_offset_;
}

std::chrono::system_clock::time_point S3Client::SigningTime() {
  return clock_.Now() + ClockOffset();
}

bool S3Client::Recover(const Hints& hints, Recovery* done) {
  if (hints.expired_token && options_.credentials && !done->refreshed) {
    done->refreshed = true;
    log::Info("s3: the server says the session token has expired; refreshing credentials from " +
              options_.credentials->Source());
    options_.credentials->Invalidate();
    return true;
  }
  if (!hints.region.empty() && !done->region) {
    done->region = true;
    std::lock_guard<std::mutex> lock(state_mu_);
    if (region_ != hints.region) {
      log::Info("s3: bucket '" + options_.bucket + "' is in region " + hints.region + ", not " +
                region_ + "; using " + hints.region + " from now on (set the region to skip this)");
      region_ = hints.region;
      if (IsAwsHost(endpoint_.host)) endpoint_.host = "s3." + region_ + ".amazonaws.com";
    }
    return true;
  }
  if (hints.server_time && !done->skew) {
    done->skew = true;
    auto offset =
        std::chrono::duration_cast<std::chrono::seconds>(*hints.server_time - clock_.Now());
    std::lock_guard<std::mutex> lock(state_mu_);
    if (clock_offset_ != offset) {
      const int64_t s = offset.count();
      log::Info("s3: the local clock is " + std::to_string(s < 0 ? -s : s) + " s " +
                (s > 0 ? "behind" : "ahead of") +
                " the server's; signing with the server's time from now on (fix the system "
                "clock)");
      clock_offset_ = offset;
    }
    return true;
  }
  return false;
}

RequestContext S3Client::Context(std::string action, std::string key) const {
  return RequestContext{std::move(action), options_.bucket, std::move(key), options_.region};
}

HttpRequest S3Client::BuildHttpRequest(const S3Request& r, std::string_view payload_sha256,
                                       std::chrono::system_clock::time_point now) const {
  return BuildHttpRequest(
      r, payload_sha256, now,
      Credentials{options_.access_key_id, options_.secret_access_key, options_.session_token});
}

Result<Credentials> S3Client::CurrentCredentials() const {
  if (options_.credentials) return options_.credentials->Get();
  return Credentials{options_.access_key_id, options_.secret_access_key, options_.session_token};
}

HttpRequest S3Client::BuildHttpRequest(const S3Request& r, std::string_view payload_sha256,
                                       std::chrono::system_clock::time_point now,
                                       const Credentials& credentials) const {
  Endpoint endpoint;
  std::string region;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    endpoint = endpoint_;
    region = region_;
  }
  std::string host = HostHeader(endpoint.host, endpoint.port);
  std::string path;
  if (endpoint.path_style) {
    path = "/" + options_.bucket;
    if (!r.key.empty()) path += "/" + r.key;
  } else {
    host = options_.bucket + "." + host;
    path = "/" + r.key;
  }

  SigningRequest s;
  s.method = r.method;
  s.path = path;
  s.query = r.query;
  s.payload_hash = std::string(payload_sha256);
  s.headers.emplace_back("host", host);
  s.headers.emplace_back("x-amz-date", FormatAmzDate(now));
  s.headers.emplace_back("x-amz-content-sha256", s.payload_hash);
  if (!credentials.session_token.empty()) {
    s.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  for (const auto& h : r.headers) s.headers.push_back(h);
  Signature sig = SignV4(s, credentials, SigningScope{region, "s3", now});

  HttpRequest out;
  out.method = r.method;
  out.url = endpoint.scheme + "://" + host + UriEncode(path, true);
  std::string query = CanonicalQueryString(r.query);
  if (!query.empty()) out.url += "?" + query;
  out.headers = std::move(s.headers);
  out.headers.emplace_back("Authorization", std::move(sig.authorization));
  return out;
}

Status S3Client::AnnotateTransportError(const Status& s) const {
  // The transport says what failed; the hint says which setting to check.
  std::string hint;
  if (s.message().starts_with("cannot connect")) {
    hint = "check S3_ENDPOINT_URL and that the server is running";
  } else if (s.message().starts_with("cannot resolve")) {
    hint = options_.endpoint.empty() ? "check AWS_REGION, S3_BACKUP_BUCKET and DNS"
                                     : "check S3_ENDPOINT_URL and DNS";
  } else if (s.message().starts_with("timed out")) {
    hint =
        "check S3_ENDPOINT_URL and the network; BACKUP_S3_CONNECT_TIMEOUT and "
        "BACKUP_S3_STALL_TIMEOUT set the limits";
  }
  if (hint.empty()) return s;
  return Status(s.code(), s.message() + " (" + hint + ")", s.retryable());
}

std::chrono::milliseconds S3Client::Backoff(int retry) {
  int64_t cap = options_.retry_base_delay.count();
  for (int i = 0; i < retry && cap < options_.retry_max_delay.count(); ++i) cap *= 2;
  cap = std::min<int64_t>(cap, options_.retry_max_delay.count());
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, cap)(rng_));
}

Result<std::unique_ptr<HttpResponseStream>> S3Client::OpenOnce(const S3Request& r,
                                                               std::string_view payload_sha256,
                                                               Reader* body, Hints* hints) {
  *hints = Hints{};
  DBB_ASSIGN_OR_RETURN(Credentials credentials, CurrentCredentials());
  if (r.attempts_sent != nullptr) ++*r.attempts_sent;
  const std::chrono::system_clock::time_point signed_at = SigningTime();
  HttpRequest req = BuildHttpRequest(r, payload_sha256, signed_at, credentials);
  if (body != nullptr) {
    req.body = body;
    req.body_length = r.body.size();
  }
  Result<std::unique_ptr<HttpResponseStream>> sent = transport_->Send(req);
  if (!sent.ok()) return AnnotateTransportError(sent.status());
  std::unique_ptr<HttpResponseStream> stream = std::move(sent).value();
  const int status = stream->status();
  if (Is2xx(status) || std::count(r.accept_statuses.begin(), r.accept_statuses.end(), status)) {
    return stream;
  }
  // An error: its body is a small XML document worth reading for <Code>.
  std::string body_text;
  char buf[8192];
  while (body_text.size() < (1 << 20)) {
    Result<size_t> n = stream->Read(buf, sizeof(buf));
    if (!n.ok() || *n == 0) break;
    body_text.append(buf, *n);
  }
  const std::optional<S3ErrorBody> err = ParseErrorBody(body_text);
  const std::string code = err ? err->code : "";
  hints->expired_token = code == "ExpiredToken" || code == "TokenRefreshRequired";
  // AWS names the bucket's region in a header (always on HEAD, which has no
  // body) or in <Region>; a 400 of any other code is not about the region.
  if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
      code == "TemporaryRedirect" || status == 301 || status == 307 ||
      (status == 400 && code.empty())) {
    std::string region = stream->Header("x-amz-bucket-region").value_or("");
    if (region.empty() && err) region = err->region;
    if (region != SigningRegion()) hints->region = region;
  }
  std::optional<int64_t> server_date;
  if (auto date = stream->Header("date")) server_date = ParseHttpDate(*date);
  if (server_date && (code == "RequestTimeTooSkewed" || status == 403)) {
    auto server_time = std::chrono::system_clock::from_time_t(*server_date);
    if (code == "RequestTimeTooSkewed" || server_time - signed_at > kMaxSkew ||
        signed_at - server_time > kMaxSkew) {
      hints->server_time = server_time;
    }
  }
  return MapErrorResponse(status, stream->headers(), body_text,
                          RequestContext{r.action, options_.bucket, r.key, options_.region});
}

std::string S3Client::PayloadHash(const S3Request& r) const {
  return options_.unsigned_payload ? "UNSIGNED-PAYLOAD" : Sha256Hex(r.body);
}

Result<std::unique_ptr<HttpResponseStream>> S3Client::Open(const S3Request& r) {
  const std::string payload_sha256 = PayloadHash(r);
  Recovery recovery;
  for (int attempt = 1;; ++attempt) {
    ViewReader body(r.body);
    Hints hints;
    Result<std::unique_ptr<HttpResponseStream>> res = OpenOnce(
        r, payload_sha256, r.method == "GET" || r.method == "HEAD" ? nullptr : &body, &hints);
    if (!res.ok() && Recover(hints, &recovery)) {
      --attempt;  // the corrected retry does not count
      continue;
    }
    if (res.ok() || !res.status().retryable() || attempt >= options_.max_attempts) return res;
    std::chrono::milliseconds delay = Backoff(attempt - 1);
    LogRetry(r, attempt, res.status(), delay);
    clock_.Sleep(delay);
  }
}

// Transient failures are expected and retried; they are noise unless asked
// for (-v). A request that finally fails reports its last error once.
void S3Client::LogRetry(const S3Request& r, int attempt, const Status& failure,
                        std::chrono::milliseconds delay) const {
  log::Debug("s3: " + r.method + " " + ResourceArn(options_.bucket, r.key) + " attempt " +
             std::to_string(attempt) + "/" + std::to_string(options_.max_attempts) + " failed: " +
             failure.message() + "; retrying in " + std::to_string(delay.count()) + " ms");
}

Result<HttpResponse> S3Client::Call(const S3Request& r) {
  const std::string payload_sha256 = PayloadHash(r);
  Recovery recovery;
  for (int attempt = 1;; ++attempt) {
    ViewReader body(r.body);
    Status failure;
    Hints hints;
    Result<std::unique_ptr<HttpResponseStream>> opened = OpenOnce(
        r, payload_sha256, r.method == "GET" || r.method == "HEAD" ? nullptr : &body, &hints);
    if (!opened.ok() && Recover(hints, &recovery)) {
      --attempt;  // the corrected retry does not count
      continue;
    }
    if (!opened.ok()) {
      failure = opened.status();
    } else {
      HttpResponse response;
      response.status = (*opened)->status();
      response.headers = (*opened)->headers();
      Result<std::string> all = ReadBody(**opened);
      if (!all.ok()) {
        failure = all.status();
      } else {
        response.body = std::move(all).value();
        failure = r.check ? r.check(response) : Status::OK();
        if (failure.ok()) return response;
      }
    }
    if (!failure.retryable() || attempt >= options_.max_attempts) return failure;
    std::chrono::milliseconds delay = Backoff(attempt - 1);
    LogRetry(r, attempt, failure, delay);
    clock_.Sleep(delay);
  }
}

Status S3Client::CreateBucket() {
  S3Request r;
  r.method = "PUT";
  r.action = "s3:CreateBucket";
  std::string body;
  if (options_.region != "us-east-1") body = BuildCreateBucketConfiguration(options_.region);
  r.body = body;
  Result<HttpResponse> res = Call(r);
  if (!res.ok() && res.status().code() == StatusCode::kAlreadyExists &&
      res.status().message().find("BucketAlreadyOwnedByYou") != std::string::npos) {
    return Status::OK();
  }
  return res.status();
}

Status S3Client::DeleteBucketAndContents() {
  std::string token;
  do {
    S3Request list;
    list.action = "s3:ListBucket";
    list.query = {{"list-type", "2"}};
    if (!token.empty()) list.query.emplace_back("continuation-token", token);
    DBB_ASSIGN_OR_RETURN(HttpResponse page, Call(list));
    DBB_ASSIGN_OR_RETURN(ListObjectsV2Result parsed, ParseListObjectsV2(page.body));
    for (const ListedObject& o : parsed.objects) {
      S3Request del;
      del.method = "DELETE";
      del.action = "s3:DeleteObject";
      del.key = o.key;
      del.accept_statuses = {404};
      DBB_RETURN_IF_ERROR(Call(del).status());
    }
    token = parsed.is_truncated ? parsed.next_continuation_token : "";
  } while (!token.empty());
  S3Request r;
  r.method = "DELETE";
  r.action = "s3:DeleteBucket";
  return Call(r).status();
}

}  // namespace dbbackup::store::s3
