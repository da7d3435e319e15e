#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "catalog/keys.h"
#include "cli/commands.h"
#include "cli/config.h"
#include "cli/daemon_commands.h"
#include "cli/progress.h"
#include "cli/store_factory.h"
#include "common/log.h"
#include "env/clock.h"
#include "env/file_util.h"

namespace dbbackup::cli {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr char kFooter[] = R"(Configuration (environment, then ./.env or --env-file; flags win):
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   S3 credentials; without
                             them: AWS_PROFILE and ~/.aws/{credentials,config} (also
                             role_arn + source_profile), AWS_WEB_IDENTITY_TOKEN_FILE +
                             AWS_ROLE_ARN, container credentials, EC2 instance metadata
  AWS_REGION                 bucket region (default us-east-1)
  S3_BACKUP_BUCKET           bucket for backups
  S3_ENDPOINT_URL            custom S3 endpoint, e.g. http://127.0.0.1:9000 (MinIO, R2,
                             Ceph); AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL work too
  S3_FORCE_PATH_STYLE        true/false (default: path style for IP/localhost endpoints)
  BACKUP_PREFIX              key prefix (default backups): <prefix>/full/YYYYMMDD_HHMMSS/<db>.gz
  BACKUP_RETENTION_DAYS      delete backups older than this (default 30; 0 keeps all)
  BACKUP_MIN_KEEP            never delete the newest N backups (default 1)
  BACKUP_SSE                 AES256 (default), aws:kms (with BACKUP_SSE_KMS_KEY_ID), SSE-C
                             (with BACKUP_SSE_CUSTOMER_KEY_FILE: 32 bytes, raw or base64) or none
  BACKUP_S3_CA_BUNDLE        PEM CA bundle for https endpoints (AWS_CA_BUNDLE works too)
  BACKUP_S3_UNSIGNED_PAYLOAD true: sign UNSIGNED-PAYLOAD instead of hashing bodies (https only)
  BACKUP_COMPRESSION         gzip (default), zstd or none; BACKUP_COMPRESSION_LEVEL
  BACKUP_TMP_DIR             where snapshots are staged (default $TMPDIR or /tmp)
  DATABASE_PATH              the SQLite database (default database.db)
  BACKUP_LOCAL_DIR           local mode store (default ./backups-local), used when no
                             bucket and no credentials are configured

Seed-compatible forms: `dbbackup` backs up, `dbbackup --list`, `dbbackup --restore [KEY]`.
Exit codes: 0 success, 1 failure, 2 usage error.)";

struct GlobalFlags {
  std::string env_file;
  std::string db;
  std::string bucket;
  std::string endpoint;
  std::string region;
  std::string prefix;
  std::string local_dir;
  std::string compression;
  std::optional<int> level;
  std::optional<int> retention_days;
  std::optional<int> min_keep;
  std::string access_key_id;
  std::string secret_access_key;
  std::string secret_access_key_file;
  std::string session_token;
  std::string profile;
  bool json = false;
  bool quiet = false;
  bool verbose = false;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "dbbackup: error: %s (see dbbackup --help)\n", message.c_str());
  return kExitUsage;
}

// Flags win over the environment and .env: a key pair given by flags
// replaces theirs whole.
Status ApplyCredentialFlags(const GlobalFlags& g, Config& c) {
  if (!g.profile.empty()) c.chain_env["AWS_PROFILE"] = g.profile;
  std::string secret = g.secret_access_key;
  if (!g.secret_access_key_file.empty()) {
    if (!secret.empty()) {
      return Status::InvalidArgument(
          "give either --aws-secret-access-key or --aws-secret-access-key-file, not both");
    }
    auto text = env::ReadFileToString(g.secret_access_key_file);
    if (!text.ok()) {
      return Status::InvalidArgument("cannot read --aws-secret-access-key-file " +
                                     g.secret_access_key_file + ": " + text.status().message());
    }
    secret = *text;
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
      secret.pop_back();
    }
  }
  if (g.access_key_id.empty() && secret.empty() && g.session_token.empty()) return Status::OK();
  if (g.access_key_id.empty() || secret.empty()) {
    return Status::InvalidArgument(
        "--aws-access-key-id needs --aws-secret-access-key(-file), and the other way round");
  }
  c.access_key_id = g.access_key_id;
  c.secret_access_key = secret;
  c.session_token = g.session_token;
  c.credential_source = "flags";
  return Status::OK();
}

// Overwrites the values of secret-bearing flags in argv, so /proc/PID/cmdline
// and `ps` stop showing them once the flags are parsed (CLI11 keeps copies).
// The value keeps its length: the kernel shows the original argv area.
void ScrubSecretArguments(int argc, char** argv) {
  static constexpr std::string_view kSecretFlags[] = {"--aws-secret-access-key",
                                                      "--aws-session-token"};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    for (std::string_view flag : kSecretFlags) {
      if (arg == flag && i + 1 < argc) {
        std::memset(argv[i + 1], '*', std::strlen(argv[i + 1]));
      } else if (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=') {
        std::memset(argv[i] + flag.size() + 1, '*', arg.size() - flag.size() - 1);
      }
    }
  }
}

// Loads the configuration: environment, then the .env file, then flags.
// Without `validate` the combination is not checked (the daemon's --config
// file completes it per database).
Result<Config> BuildConfig(const GlobalFlags& g, bool validate = true) {
  EnvMap dotenv;
  std::string dotenv_name = ".env";
  if (!g.env_file.empty()) {
    dotenv_name = g.env_file;
    auto text = env::ReadFileToString(g.env_file);
    if (!text.ok()) {
      return Status::InvalidArgument("cannot read --env-file " + g.env_file + ": " +
                                     text.status().message());
    }
    DBB_ASSIGN_OR_RETURN(dotenv, ParseDotEnv(*text));
  } else if (env::PathExists(".env")) {
    auto text = env::ReadFileToString(".env");
    if (text.ok()) {
      auto parsed = ParseDotEnv(*text);
      if (!parsed.ok()) return parsed.status().Annotate("./.env");
      dotenv = std::move(parsed).value();
    }
  }
  DBB_ASSIGN_OR_RETURN(Config c, LoadConfig(ProcessEnvironment(), dotenv, dotenv_name));
  DBB_RETURN_IF_ERROR(ApplyCredentialFlags(g, c));
  if (!g.db.empty()) c.database_path = g.db;
  if (!g.bucket.empty()) c.bucket = g.bucket;
  if (!g.endpoint.empty()) c.endpoint = g.endpoint;
  if (!g.region.empty()) c.region = g.region;
  if (!g.prefix.empty()) c.prefix = g.prefix;
  if (!g.local_dir.empty()) {
    c.local_dir = g.local_dir;
    c.local_dir_set = true;
  }
  if (!g.compression.empty()) c.compression = g.compression;
  if (g.level) c.compression_level = *g.level;
  if (g.retention_days) {
    if (*g.retention_days < 0) {
      return Status::InvalidArgument("--retention-days must be >= 0");
    }
    c.retention_days = *g.retention_days;
  }
  if (g.min_keep) {
    if (*g.min_keep < 1) return Status::InvalidArgument("--min-keep must be >= 1");
    c.min_keep = *g.min_keep;
  }
  DBB_ASSIGN_OR_RETURN(c.prefix, catalog::NormalizePrefix(c.prefix));
  if (validate) DBB_RETURN_IF_ERROR(ValidateConfig(c));
  return c;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"dbbackup: consistent, compressed, verified backups of SQLite databases to S3.",
               "dbbackup"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("dbbackup ") + DBB_VERSION);
  app.require_subcommand(0, 1);

  GlobalFlags g;
  app.add_option("--env-file", g.env_file, "Read variables from this file instead of ./.env");
  app.add_option("--db", g.db, "SQLite database (DATABASE_PATH)");
  app.add_option("--bucket", g.bucket, "S3 bucket (S3_BACKUP_BUCKET)");
  app.add_option("--endpoint", g.endpoint, "S3 endpoint URL (S3_ENDPOINT_URL)");
  app.add_option("--region", g.region, "AWS region (AWS_REGION)");
  app.add_option("--prefix", g.prefix, "Key prefix (BACKUP_PREFIX)");
  app.add_option("--local-dir", g.local_dir, "Local mode store directory (BACKUP_LOCAL_DIR)");
  app.add_option("--retention-days", g.retention_days,
                 "Delete backups older than N days (BACKUP_RETENTION_DAYS)");
  app.add_option("--min-keep", g.min_keep, "Always keep the newest N backups (BACKUP_MIN_KEEP)");
  app.add_option("--aws-access-key-id", g.access_key_id, "Access key id (AWS_ACCESS_KEY_ID)");
  app.add_option("--aws-secret-access-key", g.secret_access_key,
                 "Secret access key; visible to other users until parsed, prefer "
                 "--aws-secret-access-key-file or the environment");
  app.add_option("--aws-secret-access-key-file", g.secret_access_key_file,
                 "Read the secret access key from this file");
  app.add_option("--aws-session-token", g.session_token, "Session token (AWS_SESSION_TOKEN)");
  app.add_option("--profile", g.profile, "Profile of ~/.aws/{credentials,config} (AWS_PROFILE)");
  app.add_flag("--json", g.json, "Print one JSON document on stdout and nothing else there");
  app.add_flag("-q,--quiet", g.quiet, "Only warnings and errors on stderr");
  app.add_flag("-v,--verbose", g.verbose, "Debug logging on stderr");

  // The Python system's flag forms.
  bool seed_list = false;
  bool async_mode = false;
  std::string seed_restore_key;
  auto* seed_restore =
      app.add_option("--restore", seed_restore_key, "Restore the latest backup, or KEY")
          ->expected(0, 1);
  app.add_flag("--list", seed_list, "List backups (same as `dbbackup list`)");
  app.add_flag("--async-mode,--async", async_mode, "Submit the backup to a running daemon");

  BackupFlags backup_flags;
  auto* backup_cmd = app.add_subcommand("backup", "Back up the database now (the default)");
  backup_cmd->add_option("--db", g.db, "SQLite database (DATABASE_PATH)");
  backup_cmd->add_flag("--dry-run", backup_flags.dry_run,
                       "Snapshot, compress and verify; upload and delete nothing");
  backup_cmd->add_flag("--no-prune", backup_flags.no_prune,
                       "Skip the retention cleanup that follows a backup");
  backup_cmd->add_option("--compression", g.compression, "gzip (default), zstd or none")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
  backup_cmd->add_option("--level", g.level, "Compression level");
  backup_cmd->add_flag("--async", async_mode, "Submit the backup to a running daemon");

  auto* list_cmd = app.add_subcommand("list", "List backups, newest first");

  RestoreFlags restore_flags;
  auto* restore_cmd = app.add_subcommand(
      "restore",
      "Restore a backup (default: the latest) into DATABASE_PATH or --to; the current database "
      "is kept as <db>.pre-restore-<timestamp>");
  restore_cmd->add_option("key", restore_flags.key, "Backup key (see `dbbackup list`)");
  restore_cmd->add_option("--to", restore_flags.to, "Restore into this path instead");
  restore_cmd->add_flag("--no-safety-copy", restore_flags.no_safety_copy,
                        "Do not keep a copy of the database being replaced");

  VerifyFlags verify_flags;
  auto* verify_cmd = app.add_subcommand(
      "verify", "Check a backup (default: the latest): presence, size, metadata, checksum");
  verify_cmd->add_option("key", verify_flags.key, "Backup key");
  verify_cmd->add_flag("--deep", verify_flags.deep,
                       "Also download, decompress, compare sha256, PRAGMA integrity_check and "
                       "table/record counts");

  PruneFlags prune_flags;
  auto* prune_cmd = app.add_subcommand(
      "prune", "Delete backups older than the retention period (never the newest)");
  prune_cmd->add_flag("--dry-run", prune_flags.dry_run, "Show what would be deleted");

  DaemonFlags daemon_flags;
  auto* daemon_cmd = app.add_subcommand(
      "daemon", "Run scheduled backups (BACKUP_SCHEDULE, default @daily) and serve the job API");
  daemon_cmd->add_option("--config", daemon_flags.config,
                         "TOML file listing the databases (default: the one of DATABASE_PATH)");
  daemon_cmd->add_option("--listen", daemon_flags.listen, "HOST:PORT (default 127.0.0.1:8780)");
  daemon_cmd->add_option("--token-file", daemon_flags.token_file,
                         "API token file (default <state dir>/api-token, created 0600)");
  daemon_cmd->add_option("--state-dir", daemon_flags.state_dir,
                         "State directory (DBBACKUP_STATE_DIR, default ./.dbbackup-state)");
  daemon_cmd->add_option("--grace-period", daemon_flags.grace_seconds,
                         "Seconds a running job may take to finish after SIGTERM (default 300)");
  daemon_cmd->add_flag("--public-metrics", daemon_flags.public_metrics,
                       "Serve /metrics without the API token");
  daemon_cmd->add_option("--log-format", daemon_flags.log_format,
                         "Log lines as text (default) or json (one object per line)");

  StatusFlags status_flags;
  auto* status_cmd = app.add_subcommand(
      "status", "Show a daemon job's state and result (exit 0 ok, 1 failed, 3 not finished)");
  status_cmd->add_option("id", status_flags.id, "Task ID")->required();
  status_cmd->add_option("--wait", status_flags.wait_seconds,
                         "Wait up to SECONDS for the job to finish");

  for (CLI::App* sub :
       {backup_cmd, list_cmd, restore_cmd, verify_cmd, prune_cmd, daemon_cmd, status_cmd}) {
    sub->fallthrough();
    sub->footer(kFooter);
  }

  try {
    app.parse(argc, argv);
    ScrubSecretArguments(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    ScrubSecretArguments(argc, argv);
    return UsageError(e.what());
  }

  // Which command? Subcommand, seed flag, or the seed's default: backup.
  enum class Cmd { kBackup, kList, kRestore, kVerify, kPrune, kDaemon, kStatus } cmd = Cmd::kBackup;
  int selected = 0;
  if (list_cmd->parsed() || seed_list) cmd = Cmd::kList, ++selected;
  if (restore_cmd->parsed() || seed_restore->count() > 0) cmd = Cmd::kRestore, ++selected;
  if (verify_cmd->parsed()) cmd = Cmd::kVerify, ++selected;
  if (prune_cmd->parsed()) cmd = Cmd::kPrune, ++selected;
  if (daemon_cmd->parsed()) cmd = Cmd::kDaemon, ++selected;
  if (status_cmd->parsed()) cmd = Cmd::kStatus, ++selected;
  if (backup_cmd->parsed()) ++selected;
  if (selected > 1) {
    return UsageError("choose one of backup, list, restore, verify, prune, daemon, status");
  }
  if (seed_restore->count() > 0) restore_flags.key = seed_restore_key;
  if (async_mode) {
    if (cmd != Cmd::kBackup) return UsageError("--async-mode applies to backups only");
    return RunAsyncBackupCommand(
        g.db.empty() ? "" : std::filesystem::path(g.db).filename().string(), g.json);
  }
  if (cmd == Cmd::kStatus) return RunStatusCommand(status_flags, g.json);

  log::SetMinLevel(g.verbose ? log::Level::kDebug
                   : g.quiet ? log::Level::kWarning
                             : log::Level::kInfo);
  log::SetSink([](log::Level level, std::string_view msg) {
    const char* tag = level >= log::Level::kError     ? "error: "
                      : level >= log::Level::kWarning ? "warning: "
                                                      : "";
    std::fprintf(stderr, "dbbackup: %s%.*s\n", tag, static_cast<int>(msg.size()), msg.data());
  });
  if (cmd == Cmd::kDaemon) {
    if (Status s = InstallDaemonLogSink(daemon_flags); !s.ok()) return UsageError(s.message());
  }

  // The daemon with a --config file builds a store per database itself.
  const bool daemon_with_file = cmd == Cmd::kDaemon && !daemon_flags.config.empty();
  daemon_flags.env_file = g.env_file;
  auto config = BuildConfig(g, !daemon_with_file);
  if (!config.ok()) return UsageError(config.status().message());

  env::SystemClock clock;
  if (daemon_with_file) {
    CommandEnv denv;
    denv.config = *config;
    denv.engine.clock = &clock;
    denv.engine.prefix = config->prefix;
    return RunDaemonCommand(denv, daemon_flags);
  }
  CredentialsInfo credentials;
  auto store = MakeStore(*config, clock, &credentials);
  if (!store.ok()) {
    CommandEnv failed;
    failed.json = g.json;
    int code = ReportFailure(failed, store.status());
    // Settings the user must fix are usage errors, as in BuildConfig.
    return store.status().code() == StatusCode::kInvalidArgument ? kExitUsage : code;
  }
  if (config->LocalMode()) {
    log::Info("local mode: no S3 bucket or AWS credentials configured; using " +
              (*store)->Describe());
  } else {
    log::Info(DescribeCredentials(credentials));
  }

  ProgressLine progress(!g.json && ::isatty(STDERR_FILENO) != 0);
  CommandEnv cenv;
  cenv.config = *config;
  cenv.credentials_source = credentials.source;
  cenv.json = g.json;
  cenv.progress = &progress;
  cenv.engine.store = store->get();
  cenv.engine.clock = &clock;
  cenv.engine.prefix = config->prefix;
  cenv.engine.progress = progress.Callback();

  switch (cmd) {
    case Cmd::kBackup:
      return RunBackupCommand(cenv, backup_flags);
    case Cmd::kList:
      return RunListCommand(cenv);
    case Cmd::kRestore:
      return RunRestoreCommand(cenv, restore_flags);
    case Cmd::kVerify:
      return RunVerifyCommand(cenv, verify_flags);
    case Cmd::kPrune:
      return RunPruneCommand(cenv, prune_flags);
    case Cmd::kDaemon:
      return RunDaemonCommand(cenv, daemon_flags);
    case Cmd::kStatus:
      return kExitFailure;  // handled above, before the store is built
  }
  return kExitFailure;
}

}  // namespace dbbackup::cli
