#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/daemon_commands.h"
#include "common/log.h"
#include "daemon/auth.h"
#include "daemon/http_api.h"
#include "daemon/jobs.h"
#include "daemon/schedule.h"
#include "daemon/state_db.h"

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

}  // namespace

int RunDaemonCommand(const CommandEnv& env, const DaemonFlags& flags) {
  const EnvMap penv = ProcessEnvironment();

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
  auto listen = daemon::ParseListen(flags.listen);
  if (!listen.ok()) return StartError(listen.status().message(), 2);

  const std::string state_dir = flags.state_dir.empty()
                                    ? daemon::StateDir(EnvOr(penv, "DBBACKUP_STATE_DIR", ""))
                                    : flags.state_dir;
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

  daemon::DatabaseConfig db;
  db.name = std::filesystem::path(env.config.database_path).filename().string();
  db.backup.db_path = env.config.database_path;
  db.backup.temp_dir = env.config.tmp_dir;
  db.backup.compression = env.config.compression;
  db.backup.level = env.config.compression_level;
  db.backup.retention.retention_days = env.config.retention_days;
  db.backup.retention.min_keep = env.config.min_keep;
  db.schedule = *schedule;

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
  daemon::JobRunner runner(ctx, state->get(), {db});
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
            state_dir + ", database " + db.name + ", schedule '" + schedule->text + "' " +
            schedule->zone + ")");
  if (auto next = runner.NextRun(db.name)) log::Info("next backup at " + daemon::FormatTime(*next));

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
