// The default credentials chain, in the order of the AWS SDKs:
//   1. static keys the caller found (flags, environment, .env);
//   2. the shared config/credentials files, profile AWS_PROFILE (keys, or
//      role_arn + source_profile via STS AssumeRole, or role_arn +
//      web_identity_token_file);
//   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
//      (+ AWS_ROLE_SESSION_NAME) via STS AssumeRoleWithWebIdentity;
//   4. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI /
//      _FULL_URI (+ AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]);
//   5. EC2 instance metadata (IMDSv2) unless AWS_EC2_METADATA_DISABLED=true.
//
// A source that is not configured is skipped. A source that is configured
// but fails (a named AWS_PROFILE that does not exist, a role STS refuses, an
// unreadable token file) stops the chain with its error: an explicitly
// requested source never silently falls back to another identity. Only
// instance metadata, which is not configured but probed, is skipped when it
// cannot be reached.
//
// STS endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
// https://sts.<region>.amazonaws.com.
//
// Thread-safety: DefaultChain may be called from any thread; the provider it
// returns is thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "env/clock.h"
#include "store/s3/credentials.h"
#include "store/s3/http_transport.h"

namespace dbbackup::store::s3 {

struct ChainOptions {
  // The process environment (AWS_* variables). Never read with getenv.
  // Default: empty.
  EnvironmentMap env;
  // Keys found in flags, the environment or .env (the CLI's Config). Used
  // first when access_key_id is non-empty.
  // Default: empty (skipped).
  Credentials static_credentials;
  // Where static_credentials came from ("flags", "environment",
  // ".env file ./.env"), for Source().
  // Default: "static credentials".
  std::string static_source = "static credentials";
  // Home directory for ~/.aws/{credentials,config}.
  // Default: "" = env["HOME"].
  std::string home;
  // Region STS is signed for and whose regional endpoint is used (a
  // profile's own `region` wins for that profile's AssumeRole).
  // Default: "" = AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1".
  std::string region;
  // Time source for expiry and refresh, and for signing STS requests.
  // REQUIRES: non-null; must outlive the provider returned.
  env::Clock* clock = nullptr;
  // PEM CA bundle the default STS transport trusts instead of the system
  // store (the CLI passes BACKUP_S3_CA_BUNDLE / AWS_CA_BUNDLE).
  // Default: "".
  std::string ca_bundle;
  // Transport for STS calls.
  // Default: nullptr = a CurlTransport (10 s connect and stall timeouts,
  // ca_bundle).
  std::shared_ptr<HttpTransport> sts_transport;
  // Transport for the container and instance metadata endpoints.
  // Default: nullptr = a CurlTransport with 1 s connect and stall timeouts.
  std::shared_ptr<HttpTransport> metadata_transport;
  // Temporary credentials are refreshed this long before they expire.
  // Default: 5 minutes.
  std::chrono::seconds refresh_before = RefreshingCredentialsProvider::kDefaultRefreshBefore;
};

// Returns a provider for the first source (see above) that yields
// credentials; its first Get() has already succeeded, and Source() names it.
// When no source is configured: kFailedPrecondition with one line listing
// what was tried ("no AWS credentials found (tried: static: not set;
// profile 'default': not in ~/.aws/credentials or ~/.aws/config; ...)").
// A configured source that fails returns its error (code kept).
// REQUIRES: options.clock != nullptr.
Result<std::unique_ptr<CredentialsProvider>> DefaultChain(const ChainOptions& options);

// The provider for one profile of the shared files (keys, or an assumed
// role, recursively through source_profile). kNotFound if the files lack the
// profile; kFailedPrecondition for a profile without usable settings
// (credential_process and SSO are not supported) or a source_profile cycle.
// Does not call Get().
Result<std::unique_ptr<CredentialsProvider>> NewProfileProvider(const ChainOptions& options,
                                                                const std::string& profile);

}  // namespace dbbackup::store::s3
