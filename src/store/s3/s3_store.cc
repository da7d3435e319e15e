#include "store/s3/s3_store.h"

#include <algorithm>
#include <cstdlib>

#include "store/s3/crypto.h"
#include "store/s3/curl_transport.h"
#include "store/s3/multipart.h"
#include "store/s3/ranged_get.h"
#include "store/s3/sse.h"
#include "store/s3/xml.h"
#include "store/validation.h"

namespace dbbackup::store {
namespace {

using s3::HeaderList;
using s3::HttpResponse;
using s3::HttpResponseStream;
using s3::S3Request;

constexpr std::string_view kMetaPrefix = "x-amz-meta-";

// Get's reader: streams the response and insists on Content-Length bytes, so
// a cut connection never looks like a shorter object. When the stream breaks
// with a retryable error it resumes where it stopped: a ranged GET of the
// rest, pinned to the ETag with If-Match (so a replaced object fails instead
// of splicing two versions), up to max_attempts - 1 times.
class ObjectReader : public Reader {
 public:
  // `request` is the GET without its Range; `offset` where the stream starts.
  ObjectReader(std::unique_ptr<HttpResponseStream> stream, std::string key, s3::S3Client& client,
               S3Request request, uint64_t offset)
      : stream_(std::move(stream)),
        key_(std::move(key)),
        client_(client),
        request_(std::move(request)),
        offset_(offset),
        etag_(stream_->Header("etag").value_or("")) {
    if (auto len = stream_->Header("content-length")) {
      expected_ = std::strtoull(len->c_str(), nullptr, 10);
    }
  }

  Result<size_t> Read(void* buf, size_t n) override {
    for (;;) {
      if (!sticky_.ok()) return sticky_;
      Status failure;
      Result<size_t> k = stream_->Read(buf, n);
      if (!k.ok()) {
        failure = k.status().Annotate("reading " + key_);
      } else {
        got_ += *k;
        if (*k > 0 || n == 0 || !expected_ || got_ >= *expected_) return k;
        failure = Status(StatusCode::kIOError,
                         "reading " + key_ + ": truncated: got " + std::to_string(got_) + " of " +
                             std::to_string(*expected_) + " bytes",
                         true);
      }
      if (!failure.retryable() || !Resume()) sticky_ = failure;
    }
  }

 private:
  // Reopens the stream at the first byte not yet read; false if it cannot.
  bool Resume() {
    if (!expected_ || etag_.empty() || ++resumes_ >= client_.options().max_attempts) {
      return false;
    }
    S3Request r = request_;
    r.headers.emplace_back("If-Match", etag_);
    r.headers.emplace_back("Range", "bytes=" + std::to_string(offset_ + got_) + "-" +
                                        std::to_string(offset_ + *expected_ - 1));
    r.accept_statuses = {412};
    Result<std::unique_ptr<HttpResponseStream>> reopened = client_.Open(r);
    if (!reopened.ok()) {
      sticky_ = reopened.status().Annotate("resuming " + key_);
      return true;
    }
    if ((*reopened)->status() != 206) {
      sticky_ = (*reopened)->status() == 412
                    ? Status::FailedPrecondition("object '" + key_ +
                                                 "' was replaced while it was being downloaded "
                                                 "(its ETag changed); try again")
                    : Status::IOError("resuming " + key_ + ": the server ignored the Range (HTTP " +
                                      std::to_string((*reopened)->status()) + ")");
      return true;
    }
    stream_ = std::move(reopened).value();
    offset_ += got_;
    *expected_ -= got_;
    got_ = 0;
    return true;
  }

  std::unique_ptr<HttpResponseStream> stream_;
  std::string key_;
  s3::S3Client& client_;
  const S3Request request_;
  uint64_t offset_;
  const std::string etag_;
  std::optional<uint64_t> expected_;
  uint64_t got_ = 0;
  int resumes_ = 0;
  Status sticky_;
};

ObjectInfo InfoFromHeaders(const std::string& key, const HeaderList& headers) {
  ObjectInfo info;
  info.key = key;
  for (const auto& [name, value] : headers) {
    if (name == "content-length") {
      info.size = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "etag") {
      info.etag = s3::StripQuotes(value);
    } else if (name == "last-modified") {
      info.last_modified_unix = s3::ParseHttpDate(value).value_or(0);
    } else if (name.starts_with(kMetaPrefix)) {
      info.metadata[name.substr(kMetaPrefix.size())] = value;
    }
  }
  return info;
}

}  // namespace

S3ObjectStore::S3ObjectStore(s3::S3Options options, env::Clock& clock,
                             std::unique_ptr<s3::HttpTransport> transport)
    : init_status_(s3::ValidateS3Options(options)),
      clock_(clock),
      client_(std::move(options), clock, std::move(transport)) {}

std::string S3ObjectStore::Describe() const {
  const s3::S3Options& o = client_.options();
  std::string d = "s3://" + o.bucket;
  if (!o.endpoint.empty()) d += " at " + o.endpoint;
  return d;
}

Status S3ObjectStore::Validate(const std::string& key) const {
  DBB_RETURN_IF_ERROR(init_status_);
  // The same key rules as every other backend, though S3 would take more.
  return ValidateKey(key);
}

Status S3ObjectStore::ListProbe() {
  S3Request probe;
  probe.action = "s3:ListBucket";
  probe.query = {{"list-type", "2"}, {"max-keys", "1"}};
  return client_.Call(probe).status();
}

Status S3ObjectStore::ExplainDenied(const Status& denied) {
  // ListObjectsV2 needs s3:ListBucket, like HeadBucket, and answers with an
  // <Error> body that says whether the key id or the signature was wrong.
  return ExplainDenied(denied, ListProbe());
}

Status S3ObjectStore::ExplainDenied(const Status& denied, const Status& probe) {
  if (!probe.ok() && probe.code() == StatusCode::kPermissionDenied &&
      probe.message().find("check AWS_") != std::string::npos) {
    return probe;
  }
  return denied;
}

Status S3ObjectStore::CheckReady() {
  DBB_RETURN_IF_ERROR(init_status_);
  S3Request r;
  r.method = "HEAD";
  r.action = "s3:ListBucket";
  Result<HttpResponse> res = client_.Call(r);
  if (!res.ok() && res.status().code() == StatusCode::kPermissionDenied) {
    // Some servers (moto) judge HeadBucket by a permission of its own that a
    // policy granting s3:ListBucket does not give; a list that works means
    // the bucket is usable with the seed's policy.
    Status probe = ListProbe();
    if (probe.ok()) return Status::OK();
    return ExplainDenied(res.status(), probe);
  }
  return res.status();
}

HeaderList S3ObjectStore::ObjectHeaders(const PutOptions& opts) const {
  const s3::S3Options& o = client_.options();
  HeaderList h;
  h.emplace_back("Content-Type",
                 opts.content_type.empty() ? "application/octet-stream" : opts.content_type);
  for (auto& header : s3::SseWriteHeaders(o)) h.push_back(std::move(header));
  for (const auto& [k, v] : opts.metadata) h.emplace_back(std::string(kMetaPrefix) + k, v);
  return h;
}

Result<ObjectInfo> S3ObjectStore::PutSingle(const std::string& key, std::string data,
                                            const PutOptions& opts) {
  S3Request r;
  r.method = "PUT";
  r.action = "s3:PutObject";
  r.key = key;
  r.headers = ObjectHeaders(opts);
  r.headers.emplace_back("Content-MD5", s3::Base64Encode(s3::Md5(data)));
  if (opts.if_none_match) r.headers.emplace_back("If-None-Match", "*");
  r.body = data;
  int attempts = 0;
  r.attempts_sent = &attempts;
  Result<HttpResponse> res = client_.Call(r);
  if (!res.ok() && opts.if_none_match && res.status().code() == StatusCode::kAlreadyExists &&
      attempts > 1) {
    // A retry after an attempt whose answer was lost finds that attempt's
    // object: the same bytes (the ETag of a single PUT is their MD5) are
    // success, not a conflict. A first attempt's 412 always is one.
    Result<ObjectInfo> existing = Head(key);
    if (existing.ok() && existing->size == data.size() &&
        existing->etag == s3::HexEncode(s3::Md5(data))) {
      return existing;
    }
  }
  if (!res.ok()) return res.status();
  ObjectInfo info;
  info.key = key;
  info.size = data.size();
  info.etag = s3::StripQuotes(res->Header("etag").value_or(""));
  return info;
}

uint64_t S3ObjectStore::Md5EtagLimit() const {
  const s3::S3Options& o = client_.options();
  if (o.sse == "SSE-C" || o.sse == "aws:kms") return 0;
  // Put() sends anything up to one configured part as a single PUT.
  return o.part_size;
}

size_t PartSizeFor(size_t configured, std::optional<uint64_t> size_hint) {
  if (!size_hint) return configured;
  // ceil(size / 10000), rounded up to a whole MiB, never below the configured size.
  uint64_t needed = (*size_hint + s3::kMaxParts - 1) / s3::kMaxParts;
  needed = (needed + s3::kMiB - 1) / s3::kMiB * s3::kMiB;
  return static_cast<size_t>(
      std::min<uint64_t>(s3::kMaxPartSize, std::max<uint64_t>(configured, needed)));
}

Result<ObjectInfo> S3ObjectStore::Put(const std::string& key, Reader& body,
                                      const PutOptions& opts) {
  DBB_RETURN_IF_ERROR(Validate(key));
  DBB_RETURN_IF_ERROR(ValidateMetadata(opts.metadata));
  const size_t part_size = PartSizeFor(client_.options().part_size, opts.size_hint);

  std::string first(part_size, '\0');
  DBB_ASSIGN_OR_RETURN(size_t n, ReadFull(body, first.data(), first.size()));
  first.resize(n);
  std::string second;
  if (n == part_size) {
    second.resize(part_size);
    DBB_ASSIGN_OR_RETURN(size_t m, ReadFull(body, second.data(), second.size()));
    second.resize(m);
  }

  Result<ObjectInfo> info = Status::IOError("unreachable");
  if (second.empty()) {
    info = PutSingle(key, std::move(first), opts);
  } else {
    s3::MultipartParams params;
    params.part_size = part_size;
    params.concurrency = client_.options().concurrency;
    params.create_headers = ObjectHeaders(opts);
    params.if_none_match = opts.if_none_match;
    Result<s3::MultipartResult> mp = s3::UploadMultipart(
        client_, key, std::move(first), std::move(second), body, params, abort_denied_warned_);
    if (!mp.ok()) return mp.status();
    ObjectInfo o;
    o.key = key;
    o.size = mp->size;
    o.etag = mp->etag;
    info = std::move(o);
  }
  if (!info.ok()) return info.status();
  info->metadata = opts.metadata;
  info->last_modified_unix =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  return info;
}

Result<std::unique_ptr<Reader>> S3ObjectStore::Get(const std::string& key,
                                                   std::optional<ByteRange> range) {
  DBB_RETURN_IF_ERROR(Validate(key));
  S3Request r;
  r.action = "s3:GetObject";
  r.key = key;
  if (range) {
    if (range->length && *range->length == 0) {
      // HTTP cannot express an empty range; still report a missing object.
      DBB_RETURN_IF_ERROR(Head(key).status());
      return std::unique_ptr<Reader>(std::make_unique<StringReader>(""));
    }
    std::string spec = "bytes=" + std::to_string(range->offset) + "-";
    if (range->length) spec += std::to_string(range->offset + *range->length - 1);
    r.headers.emplace_back("Range", spec);
  }
  for (auto& header : s3::SseCustomerHeaders(client_.options())) r.headers.push_back(header);
  DBB_ASSIGN_OR_RETURN(std::unique_ptr<HttpResponseStream> stream, client_.Open(r));
  const s3::S3Options& o = client_.options();
  const uint64_t size =
      std::strtoull(stream->Header("content-length").value_or("0").c_str(), nullptr, 10);
  const std::string etag = s3::StripQuotes(stream->Header("etag").value_or(""));
  if (!range && stream->status() == 200 && o.ranged_get_threshold > 0 &&
      size > o.ranged_get_threshold && !etag.empty()) {
    s3::RangedGetParams p;
    p.key = key;
    p.etag = etag;
    p.size = size;
    p.part_size = o.get_part_size;
    p.concurrency = o.get_concurrency;
    p.headers = r.headers;
    p.buffers_peak = &ranged_get_buffers_peak_;
    return std::unique_ptr<Reader>(
        std::make_unique<s3::RangedGetReader>(client_, std::move(p), std::move(stream)));
  }
  S3Request plain = r;
  std::erase_if(plain.headers, [](const auto& h) { return h.first == "Range"; });
  return std::unique_ptr<Reader>(std::make_unique<ObjectReader>(
      std::move(stream), key, client_, std::move(plain), range ? range->offset : 0));
}

Result<ObjectInfo> S3ObjectStore::Head(const std::string& key) {
  DBB_RETURN_IF_ERROR(Validate(key));
  S3Request r;
  r.method = "HEAD";
  r.action = "s3:GetObject";
  r.key = key;
  r.headers = s3::SseCustomerHeaders(client_.options());
  Result<HttpResponse> res = client_.Call(r);
  if (!res.ok()) {
    Status failure = res.status();
    if (failure.code() == StatusCode::kPermissionDenied) {
      failure = ExplainDenied(failure);
      if (failure.message().find("check AWS_") != std::string::npos) return failure;
    }
    return s3::ExplainSseReadError(client_.options(), failure);
  }
  return InfoFromHeaders(key, res->headers);
}

Result<ListPage> S3ObjectStore::List(const std::string& prefix, const std::string& page_token) {
  DBB_RETURN_IF_ERROR(init_status_);
  S3Request r;
  r.action = "s3:ListBucket";
  r.query = {{"list-type", "2"}, {"max-keys", std::to_string(client_.options().max_keys)}};
  if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
  if (!page_token.empty()) r.query.emplace_back("continuation-token", page_token);
  DBB_ASSIGN_OR_RETURN(HttpResponse res, client_.Call(r));
  DBB_ASSIGN_OR_RETURN(s3::ListObjectsV2Result parsed, s3::ParseListObjectsV2(res.body));
  ListPage page;
  for (s3::ListedObject& o : parsed.objects) {
    ObjectInfo info;
    info.key = std::move(o.key);
    info.size = o.size;
    info.etag = std::move(o.etag);
    info.last_modified_unix = o.last_modified_unix;
    page.objects.push_back(std::move(info));
  }
  if (parsed.is_truncated) page.next_page_token = std::move(parsed.next_continuation_token);
  return page;
}

Status S3ObjectStore::Delete(const std::string& key) {
  DBB_RETURN_IF_ERROR(Validate(key));
  S3Request r;
  r.method = "DELETE";
  r.action = "s3:DeleteObject";
  r.key = key;
  r.accept_statuses = {404};
  DBB_ASSIGN_OR_RETURN(HttpResponse res, client_.Call(r));
  if (res.status == 404) {
    // A missing key is fine; a missing bucket is not.
    std::optional<s3::S3ErrorBody> err = s3::ParseErrorBody(res.body);
    if (err && err->code == "NoSuchBucket") {
      return s3::MapS3Error(*err, res.status, res.headers, client_.Context(r.action, key));
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<S3ObjectStore>> NewS3ObjectStore(s3::S3Options options, env::Clock& clock) {
  DBB_RETURN_IF_ERROR(s3::ValidateS3Options(options));
  s3::CurlTransportOptions t;
  t.connect_timeout = options.connect_timeout;
  t.stall_timeout = options.stall_timeout;
  t.ca_bundle = options.ca_bundle;
  t.max_idle_handles = static_cast<size_t>(options.concurrency) + 4;
  auto transport = std::make_unique<s3::CurlTransport>(std::move(t));
  return std::make_unique<S3ObjectStore>(std::move(options), clock, std::move(transport));
}

}  // namespace dbbackup::store
