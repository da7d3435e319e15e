// S3Options: everything needed to reach one bucket. Validated once, when the
// store is built (ValidateS3Options), so a bad config fails at startup and
// not halfway through a backup.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace dbbackup::store::s3 {

class CredentialsProvider;  // credentials.h

inline constexpr size_t kMiB = size_t{1} << 20;
// S3's limits on multipart uploads.
inline constexpr size_t kMinPartSize = 5 * kMiB;
inline constexpr size_t kMaxPartSize = size_t{5} << 30;
inline constexpr int kMaxParts = 10000;

struct S3Options {
  // "scheme://host[:port]" of an S3-compatible server, e.g.
  // "http://127.0.0.1:7480". No path.
  // Default: "" (AWS: https://s3.<region>.amazonaws.com).
  std::string endpoint;
  // Region to sign for.
  // Default: "us-east-1".
  std::string region = "us-east-1";
  // Bucket name. Required.
  std::string bucket;
  // Path-style (http://host/bucket/key) instead of virtual-hosted
  // (http://bucket.host/key) addressing.
  // Default: unset = path style for an endpoint whose host is an IP address
  // or "localhost", and for bucket names with dots (their virtual host would
  // not match a TLS wildcard); virtual-hosted otherwise.
  std::optional<bool> force_path_style;
  // Credentials. Never logged or included in error messages.
  // Default: "" (all three); key id and secret are required.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // Where credentials come from, asked on every request so refreshed
  // temporary credentials are picked up (credentials.h, DefaultChain in
  // credentials_chain.h). When set, the three fixed fields above are
  // ignored and may be empty; a server's ExpiredToken makes the client
  // Invalidate() it and retry the request once.
  // Default: nullptr (the fixed keys above).
  std::shared_ptr<CredentialsProvider> credentials;
  // Server-side encryption (sse.h): "AES256", "aws:kms" (with
  // sse_kms_key_id), "SSE-C" (with sse_customer_key), or "none"/"" for no
  // header.
  // Default: "AES256".
  std::string sse = "AES256";
  // KMS key for sse == "aws:kms"; empty means the bucket's default key.
  // Default: "".
  std::string sse_kms_key_id;
  // The 32 raw bytes of the SSE-C customer key for sse == "SSE-C"; sent with
  // every write, part upload, read and head of an object, and needed to read
  // the object back. Never logged or included in error messages.
  // Default: "".
  std::string sse_customer_key;
  // Size of each multipart part, and the threshold between a single PUT and
  // a multipart upload. A body of unknown size (no size_hint) can be at most
  // part_size × 10000 (52 GB at the default); with a hint, parts grow as the
  // size needs. Must be within [5 MiB, 5 GiB]. S3's minimum, because parts
  // in flight are what a backup holds in memory (4 × 5 MiB); loopback RGW
  // takes a 31 MB upload in the same 0.21-0.26 s at 5, 8, 16 or 32 MiB.
  // Default: 5 MiB.
  size_t part_size = 5 * kMiB;
  // Parts uploaded in parallel. Put() holds about concurrency ×
  // part_size bytes of memory.
  // Default: 4.
  int concurrency = 4;
  // Get() of a whole object larger than ranged_get_threshold downloads it as
  // parallel ranged GETs of get_part_size bytes, get_concurrency at a time,
  // pinned to the object's ETag (If-Match), delivered in order; it holds at
  // most get_concurrency parts in memory. 0 disables (one streaming GET).
  // 4 MiB parts keep a restore's peak RSS well under 64 MiB (8 MiB parts
  // reached 66 MiB at 1 GB).
  // Default: 32 MiB, 4 MiB, 4.
  uint64_t ranged_get_threshold = 32 * kMiB;
  size_t get_part_size = 4 * kMiB;
  int get_concurrency = 4;
  // Attempts per request (first try included) for transient failures.
  // Default: 5.
  int max_attempts = 5;
  // Backoff before retry n is uniform in [0, min(retry_max_delay,
  // retry_base_delay × 2^n)] ("full jitter").
  // Default: 200 ms and 20 s.
  std::chrono::milliseconds retry_base_delay{200};
  std::chrono::milliseconds retry_max_delay{20'000};
  // Time allowed to connect.
  // Default: 10 s.
  std::chrono::milliseconds connect_timeout{10'000};
  // A request making no progress for this long fails (and is retried).
  // Default: 60 s.
  std::chrono::milliseconds stall_timeout{60'000};
  // PEM CA bundle to trust instead of the system store.
  // Default: "".
  std::string ca_bundle;
  // Sign requests with x-amz-content-sha256: UNSIGNED-PAYLOAD instead of the
  // body's SHA-256 (saves hashing every byte; TLS and Content-MD5 still
  // protect the body). Only allowed with an https endpoint.
  // Default: false.
  bool unsigned_payload = false;
  // Permit an "http://" endpoint. Only honoured for an explicit endpoint:
  // AWS itself is always reached over https.
  // Default: false.
  bool allow_http = false;
  // Page size of List() (ListObjectsV2 max-keys); small values are for tests.
  // Default: 1000.
  int max_keys = 1000;
};

// kInvalidArgument naming the first bad field, or OK.
Status ValidateS3Options(const S3Options& options);

}  // namespace dbbackup::store::s3
