// The commands that run or talk to the daemon (src/daemon): `dbbackup
// daemon`, `dbbackup status`, and `dbbackup backup --async` / the seed's
// `--async-mode`.
//
// Environment (the process environment, then ./.env or --env-file, as for the
// other variables; --async and status read the process environment only):
//   BACKUP_SCHEDULE         cron expression, @daily (default), @hourly,
//                           @weekly or @every DURATION (daemon/schedule.h)
//   BACKUP_SCHEDULE_TZ      UTC (default), a fixed offset such as +02:00, or an
//                           IANA zone such as Europe/Berlin
//   BACKUP_SCHEDULE_JITTER  random delay added to each run, e.g. 5m (default 0)
//   BACKUP_WEBHOOK_URL      POST a JSON alarm here when a job fails
//                           (daemon/webhook.h; default: none)
//   BACKUP_WEBHOOK_ON_SUCCESS  true: also when one succeeds (default false)
//   DBBACKUP_STATE_DIR      state database and api-token (default ./.dbbackup-state)
//   DBBACKUP_API_TOKEN      the API token (default: the token file)
//   DBBACKUP_DAEMON_URL     where --async and status find the daemon
//                           (default http://127.0.0.1:8780)
#pragma once

#include <optional>
#include <string>

#include "cli/commands.h"

namespace dbbackup::cli {

struct DaemonFlags {
  // The global --env-file ("" = ./.env if present).
  std::string env_file;
  // TOML file listing the databases (daemon/config.h); "" = the one database
  // of the environment / .env.
  std::string config;
  std::string listen;      // default: the file's [daemon] listen, else 127.0.0.1:8780
  std::string token_file;  // default <state dir>/api-token
  std::string state_dir;   // default: the file's, DBBACKUP_STATE_DIR, ./.dbbackup-state
  int grace_seconds = 300;
  bool public_metrics = false;
  // "text" (default) or "json": one JSON object per log line.
  std::string log_format = "text";
};

struct StatusFlags {
  std::string id;
  std::optional<double> wait_seconds;
};

// Runs until SIGTERM/SIGINT, then stops taking jobs, lets a running job
// finish within the grace period (then cancels it) and exits 0. SIGHUP
// reloads the environment's schedule and webhook settings and the --config
// file; a bad new configuration is logged and the running one kept. 1 if it
// cannot start, 2 for a bad setting (schedule, zone, webhook, listen
// address, config file, --log-format).
int RunDaemonCommand(const CommandEnv& env, const DaemonFlags& flags);

// Installs the daemon's stderr log sink for flags.log_format, before anything
// is logged (the credentials line comes while the store is built), so that
// with json every line is one object. kInvalidArgument for an unknown format.
Status InstallDaemonLogSink(const DaemonFlags& flags);

// Prints the job's state and result. Exit 0 succeeded, 1 failed (or unknown
// job, or no daemon), 3 not finished (after --wait, or at once without it).
int RunStatusCommand(const StatusFlags& flags, bool json);

// Submits a backup of `database` ("" = the daemon's only database) and
// prints "Task ID: <id>" (or the job as JSON). 1 if no daemon answers, with
// how to start one.
int RunAsyncBackupCommand(const std::string& database, bool json);

}  // namespace dbbackup::cli
