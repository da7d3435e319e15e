// Builds the ObjectStore the configuration asks for: the local directory
// store in local mode, S3 otherwise. A requested backend that cannot be built
// is an error, never a silent fallback to another.
//
// S3 credentials come from the default chain (store/s3/credentials_chain.h),
// in this order: flags; the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); .env; the shared config and
// credentials files with AWS_PROFILE (keys, or role_arn + source_profile via
// STS AssumeRole); web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN);
// container credentials; EC2 instance metadata (IMDSv2). Temporary
// credentials are refreshed before they expire, also in the daemon.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cli/config.h"
#include "env/clock.h"
#include "store/object_store.h"

namespace dbbackup::cli {

// Where the store's credentials came from, never a secret.
struct CredentialsInfo {
  // The chain's source ("environment", "profile 'prod' in ~/.aws/config: role
  // ... via STS AssumeRole ...", "EC2 instance metadata ..."); empty in
  // local mode.
  std::string source;
  // The access key id masked as MaskKeyId does; empty in local mode.
  std::string masked_key_id;
};

// "credentials: SOURCE (access key id AKIA...MPLE)", the line dbbackup logs.
std::string DescribeCredentials(const CredentialsInfo& credentials);

// `clock` must outlive the store. `credentials`, when non-null, receives
// where the S3 credentials came from.
// Errors: kInvalidArgument for configuration the user must fix (no
// credentials from any source, naming each source tried; an unusable SSE-C
// key file; a bad bucket name or endpoint); the chain's error for a
// configured credentials source that fails (STS refuses the role, ...).
Result<std::unique_ptr<store::ObjectStore>> MakeStore(const Config& config, env::Clock& clock,
                                                      CredentialsInfo* credentials = nullptr);

// "AKIA...MPLE": the first and last four characters of an access key id,
// enough to tell keys apart; "****" for ids shorter than 12 characters.
std::string MaskKeyId(std::string_view key_id);

}  // namespace dbbackup::cli
