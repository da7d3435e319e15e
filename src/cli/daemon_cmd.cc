#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "catalog/keys.h"
#include "cli/daemon_commands.h"
#include "cli/store_factory.h"
#include "common/log.h"
#include "daemon/auth.h"
#include "daemon/config.h"
#include "daemon/http_api.h"
#include "daemon/jobs.h"
#include "daemon/schedule.h"
#include "daemon/state_db.h"
#include "daemon/webhook.h"
#include "env/file_util.h"

namespace dbbackup::cli {
namespace {

std::string EnvOr(const EnvMap& env, const std::string& name, const std::string& def) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? def : it->second;
}

int StartError(const std::string& message, int code = 1) {
  std::fprintf(stderr, "dbbackup: error: %s\n", message.c_str());
  return code;
}

// The databases of a --config file, each with its own store (kept in
// `stores`, which must outlive their use).
// BACKUP_WEBHOOK_URL and BACKUP_WEBHOOK_ON_SUCCESS.
Result<daemon::WebhookTarget> WebhookFromEnv(const EnvMap& env) {
  daemon::WebhookTarget t;
  t.url = EnvOr(env, "BACKUP_WEBHOOK_URL", "");
  const std::string on_success = EnvOr(env, "BACKUP_WEBHOOK_ON_SUCCESS", "");
  if (!on_success.empty()) {
    DBB_ASSIGN_OR_RETURN(t.on_success, ParseBool("BACKUP_WEBHOOK_ON_SUCCESS", on_success));
  }
  if (!t.url.empty()) {
    DBB_RETURN_IF_ERROR(daemon::ValidateWebhookUrl(t.url).Annotate("BACKUP_WEBHOOK_URL"));
  }
  return t;
}

Result<std::vector<daemon::DatabaseConfig>> DatabasesFromFile(
    const daemon::DaemonFileConfig& file, const Config& base, const daemon::WebhookTarget& webhook,
    env::Clock& clock, std::vector<std::unique_ptr<store::ObjectStore>>* stores) {
  std::vector<daemon::DatabaseConfig> out;
  std::set<std::string> targets;
  for (const daemon::DatabaseEntry& e : file.databases) {
    Config c = base;
    c.database_path = e.path;
    if (!e.bucket.empty()) c.bucket = e.bucket;
    if (!e.endpoint.empty()) c.endpoint = e.endpoint;
    if (!e.region.empty()) c.region = e.region;
    if (!e.prefix.empty()) c.prefix = e.prefix;
    if (!e.local_dir.empty()) {
      c.local_dir = e.local_dir;
      c.local_dir_set = true;
    }
    if (!e.compression.empty()) c.compression = e.compression;
    if (e.retention_days) c.retention_days = *e.retention_days;
    if (e.min_keep) c.min_keep = *e.min_keep;
    DBB_ASSIGN_OR_RETURN(c.prefix, catalog::NormalizePrefix(c.prefix));
    Status valid = ValidateConfig(c);
    if (!valid.ok()) return valid.Annotate("database " + e.name);
    CredentialsInfo credentials;
    auto store = MakeStore(c, clock, &credentials);
    if (!store.ok()) return store.status().Annotate("database " + e.name);
    if (!credentials.source.empty()) {
      log::Info("database " + e.name + ": " + DescribeCredentials(credentials));
    }
    // Retention applies to a whole prefix: one database per target.
    const std::string target = (*store)->Describe() + "/" + c.prefix;
    if (!targets.insert(target).second) {
      return Status::InvalidArgument("database " + e.name + " shares " + target +
                                     " with another database; give each its own prefix");
    }
    daemon::DatabaseConfig d;
    d.name = e.name;
    d.backup.db_path = c.database_path;
    d.backup.temp_dir = c.tmp_dir;
    d.backup.compression = c.compression;
    d.backup.level = c.compression_level;
    d.backup.retention.retention_days = c.retention_days;
    d.backup.retention.min_keep = c.min_keep;
    auto jitter = std::chrono::seconds(0);
    if (!e.jitter.empty()) {
      DBB_ASSIGN_OR_RETURN(jitter, daemon::ParseDuration(e.jitter));
    }
    DBB_ASSIGN_OR_RETURN(d.schedule, daemon::ParseSchedule(e.schedule, e.timezone, jitter));
    d.store = store->get();
    d.prefix = c.prefix;
    d.webhook = webhook;
    if (!e.webhook_url.empty()) {
      DBB_RETURN_IF_ERROR(daemon::ValidateWebhookUrl(e.webhook_url)
                              .Annotate("database " + e.name + " webhook_url"));
      d.webhook.url = e.webhook_url;
    }
    if (e.webhook_on_success) d.webhook.on_success = *e.webhook_on_success;
    stores->push_back(std::move(store).value());
    out.push_back(std::move(d));
  }
  return out;
}

// What the daemon runs: read from the environment over ./.env (or
// --env-file) and the --config file at start, and again on SIGHUP.
struct DaemonSetup {
  EnvMap env;
  daemon::DaemonFileConfig file;
  std::vector<daemon::DatabaseConfig> databases;
  // The databases' own stores (--config); they must outlive every job that
  // uses them.
  std::vector<std::unique_ptr<store::ObjectStore>> stores;
};

// Errors are one line, for a bad setting (exit 2 at start).
Result<DaemonSetup> LoadSetup(const CommandEnv& env, const DaemonFlags& flags) {
  DaemonSetup setup;
  // The process environment over the .env file (python-dotenv's order), for
  // BACKUP_SCHEDULE*, BACKUP_WEBHOOK_*, DBBACKUP_* and the config file's
  // ${VAR}s.
  setup.env = ProcessEnvironment();
  const std::string dotenv_path = flags.env_file.empty() ? ".env" : flags.env_file;
  if (env::PathExists(dotenv_path)) {
    auto text = env::ReadFileToString(dotenv_path);
    auto dotenv = text.ok() ? ParseDotEnv(*text) : Result<EnvMap>(text.status());
    if (!dotenv.ok()) return dotenv.status().Annotate(dotenv_path);
    for (const auto& [k, v] : *dotenv) setup.env.emplace(k, v);  // the environment wins
  }
  auto jitter = std::chrono::seconds(0);
  const std::string jitter_text = EnvOr(setup.env, "BACKUP_SCHEDULE_JITTER", "");
  if (!jitter_text.empty()) {
    auto j = daemon::ParseDuration(jitter_text);
    if (!j.ok()) return j.status().Annotate("BACKUP_SCHEDULE_JITTER");
    jitter = *j;
  }
  DBB_ASSIGN_OR_RETURN(daemon::WebhookTarget webhook, WebhookFromEnv(setup.env));
  DBB_ASSIGN_OR_RETURN(
      daemon::Schedule schedule,
      daemon::ParseSchedule(EnvOr(setup.env, "BACKUP_SCHEDULE", "@daily"),
                            EnvOr(setup.env, "BACKUP_SCHEDULE_TZ", "UTC"), jitter));
  if (flags.config.empty()) {
    daemon::DatabaseConfig db;
    db.name = std::filesystem::path(env.config.database_path).filename().string();
    db.backup.db_path = env.config.database_path;
    db.backup.temp_dir = env.config.tmp_dir;
    db.backup.compression = env.config.compression;
    db.backup.level = env.config.compression_level;
    db.backup.retention.retention_days = env.config.retention_days;
    db.backup.retention.min_keep = env.config.min_keep;
    db.schedule = schedule;
    db.webhook = webhook;
    setup.databases.push_back(std::move(db));
    return setup;
  }
  auto text = env::ReadFileToString(flags.config);
  if (!text.ok()) return text.status().Annotate("cannot read --config " + flags.config);
  DBB_ASSIGN_OR_RETURN(setup.file, daemon::ParseDaemonConfig(*text, flags.config, setup.env));
  DBB_ASSIGN_OR_RETURN(setup.databases, DatabasesFromFile(setup.file, env.config, webhook,
                                                          *env.engine.clock, &setup.stores));
  return setup;
}

void LogDatabases(daemon::JobRunner& runner) {
  for (const auto& d : runner.databases()) {
    auto next = runner.NextRun(d.name);
    log::Info("database " + d.name + " (" + d.backup.db_path + "): schedule '" + d.schedule.text +
              "' " + d.schedule.zone +
              (next ? ", next backup at " + daemon::FormatTime(*next) : ""));
  }
}

}  // namespace

Status InstallDaemonLogSink(const DaemonFlags& flags) {
  auto format = log::ParseFormat(flags.log_format);
  if (!format.ok()) return Status::InvalidArgument("--log-format: " + format.status().message());
  // Every line of a job carries its id, so `grep <id>` finds the whole run.
  log::SetSink([format = *format](log::Level level, std::string_view msg) {
    const std::string line =
        log::FormatLine(format, level, msg, log::CurrentJob(), std::chrono::system_clock::now());
    std::fprintf(stderr, "%s\n", line.c_str());
  });
  return Status::OK();
}

int RunDaemonCommand(const CommandEnv& env, const DaemonFlags& flags) {
  if (Status s = InstallDaemonLogSink(flags); !s.ok()) return StartError(s.message(), 2);
  auto loaded = LoadSetup(env, flags);
  if (!loaded.ok()) return StartError(loaded.status().message(), 2);
  DaemonSetup setup = std::move(loaded).value();
  // Stores of every configuration loaded so far: a job may still use one
  // that a reload replaced.
  std::vector<std::unique_ptr<store::ObjectStore>> stores = std::move(setup.stores);

  std::string listen_text = flags.listen;
  if (listen_text.empty()) listen_text = setup.file.listen;
  if (listen_text.empty()) listen_text = "127.0.0.1:8780";
  auto listen = daemon::ParseListen(listen_text);
  if (!listen.ok()) return StartError(listen.status().message(), 2);

  std::string state_dir = flags.state_dir;
  if (state_dir.empty()) state_dir = setup.file.state_dir;
  if (state_dir.empty()) {
    state_dir = daemon::StateDir(EnvOr(setup.env, "DBBACKUP_STATE_DIR", ""));
  }
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return StartError("cannot create state directory " + state_dir + ": " + ec.message());
  ::chmod(state_dir.c_str(), 0700);
  const std::string token_file =
      flags.token_file.empty() ? daemon::DefaultTokenFile(state_dir) : flags.token_file;
  const std::string env_token = EnvOr(setup.env, "DBBACKUP_API_TOKEN", "");
  auto token = daemon::LoadToken(env_token, token_file, true);
  if (!token.ok()) return StartError(token.status().message());

  env::Clock& clock = *env.engine.clock;
  auto state = daemon::StateDb::Open(state_dir + "/state.db", clock.Now());
  if (!state.ok()) return StartError(state.status().message());

  // Signals are taken by sigwait below; the threads started from here on
  // inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  engine::EngineContext ctx = env.engine;
  ctx.progress = nullptr;
  daemon::WebhookNotifier notifier;  // outlives the runner, whose jobs it reports
  daemon::JobRunner runner(ctx, state->get(), setup.databases);
  runner.SetJobListener([&notifier](const daemon::JobRecord& job, const daemon::DatabaseConfig& d) {
    notifier.Notify(d.webhook, job);
  });
  Status started = runner.Start(true);
  if (!started.ok()) return StartError(started.message());

  daemon::HttpApiOptions api_options;
  api_options.host = listen->host;
  api_options.port = listen->port;
  api_options.token = *token;
  api_options.public_metrics = flags.public_metrics;
  daemon::HttpApi api(&runner, state->get(), ctx, api_options);
  Status listening = api.Start();
  if (!listening.ok()) {
    runner.Shutdown(std::chrono::milliseconds(0));
    return StartError(listening.message());
  }
  const std::string host =
      listen->host.find(':') != std::string::npos ? "[" + listen->host + "]" : listen->host;
  const std::string url = "http://" + host + ":" + std::to_string(api.port());
  const size_t n = setup.databases.size();
  log::Info("daemon listening on " + url + " (state " + state_dir + ", " + std::to_string(n) +
            " database" + (n == 1 ? "" : "s") + ")");
  // The token itself never goes into the log.
  log::Info("dashboard: " + url +
            "/ (asks for the API token once, or open it with #token=<token>; the token is " +
            (env_token.empty() ? "in " + token_file : std::string("DBBACKUP_API_TOKEN")) + ")");
  LogDatabases(runner);

  int sig = 0;
  while (true) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    // A bad new configuration is logged and the running one kept.
    auto reloaded = LoadSetup(env, flags);
    if (!reloaded.ok()) {
      log::Error("SIGHUP: not reloading, keeping the running configuration: " +
                 reloaded.status().message());
      continue;
    }
    for (auto& s : reloaded->stores) stores.push_back(std::move(s));
    if (reloaded->file.listen != setup.file.listen ||
        reloaded->file.state_dir != setup.file.state_dir) {
      log::Warning("SIGHUP: [daemon] listen and state_dir take effect at the next start");
    }
    runner.Reload(std::move(reloaded->databases));
    log::Info("SIGHUP: configuration reloaded");
    LogDatabases(runner);
  }
  log::Info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
            ": taking no more jobs");
  bool finished = runner.Shutdown(std::chrono::seconds(flags.grace_seconds));
  api.Stop();
  // Alarms still waiting get a bounded time, so a dead webhook never holds
  // up the exit.
  notifier.Shutdown(std::chrono::seconds(finished ? 10 : 2));
  if (!finished) {
    // The engine's Put is the commit point: the abandoned upload is not
    // visible, and its temporaries are collected by the next run.
    log::Error("the running job did not finish within " + std::to_string(flags.grace_seconds) +
               " s; exiting without it (nothing partial is visible in the store)");
    std::fflush(stderr);
    std::_Exit(0);
  }
  log::Info("daemon stopped");
  return 0;
}

}  // namespace dbbackup::cli
