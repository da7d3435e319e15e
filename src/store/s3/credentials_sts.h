// STS calls that turn one identity into temporary credentials:
// AssumeRole (signed with the source credentials, SigV4 service "sts") and
// AssumeRoleWithWebIdentity (unsigned; the web identity token is the proof).
// Both are POSTs of a form body (Action=...&Version=2011-06-15&...) to the
// STS endpoint; the answer is XML (<AssumeRoleResult><Credentials>...).
//
// Messages name the role and endpoint, never the keys, session token or web
// identity token.
//
// Thread-safety: functions are safe to call concurrently if the transport is.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/s3/credentials.h"
#include "store/s3/http_transport.h"

namespace dbbackup::store::s3 {

struct StsEndpoint {
  // "scheme://host[:port]", no path. e.g. "https://sts.eu-west-1.amazonaws.com".
  std::string url;
  // Region to sign AssumeRole for.
  std::string region = "us-east-1";
};

// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
// https://sts.<region>.amazonaws.com; a trailing '/' is dropped.
StsEndpoint ResolveStsEndpoint(const EnvironmentMap& env, const std::string& region);

struct AssumeRoleRequest {
  std::string role_arn;
  std::string session_name;  // RoleSessionName; 2-64 of [\w+=,.@-]
  std::string external_id;   // optional
  int duration_seconds = 0;  // 0: STS's default (1 hour)
};

// The form body of AssumeRole, encoded (exposed for tests).
std::string AssumeRoleBody(const AssumeRoleRequest& request);

// Calls STS AssumeRole signed with `source`. Errors: kPermissionDenied when
// STS refuses (AccessDenied, InvalidClientTokenId, ...), naming the role and
// STS's error code; kUnavailable (retryable) for 5xx/throttling or when STS
// cannot be reached; kCorruption for an unreadable answer.
Result<TemporaryCredentials> AssumeRole(HttpTransport& transport, const StsEndpoint& endpoint,
                                        const Credentials& source, const AssumeRoleRequest& request,
                                        std::chrono::system_clock::time_point now);

// Calls STS AssumeRoleWithWebIdentity (unsigned) with the OIDC `token`.
// Errors as for AssumeRole.
Result<TemporaryCredentials> AssumeRoleWithWebIdentity(HttpTransport& transport,
                                                       const StsEndpoint& endpoint,
                                                       const AssumeRoleRequest& request,
                                                       std::string_view token);

// Parses <`action`Response><`action`Result><Credentials> (AccessKeyId,
// SecretAccessKey, SessionToken, Expiration). kCorruption if absent.
Result<TemporaryCredentials> ParseStsCredentials(std::string_view body, std::string_view action);

// Maps an STS error response (<ErrorResponse><Error><Code>...) to a Status
// naming `action` and `role_arn`.
Status MapStsError(int http_status, std::string_view body, std::string_view action,
                   std::string_view role_arn);

}  // namespace dbbackup::store::s3
