#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/daemon_commands.h"
#include "daemon/auth.h"
#include "daemon/client.h"
#include "env/clock.h"

namespace dbbackup::cli {
namespace {

constexpr int kExitTimeout = 3;

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The client for DBBACKUP_DAEMON_URL with the token from DBBACKUP_API_TOKEN
// or the state directory's token file (none if absent: the daemon then says
// 401, or nothing answers).
Result<daemon::DaemonClient> MakeClient() {
  std::string url = Getenv("DBBACKUP_DAEMON_URL");
  if (url.empty()) url = "http://127.0.0.1:8780";
  const std::string token_file =
      daemon::DefaultTokenFile(daemon::StateDir(Getenv("DBBACKUP_STATE_DIR")));
  auto token = daemon::LoadToken(Getenv("DBBACKUP_API_TOKEN"), token_file, false);
  if (!token.ok() && token.status().code() != StatusCode::kNotFound) return token.status();
  return daemon::DaemonClient::Create(url, token.ok() ? *token : "");
}

int Fail(const Status& s, bool json) {
  std::fprintf(stderr, "dbbackup: error: %s\n", s.message().c_str());
  if (json) {
    nlohmann::json j = {{"error", s.message()}, {"code", std::string(StatusCodeName(s.code()))}};
    std::printf("%s\n", j.dump().c_str());
  }
  return 1;
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

void PrintJob(const nlohmann::json& job) {
  std::printf("Task ID: %s\n", Str(job, "id").c_str());
  std::printf("State: %s\n", Str(job, "state").c_str());
  std::printf("Kind: %s (%s)\n", Str(job, "kind").c_str(), Str(job, "database").c_str());
  for (const char* t : {"created_at", "started_at", "finished_at"}) {
    if (!Str(job, t).empty()) std::printf("  - %s: %s\n", t, Str(job, t).c_str());
  }
  if (!Str(job, "error").empty()) std::printf("Error: %s\n", Str(job, "error").c_str());
  const auto& result = job.value("result", nlohmann::json());
  if (result.is_object() && Str(job, "state") == "succeeded") {
    std::printf("Result:\n");
    for (const auto& [k, v] : result.items()) {
      std::printf("  - %s: %s\n", k.c_str(),
                  v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
    }
  }
}

}  // namespace

int RunAsyncBackupCommand(const std::string& database, bool json) {
  auto client = MakeClient();
  if (!client.ok()) return Fail(client.status(), json);
  auto job = client->SubmitJob("backup", database);
  if (!job.ok()) {
    Status s = job.status();
    if (s.code() == StatusCode::kUnavailable && s.message().starts_with("no dbbackup daemon")) {
      s = Status::Unavailable(
          "no dbbackup daemon is running at " + client->url() +
          " to take the job (--async submits backups to it); start one with `dbbackup daemon` "
          "(or set DBBACKUP_DAEMON_URL), or run `dbbackup backup` to back up now");
    }
    return Fail(s, json);
  }
  if (json) {
    std::printf("%s\n", job->dump().c_str());
  } else {
    std::printf("Task ID: %s\n", Str(*job, "id").c_str());
    std::fprintf(stderr,
                 "dbbackup: backup queued; follow it with `dbbackup status %s --wait 300`\n",
                 Str(*job, "id").c_str());
  }
  return 0;
}

int RunStatusCommand(const StatusFlags& flags, bool json) {
  auto client = MakeClient();
  if (!client.ok()) return Fail(client.status(), json);
  env::SystemClock clock;
  const auto deadline =
      clock.Monotonic() + std::chrono::milliseconds(static_cast<int64_t>(
                              std::max(0.0, flags.wait_seconds.value_or(0)) * 1000));
  nlohmann::json job;
  while (true) {
    auto got = client->GetJob(flags.id);
    if (!got.ok()) return Fail(got.status(), json);
    job = std::move(got).value();
    const std::string state = Str(job, "state");
    if (state == "succeeded" || state == "failed") break;
    if (clock.Monotonic() >= deadline) {
      if (json) {
        std::printf("%s\n", job.dump().c_str());
      } else {
        PrintJob(job);
      }
      if (flags.wait_seconds.has_value()) {
        std::fprintf(stderr, "dbbackup: error: job %s still %s after %g s\n", flags.id.c_str(),
                     state.c_str(), *flags.wait_seconds);
      }
      return kExitTimeout;
    }
    clock.Sleep(std::chrono::milliseconds(200));
  }
  if (json) {
    std::printf("%s\n", job.dump().c_str());
  } else {
    PrintJob(job);
  }
  if (Str(job, "state") == "failed") {
    std::fprintf(stderr, "dbbackup: error: job %s failed: %s\n", flags.id.c_str(),
                 Str(job, "error").c_str());
    return 1;
  }
  return 0;
}

}  // namespace dbbackup::cli
