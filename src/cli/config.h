// Configuration: the Python system's variables, from the environment and a
// .env file (the environment wins, as python-dotenv does), overridden by
// flags. Parsing is pure: the caller passes the process environment in, so
// tests need no setenv.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace dbbackup::cli {

using EnvMap = std::map<std::string, std::string>;

// Parses .env text: KEY=VALUE lines, optional `export `, # comments, single
// or double quotes (double quotes understand \n, \" and \\), trailing
// " # comment" after unquoted values. kInvalidArgument names the line.
Result<EnvMap> ParseDotEnv(const std::string& text);

// A boolean variable: 1/true/yes/on or 0/false/no/off (any case);
// kInvalidArgument "invalid NAME 'VALUE': expected true or false" otherwise.
Result<bool> ParseBool(const std::string& name, const std::string& value);

struct Config {
  // AWS
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string region = "us-east-1";
  std::string bucket;                    // S3_BACKUP_BUCKET
  std::string endpoint;                  // S3_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
  std::optional<bool> force_path_style;  // S3_FORCE_PATH_STYLE; default: per endpoint
  std::string sse = "AES256";            // BACKUP_SSE: AES256, aws:kms, SSE-C, none
  std::string sse_kms_key_id;            // BACKUP_SSE_KMS_KEY_ID
  std::string sse_customer_key_file;     // BACKUP_SSE_CUSTOMER_KEY_FILE (SSE-C)
  std::string ca_bundle;                 // BACKUP_S3_CA_BUNDLE, else AWS_CA_BUNDLE
  bool unsigned_payload = false;         // BACKUP_S3_UNSIGNED_PAYLOAD (https only)
  // The variables the credentials chain reads (AWS_PROFILE, AWS_ROLE_ARN,
  // AWS_CONTAINER_*, HOME, ...): .env's, overridden by the environment's,
  // overridden by flags (--profile).
  EnvMap chain_env;
  // S3 request resilience; 0 = the client's default (s3_options.h).
  int s3_max_attempts = 0;       // BACKUP_S3_MAX_ATTEMPTS (first try included)
  int s3_connect_timeout_s = 0;  // BACKUP_S3_CONNECT_TIMEOUT, seconds
  int s3_stall_timeout_s = 0;    // BACKUP_S3_STALL_TIMEOUT, seconds without progress
  // Backups
  std::string database_path = "database.db";  // DATABASE_PATH
  std::string prefix = "backups";             // BACKUP_PREFIX
  int retention_days = 30;                    // BACKUP_RETENTION_DAYS (0 = keep forever)
  int min_keep = 1;                           // BACKUP_MIN_KEEP
  std::string compression = "gzip";           // BACKUP_COMPRESSION
  int compression_level = -1;                 // BACKUP_COMPRESSION_LEVEL
  std::string local_dir = "./backups-local";  // BACKUP_LOCAL_DIR
  std::string tmp_dir;                        // BACKUP_TMP_DIR (default $TMPDIR or /tmp)
  // Where the static keys above came from ("environment", ".env file
  // PATH", "flags"); never the secret itself. Empty without static keys.
  std::string credential_source;
  bool local_dir_set = false;

  // No bucket and no static credentials: the local directory store. (With a
  // bucket, credentials come from the chain: store_factory.h.)
  bool LocalMode() const { return bucket.empty() && access_key_id.empty(); }
};

// Builds the configuration from `env` (the process environment) and
// `dotenv` (the .env file's variables; the environment wins). Returns
// kInvalidArgument naming the variable for malformed values.
Result<Config> LoadConfig(const EnvMap& env, const EnvMap& dotenv,
                          const std::string& dotenv_name = ".env");

// The process environment as an EnvMap.
EnvMap ProcessEnvironment();

// Checks the combination is usable (bucket with credentials, ...).
Status ValidateConfig(const Config& config);

}  // namespace dbbackup::cli
