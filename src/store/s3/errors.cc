#include "store/s3/errors.h"

#include <string>

namespace dbbackup::store::s3 {
namespace {

std::string Header(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

// Server text goes into a one-line message: no newlines, bounded length.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 300)) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return out;
}

std::string ObjectName(const RequestContext& ctx) {
  return ctx.key.empty() ? "bucket '" + ctx.bucket + "'" : "object '" + ctx.key + "'";
}

Status WrongRegion(const RequestContext& ctx, const std::string& actual) {
  if (actual.empty()) {
    return Status::FailedPrecondition("bucket '" + ctx.bucket +
                                      "' must be addressed through another endpoint or region "
                                      "(the server sent a redirect without x-amz-bucket-region; "
                                      "check the region and S3_ENDPOINT_URL)");
  }
  return Status::FailedPrecondition("bucket '" + ctx.bucket + "' is in region " + actual +
                                    " (x-amz-bucket-region), not " + ctx.region +
                                    "; set the region to " + actual);
}

Status AccessDenied(const RequestContext& ctx) {
  return Status::PermissionDenied("access denied for " + ctx.action + " on " +
                                  ResourceArn(ctx.bucket, ctx.key) +
                                  " (check that the IAM policy of these credentials allows " +
                                  ctx.action + " on that resource, and S3_BACKUP_BUCKET)");
}

Status NoSuchBucket(const RequestContext& ctx) {
  return Status::NotFound("bucket '" + ctx.bucket +
                          "' does not exist (check S3_BACKUP_BUCKET, AWS_REGION and "
                          "S3_ENDPOINT_URL)");
}

Status Transient(const std::string& what, int http_status, const RequestContext& ctx) {
  return Status(StatusCode::kUnavailable,
                what + " (HTTP " + std::to_string(http_status) + ") for " + ctx.action + " on " +
                    ResourceArn(ctx.bucket, ctx.key),
                true);
}

}  // namespace

std::string ResourceArn(std::string_view bucket, std::string_view key) {
  std::string arn = "arn:aws:s3:::" + std::string(bucket);
  if (!key.empty()) arn += "/" + std::string(key);
  return arn;
}

bool IsRetryableHttpStatus(int s) { return s == 500 || s == 502 || s == 503 || s == 504; }

Status MapS3Error(const S3ErrorBody& error, int http_status, const HeaderList& headers,
                  const RequestContext& ctx) {
  const std::string& code = error.code;
  if (code == "NoSuchBucket") return NoSuchBucket(ctx);
  if (code == "NoSuchKey") return Status::NotFound("object not found: " + ctx.key);
  if (code == "NoSuchUpload") {
    return Status::NotFound("multipart upload of '" + ctx.key +
                            "' no longer exists (aborted, completed or expired)");
  }
  if (code == "AccessDenied" || code == "AllAccessDisabled") return AccessDenied(ctx);
  if (code == "InvalidAccessKeyId") {
    return Status::PermissionDenied(
        "the access key id is not known to the server (check AWS_ACCESS_KEY_ID, and that "
        "S3_ENDPOINT_URL is the server it belongs to)");
  }
  if (code == "SignatureDoesNotMatch") {
    return Status::PermissionDenied(
        "the request signature was rejected: the secret access key does not match the access "
        "key id (check AWS_SECRET_ACCESS_KEY for stray spaces or a wrong copy)");
  }
  if (code == "ExpiredToken" || code == "TokenRefreshRequired") {
    return Status::PermissionDenied(
        "the session token has expired (refresh the temporary credentials, or unset a stale "
        "AWS_SESSION_TOKEN)");
  }
  if (code == "InvalidToken") {
    return Status::PermissionDenied(
        "the session token is malformed or invalid (check AWS_SESSION_TOKEN)");
  }
  if (code == "RequestTimeTooSkewed") {
    return Status::FailedPrecondition(
        "the local clock differs from the server's by more than 15 minutes; fix the system clock");
  }
  if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
      code == "IllegalLocationConstraintException") {
    std::string region = Header(headers, "x-amz-bucket-region");
    if (region.empty()) region = error.region;
    return WrongRegion(ctx, region);
  }
  if (code == "PreconditionFailed") {
    return Status::AlreadyExists("object already exists: " + ctx.key);
  }
  if (code == "ConditionalRequestConflict" || code == "OperationAborted") {
    return Status(StatusCode::kUnavailable,
                  "a concurrent request on " + ObjectName(ctx) + " conflicted (" + code + ")",
                  true);
  }
  if (code == "BadDigest" || code == "InvalidDigest" || code == "XAmzContentSHA256Mismatch") {
    // The body was damaged between our checksum and the server's: resend.
    return Status(StatusCode::kCorruption,
                  "the server received different bytes than were sent for " + ObjectName(ctx) +
                      " (" + code + ")",
                  true);
  }
  if (code == "SlowDown" || code == "ServiceUnavailable" || code == "Throttling") {
    return Transient("server asked to slow down (" + code + ")", http_status, ctx);
  }
  if (code == "InternalError" || code == "RequestTimeout") {
    return Transient("transient server error " + code, http_status, ctx);
  }
  if (code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists") {
    return Status::AlreadyExists("bucket '" + ctx.bucket + "' already exists (" + code + ")");
  }
  if (code == "EntityTooLarge" || code == "EntityTooSmall" || code == "InvalidPart" ||
      code == "InvalidPartOrder" || code == "InvalidArgument" || code == "InvalidRange" ||
      code == "KeyTooLongError" || code == "InvalidBucketName" || code == "MetadataTooLarge") {
    std::string m = code + " for " + ObjectName(ctx);
    if (!error.message.empty()) m += ": " + OneLine(error.message);
    return Status::InvalidArgument(m);
  }
  if (code.empty()) return MapErrorResponse(http_status, headers, "", ctx);

  std::string m = "S3 error " + code + " (HTTP " + std::to_string(http_status) + ") for " +
                  ctx.action + " on " + ResourceArn(ctx.bucket, ctx.key);
  if (!error.message.empty()) m += ": " + OneLine(error.message);
  return Status(
      IsRetryableHttpStatus(http_status) ? StatusCode::kUnavailable : StatusCode::kIOError, m,
      IsRetryableHttpStatus(http_status));
}

Status MapErrorResponse(int http_status, const HeaderList& headers, std::string_view body,
                        const RequestContext& ctx) {
  if (std::optional<S3ErrorBody> err = ParseErrorBody(body); err && !err->code.empty()) {
    return MapS3Error(*err, http_status, headers, ctx);
  }
  // No usable body (HEAD, or a proxy's HTML page): the status decides.
  switch (http_status) {
    case 301:
    case 307:
      return WrongRegion(ctx, Header(headers, "x-amz-bucket-region"));
    case 400: {
      std::string region = Header(headers, "x-amz-bucket-region");
      if (!region.empty() && region != ctx.region) return WrongRegion(ctx, region);
      return Status::InvalidArgument("bad request (HTTP 400) for " + ctx.action + " on " +
                                     ResourceArn(ctx.bucket, ctx.key));
    }
    case 403:
      return AccessDenied(ctx);
    case 404:
      if (ctx.key.empty()) return NoSuchBucket(ctx);
      return Status::NotFound("object not found: " + ctx.key);
    case 412:
      return Status::AlreadyExists("object already exists: " + ctx.key);
    default:
      break;
  }
  if (IsRetryableHttpStatus(http_status)) {
    return Transient("server error", http_status, ctx);
  }
  return Status::IOError("unexpected HTTP " + std::to_string(http_status) + " for " + ctx.action +
                         " on " + ResourceArn(ctx.bucket, ctx.key));
}

}  // namespace dbbackup::store::s3
