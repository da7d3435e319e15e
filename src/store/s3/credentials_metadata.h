// Credentials from the machine the process runs on:
// - the container credentials endpoint (ECS, EKS Pod Identity, Greengrass):
//   GET <uri> with an optional Authorization token, answering JSON
//   {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
// - EC2 instance metadata, IMDSv2: PUT /latest/api/token for a session
//   token, then GET /latest/meta-data/iam/security-credentials/ for the role
//   name and GET .../<role> for the same JSON.
// Both endpoints are plain HTTP on link-local addresses; the transport given
// should use short timeouts (ChainOptions does: 1 s) so a machine that is
// not in a container or on EC2 fails fast.
//
// Messages name the endpoint, never the authorization token or credentials.
// Thread-safety: functions are safe to call concurrently if the transport is.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/s3/credentials.h"
#include "store/s3/http_transport.h"

namespace dbbackup::store::s3 {

// The default container endpoint host for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
inline constexpr std::string_view kContainerCredentialsHost = "http://169.254.170.2";
// The default EC2 instance metadata endpoint.
inline constexpr std::string_view kImdsEndpoint = "http://169.254.169.254";

// The container credentials URL and authorization token from the
// environment: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (wins, on
// 169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI (https anywhere, http
// only to loopback, 169.254.170.2 or 169.254.170.23, as the SDKs allow);
// token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch,
// so it is read by FetchContainerCredentials) or
// AWS_CONTAINER_AUTHORIZATION_TOKEN.
struct ContainerEndpoint {
  std::string url;
  std::string token;       // literal token, or
  std::string token_file;  // file holding it (wins)
};
// nullopt-like: kNotFound if neither URI variable is set;
// kInvalidArgument for a FULL_URI the SDKs would refuse.
Result<ContainerEndpoint> ResolveContainerEndpoint(const EnvironmentMap& env);

// Fetches credentials from the container endpoint. Errors: kUnavailable
// (retryable) if it cannot be reached or answers 5xx; kPermissionDenied for
// 401/403; kCorruption for a bad answer; kIOError if the token file cannot
// be read.
Result<TemporaryCredentials> FetchContainerCredentials(HttpTransport& transport,
                                                       const ContainerEndpoint& endpoint);

// The IMDS endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT or kImdsEndpoint,
// without a trailing '/'.
std::string ResolveImdsEndpoint(const EnvironmentMap& env);

// IMDSv2 flow against `endpoint`. Errors: kUnavailable if IMDS cannot be
// reached (not on EC2); kNotFound if the instance has no IAM role;
// kPermissionDenied if IMDS refuses the token request; kCorruption for a bad
// answer.
Result<TemporaryCredentials> FetchImdsCredentials(HttpTransport& transport,
                                                  const std::string& endpoint);

// Parses the JSON both endpoints answer. kCorruption if it is not JSON,
// lacks AccessKeyId/SecretAccessKey, or has "Code" other than "Success".
Result<TemporaryCredentials> ParseCredentialsJson(std::string_view body, std::string_view what);

}  // namespace dbbackup::store::s3
