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
Result<std::vector<daemon::DatabaseConfig>> DatabasesFromFile(
    const daemon::DaemonFileConfig& file, const Config& base, env::Clock& clock,
    std::vector<std::unique_ptr<store::ObjectStore>>* stores) {
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
    stores->push_back(std::move(store).value());
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

int RunDaemonCommand(const CommandEnv& env, const DaemonFlags& flags) {
  // The process environment over the .env file (python-dotenv's order), for
  // BACKUP_SCHEDULE* and DBBACKUP_* and the config file's ${VAR}s.
  EnvMap penv = ProcessEnvironment();
  const std::string dotenv_path = flags.env_file.empty() ? ".env" : flags.env_file;
  if (env::PathExists(dotenv_path)) {
    auto text = env::ReadFileToString(dotenv_path);
    auto dotenv = text.ok() ? ParseDotEnv(*text) : Result<EnvMap>(text.status());
    if (!dotenv.ok()) return StartError(dotenv.status().Annotate(dotenv_path).message(), 2);
    for (const auto& [k, v] : *dotenv) penv.emplace(k, v);  // the environment wins
  }

  auto jitter = std::chrono::seconds(0);
  const std::string jitter_text = EnvOr(penv, "BACKUP_SCHEDULE_JITTER", "");
  if (!jitter_text.empty()) {
    auto j = daemon::ParseDuration(jitter_text);
    if (!j.ok()) return StartError("BACKUP_SCHEDULE_JITTER: " + j.status().message(), 2);
    jitter = *j;
  }
  auto schedule = daemon::ParseSchedule(EnvOr(penv, "BACKUP_SCHEDULE", "@daily"),
                                        EnvOr(penv, "BACKUP_SCHEDULE_TZ", "UTC"), jitter);
  if (!schedule.ok()) return StartError(schedule.status().message(), 2);
  daemon::DaemonFileConfig file;
  if (!flags.config.empty()) {
    auto text = env::ReadFileToString(flags.config);
    if (!text.ok()) {
      return StartError("cannot read --config " + flags.config + ": " + text.status().message(), 2);
    }
    auto parsed = daemon::ParseDaemonConfig(*text, flags.config, penv);
    if (!parsed.ok()) return StartError(parsed.status().message(), 2);
    file = std::move(parsed).value();
  }
  std::string listen_text = flags.listen;
  if (listen_text.empty()) listen_text = file.listen;
  if (listen_text.empty()) listen_text = "127.0.0.1:8780";
  auto listen = daemon::ParseListen(listen_text);
  if (!listen.ok()) return StartError(listen.status().message(), 2);

  std::string state_dir = flags.state_dir;
  if (state_dir.empty()) state_dir = file.state_dir;
  if (state_dir.empty()) state_dir = daemon::StateDir(EnvOr(penv, "DBBACKUP_STATE_DIR", ""));
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return StartError("cannot create state directory " + state_dir + ": " + ec.message());
  ::chmod(state_dir.c_str(), 0700);
  const std::string token_file =
      flags.token_file.empty() ? daemon::DefaultTokenFile(state_dir) : flags.token_file;
  auto token = daemon::LoadToken(EnvOr(penv, "DBBACKUP_API_TOKEN", ""), token_file, true);
  if (!token.ok()) return StartError(token.status().message());

  env::Clock& clock = *env.engine.clock;
  auto state = daemon::StateDb::Open(state_dir + "/state.db", clock.Now());
  if (!state.ok()) return StartError(state.status().message());

  std::vector<daemon::DatabaseConfig> databases;
  std::vector<std::unique_ptr<store::ObjectStore>> stores;  // outlive the runner
  if (!flags.config.empty()) {
    auto from_file = DatabasesFromFile(file, env.config, clock, &stores);
    if (!from_file.ok()) return StartError(from_file.status().message(), 2);
    databases = std::move(from_file).value();
  } else {
    daemon::DatabaseConfig db;
    db.name = std::filesystem::path(env.config.database_path).filename().string();
    db.backup.db_path = env.config.database_path;
    db.backup.temp_dir = env.config.tmp_dir;
    db.backup.compression = env.config.compression;
    db.backup.level = env.config.compression_level;
    db.backup.retention.retention_days = env.config.retention_days;
    db.backup.retention.min_keep = env.config.min_keep;
    db.schedule = *schedule;
    databases.push_back(std::move(db));
  }

  // Every line of a job carries its id, so `grep <id>` finds the whole run.
  log::SetSink([](log::Level level, std::string_view msg) {
    const char* tag = level >= log::Level::kError     ? "error: "
                      : level >= log::Level::kWarning ? "warning: "
                                                      : "";
    const std::string& id = daemon::CurrentJobId();
    std::string prefix;
    if (!id.empty() && msg.find(id) == std::string_view::npos) prefix = "job " + id + ": ";
    std::fprintf(stderr, "dbbackup: %s%s%.*s\n", tag, prefix.c_str(), static_cast<int>(msg.size()),
                 msg.data());
  });

  // Signals are taken by sigwait below; the threads started from here on
  // inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  engine::EngineContext ctx = env.engine;
  ctx.progress = nullptr;
  daemon::JobRunner runner(ctx, state->get(), databases);
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
  log::Info("daemon listening on http://" + host + ":" + std::to_string(api.port()) + " (state " +
            state_dir + ", " + std::to_string(databases.size()) + " database" +
            (databases.size() == 1 ? "" : "s") + ")");
  for (const auto& d : databases) {
    auto next = runner.NextRun(d.name);
    log::Info("database " + d.name + " (" + d.backup.db_path + "): schedule '" + d.schedule.text +
              "' " + d.schedule.zone +
              (next ? ", next backup at " + daemon::FormatTime(*next) : ""));
  }

  int sig = 0;
  sigwait(&signals, &sig);
  log::Info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
            ": taking no more jobs");
  bool finished = runner.Shutdown(std::chrono::seconds(flags.grace_seconds));
  api.Stop();
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
