// S3ObjectStore: the ObjectStore contract (store/object_store.h) on Amazon S3
// and S3-compatible servers (Ceph RGW, MinIO, moto), with our own client: no
// AWS SDK. Start with NewS3ObjectStore(); S3Options (s3_options.h) lists every
// setting with its default.
//
// How the contract maps onto S3:
// - Put reads the body into part_size buffers. A body that ends within the
//   first part goes up as one PutObject (Content-MD5 and signed SHA-256);
//   anything longer as a multipart upload (multipart.h), aborted on failure.
//   Either way the object appears whole or not at all. Bodies larger than
//   part_size × 10000 fail with kInvalidArgument.
// - Get streams with bounded memory; a body shorter than its Content-Length
//   fails with kIOError ("truncated"). A whole object larger than
//   S3Options::ranged_get_threshold is read as parallel ranged GETs pinned to
//   its ETag, each retried on its own (ranged_get.h).
// - Transient failures (5xx, SlowDown, resets, timeouts) are retried per
//   request with jittered backoff; errors that remain carry retryable().
// - Errors are one line naming the cause and the setting to check
//   ("access denied for s3:PutObject on arn:aws:s3:::bucket/key").
// IAM actions needed: s3:PutObject, s3:GetObject, s3:ListBucket,
// s3:DeleteObject; s3:AbortMultipartUpload is recommended (without it a
// warning asks for a lifecycle rule for incomplete multipart uploads).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "env/clock.h"
#include "store/object_store.h"
#include "store/s3/http_transport.h"
#include "store/s3/s3_client.h"
#include "store/s3/s3_options.h"

namespace dbbackup::store {

class S3ObjectStore : public ObjectStore {
 public:
  // Invalid `options` make every call fail with the validation error;
  // NewS3ObjectStore() reports it up front instead. `clock` must outlive the
  // store; it signs requests and paces retries.
  S3ObjectStore(s3::S3Options options, env::Clock& clock,
                std::unique_ptr<s3::HttpTransport> transport);

  // "s3://bucket" (plus " at ENDPOINT" for a custom endpoint).
  std::string Describe() const override;

  // HeadBucket, which needs only s3:ListBucket. kNotFound "bucket 'NAME' does
  // not exist"; kPermissionDenied naming s3:ListBucket and the bucket ARN, or
  // the rejected credential; kFailedPrecondition naming the bucket's region
  // (x-amz-bucket-region) when it is elsewhere; kUnavailable when the
  // endpoint cannot be reached.
  Status CheckReady() override;

  // Keys and metadata must pass store/validation.h (kInvalidArgument
  // otherwise), as in every backend. opts.if_none_match sends If-None-Match: *
  // (on the PUT, or on CompleteMultipartUpload); a 412 is kAlreadyExists.
  Result<ObjectInfo> Put(const std::string& key, Reader& body, const PutOptions& opts) override;

  Result<std::unique_ptr<Reader>> Get(const std::string& key,
                                      std::optional<ByteRange> range = std::nullopt) override;
  // Metadata holds every x-amz-meta-* header, lower-cased, without the prefix.
  Result<ObjectInfo> Head(const std::string& key) override;
  // ListObjectsV2 with S3Options::max_keys per page; the page token is S3's
  // continuation token.
  Result<ListPage> List(const std::string& prefix, const std::string& page_token) override;
  Status Delete(const std::string& key) override;
  // One part: larger objects are multipart ("MD5 of the part MD5s-N"). With
  // SSE-C or SSE-KMS no etag is the content's MD5.
  uint64_t Md5EtagLimit() const override;

  // The underlying client, for tests (bucket creation) and diagnostics.
  s3::S3Client& client() { return client_; }
  // The most part buffers one ranged Get held at once, over this store's life
  // (for tests of the memory bound).
  size_t ranged_get_buffers_peak() const { return ranged_get_buffers_peak_.load(); }

 private:
  Status Validate(const std::string& key) const;
  s3::HeaderList ObjectHeaders(const PutOptions& opts) const;
  Result<ObjectInfo> PutSingle(const std::string& key, std::string data, const PutOptions& opts);
  // After a 403 without a body (HEAD), asks a request that has one whether
  // the credentials themselves were rejected; returns that error, or `denied`.
  Status ExplainDenied(const Status& denied);
  // The same with the answer of a ListProbe() already made.
  Status ExplainDenied(const Status& denied, const Status& probe);
  // One-key ListObjectsV2 (needs only s3:ListBucket).
  Status ListProbe();

  const Status init_status_;
  env::Clock& clock_;
  s3::S3Client client_;
  std::atomic<bool> abort_denied_warned_{false};
  std::atomic<size_t> ranged_get_buffers_peak_{0};
};

// Builds an S3ObjectStore on a CurlTransport configured from `options`
// (timeouts, CA bundle). kInvalidArgument names the first bad option.
// `clock` must outlive the store.
// The part size for a body of `size_hint` bytes: `configured`, or larger when
// 10,000 parts of that size would not hold the body (max 5 GiB).
size_t PartSizeFor(size_t configured, std::optional<uint64_t> size_hint);

Result<std::unique_ptr<S3ObjectStore>> NewS3ObjectStore(s3::S3Options options, env::Clock& clock);

}  // namespace dbbackup::store
