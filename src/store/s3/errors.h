// Turns S3 error responses into Status values a user can act on: one line
// that names the cause and what to check, e.g.
//   bucket 'backups' does not exist
//   access denied for s3:PutObject on arn:aws:s3:::backups/db1/full.zst
//   the secret access key was rejected (check AWS_SECRET_ACCESS_KEY)
// and sets the retryable bit for transient failures (5xx, SlowDown,
// RequestTimeout, InternalError). Decisions rest on <Code> and the HTTP
// status, never on <Message>: Ceph RGW sends it empty.
//
// Messages never include credentials or signatures.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/s3/sigv4.h"
#include "store/s3/xml.h"

namespace dbbackup::store::s3 {

// What a request was for, to name it in messages.
struct RequestContext {
  std::string action;  // IAM action name, e.g. "s3:PutObject"
  std::string bucket;
  std::string key;     // empty for bucket-level requests
  std::string region;  // the region the client signs for
};

// "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key".
std::string ResourceArn(std::string_view bucket, std::string_view key);

// Maps a response with a non-2xx status (or a 200 whose body is an <Error>)
// to a non-OK Status. `body` may be empty (HEAD responses have none); the
// HTTP status alone then decides.
Status MapErrorResponse(int http_status, const HeaderList& headers, std::string_view body,
                        const RequestContext& ctx);

// The same, for an already parsed <Error>.
Status MapS3Error(const S3ErrorBody& error, int http_status, const HeaderList& headers,
                  const RequestContext& ctx);

// True for HTTP statuses worth retrying regardless of body: 500, 502, 503, 504.
bool IsRetryableHttpStatus(int http_status);

}  // namespace dbbackup::store::s3
