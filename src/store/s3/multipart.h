// Multipart upload of a stream of unknown length: CreateMultipartUpload, then
// UploadPart with up to `concurrency` parts in flight, the next part read as
// soon as a worker is free, then CompleteMultipartUpload. Memory stays near
// concurrency × part_size. Each part carries its signed SHA-256, or
// Content-MD5 when the payload is unsigned (S3 checks either against the
// body); a failed part is retried on its own by S3Client, never the whole
// upload. On any failure the upload is aborted so no parts stay billed.
//
// Thread-safety: UploadMultipart may run concurrently for different keys; it
// uses worker threads of its own and joins them before returning.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/io.h"
#include "common/status.h"
#include "store/s3/s3_client.h"

namespace dbbackup::store::s3 {

struct MultipartParams {
  size_t part_size = 8 << 20;
  int concurrency = 4;
  // Sent on CreateMultipartUpload: Content-Type, x-amz-meta-*, SSE.
  HeaderList create_headers;
  // Adds If-None-Match: * to CompleteMultipartUpload.
  bool if_none_match = false;
  // S3's limit; lowered only by tests.
  int max_parts = kMaxParts;
};

struct MultipartResult {
  std::string etag;  // "<hex>-N", quotes stripped
  uint64_t size = 0;
  int parts = 0;
};

// Uploads `first` and `second` (the first two parts, already read, both
// exactly part_size bytes) and then the rest of `rest` as `key`.
// Returns kAlreadyExists if if_none_match and the key exists;
// kInvalidArgument if the stream needs more than 10000 parts; errors of the
// failing request (annotated "upload part N of KEY") or of reading `rest`.
// `abort_denied_warned` makes the warning about a denied abort appear once.
Result<MultipartResult> UploadMultipart(S3Client& client, const std::string& key, std::string first,
                                        std::string second, Reader& rest,
                                        const MultipartParams& params,
                                        std::atomic<bool>& abort_denied_warned);

}  // namespace dbbackup::store::s3
