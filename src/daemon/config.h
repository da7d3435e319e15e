// The daemon's multi-database configuration file (`dbbackup daemon --config
// dbbackup.toml`). Without a file the seed's .env variables configure one
// database, as before.
//
//   [daemon]                      # all optional
//   listen = "127.0.0.1:8780"
//   state_dir = "/var/lib/dbbackup"
//
//   [defaults]                    # apply to every [[database]]; all optional
//   schedule = "@daily"           # BACKUP_SCHEDULE syntax (schedule.h)
//   timezone = "UTC"
//   jitter = "5m"
//   retention_days = 30
//   min_keep = 1
//   compression = "gzip"
//   webhook_url = "${SLACK_WEBHOOK}"  # alarms (webhook.h); default BACKUP_WEBHOOK_URL
//   webhook_on_success = false        # default BACKUP_WEBHOOK_ON_SUCCESS, else false
//
//   [[database]]
//   path = "/srv/app/app.db"      # required
//   name = "app"                  # default: the file name; unique
//   schedule = "@every 6h"        # and any key of [defaults]
//   bucket = "${APP_BUCKET}"      # target; unset keys come from the environment
//   prefix = "backups/app"
//   endpoint = "http://127.0.0.1:9000"
//   region = "eu-west-1"
//   local_dir = "/backups/app"
//
// "${VAR}" in any string is replaced by the environment's VAR (secrets stay
// out of the file); an unset VAR is an error. Unknown keys are errors, so a
// typo never silently falls back to a default.
//
// Thread-safety: stateless.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dbbackup::daemon {

struct DatabaseEntry {
  std::string name;
  std::string path;
  std::string schedule = "@daily";
  std::string timezone = "UTC";
  std::string jitter;  // "" = none
  std::optional<int> retention_days;
  std::optional<int> min_keep;
  std::string compression;                 // "" = the environment's
  std::string webhook_url;                 // "" = the environment's BACKUP_WEBHOOK_URL
  std::optional<bool> webhook_on_success;  // unset = the environment's
  // Target overrides ("" = the environment's).
  std::string bucket;
  std::string prefix;
  std::string endpoint;
  std::string region;
  std::string local_dir;
};

struct DaemonFileConfig {
  std::string listen;     // "" = the flag's
  std::string state_dir;  // "" = the flag's / DBBACKUP_STATE_DIR
  std::vector<DatabaseEntry> databases;
};

// Parses the file's text. kInvalidArgument "FILE: ..." for TOML syntax
// errors (with line), unknown keys, wrong types, a missing path, duplicate
// names, bad schedules, or "${VAR}" with VAR unset in `env`.
Result<DaemonFileConfig> ParseDaemonConfig(std::string_view text, const std::string& file_name,
                                           const std::map<std::string, std::string>& env);

// Replaces each "${VAR}" in `s` with env[VAR]; kInvalidArgument if unset or
// unterminated.
Result<std::string> ExpandVariables(std::string_view s,
                                    const std::map<std::string, std::string>& env);

}  // namespace dbbackup::daemon
