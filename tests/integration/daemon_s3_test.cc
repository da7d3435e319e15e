// `dbbackup daemon` end to end: the real binary against Ceph RGW (owner
// credentials, a fresh bucket per test), on a free loopback port, with
// schedules of a few seconds. Every wait is on a condition, never a fixed
// sleep; daemons are stopped by pid (BackgroundProcess).
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "daemon/httplib_adapter.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/daemon_process.h"
#include "testing/process.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

std::vector<nlohmann::json> WithTrigger(const std::vector<nlohmann::json>& jobs,
                                        const std::string& trigger) {
  std::vector<nlohmann::json> out;
  for (const auto& j : jobs) {
    if (j["trigger"] == trigger) out.push_back(j);
  }
  return out;
}

// No two jobs' [started_at, finished_at] intervals overlap (ISO strings of
// second resolution compare as times; equal ends are allowed).
::testing::AssertionResult NoOverlap(std::vector<nlohmann::json> jobs) {
  std::erase_if(jobs, [](const nlohmann::json& j) { return !j["started_at"].is_string(); });
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) {
    return a["started_at"].template get<std::string>() <
           b["started_at"].template get<std::string>();
  });
  for (size_t i = 1; i < jobs.size(); ++i) {
    if (!jobs[i - 1]["finished_at"].is_string()) {
      return ::testing::AssertionFailure() << "job still running while another started";
    }
    if (jobs[i - 1]["finished_at"].get<std::string>() > jobs[i]["started_at"].get<std::string>()) {
      return ::testing::AssertionFailure() << "overlap: " << jobs[i - 1] << " and " << jobs[i];
    }
  }
  return ::testing::AssertionSuccess();
}

using DaemonS3Test = DaemonS3Fixture;

TEST_F(DaemonS3Test, ScheduledRunsHappenDoNotOverlapAndShowInMetrics) {
  MakeDb();
  // The schedule from ./.env, as the seed's other variables.
  WriteFileOrFail(box_.Path(".env"), "BACKUP_SCHEDULE=\"@every 2s\"\n");
  DaemonProcess d(box_);
  ASSERT_TRUE(d.WaitListening());
  auto [status, before] = d.Get("/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_NE(before.find("dbbackup_next_run_timestamp_seconds{database=\"app.db\"} "),
            std::string::npos)
      << before;

  ASSERT_TRUE(WaitFor(
      [&] {
        int done = 0;
        for (const auto& j : WithTrigger(d.Jobs(), "schedule")) done += j["state"] == "succeeded";
        return done >= 2;
      },
      seconds(40), std::chrono::milliseconds(200)))
      << d.process().Stderr();
  auto jobs = d.Jobs();
  EXPECT_TRUE(NoOverlap(jobs));
  for (const auto& j : jobs) EXPECT_NE(j["state"], "failed") << j;

  auto [mstatus, after] = d.Get("/metrics");
  ASSERT_EQ(mstatus, 200);
  EXPECT_NE(after.find("dbbackup_last_success_timestamp_seconds{database=\"app.db\"} "),
            std::string::npos)
      << after;
  EXPECT_NE(after.find("dbbackup_last_compressed_size_bytes{database=\"app.db\"} "),
            std::string::npos);
  EXPECT_EQ(after.find("dbbackup_backups_total{database=\"app.db\"} 0\n"), std::string::npos)
      << after;
  EXPECT_NE(before, after);

  // Every job's log lines carry its id.
  const std::string id = WithTrigger(jobs, "schedule").back()["id"];
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
  std::string log = d.process().Stderr();
  EXPECT_NE(log.find("job " + id + " (backup app.db): started"), std::string::npos) << log;
  EXPECT_NE(log.find("job " + id + " (backup app.db): succeeded"), std::string::npos) << log;
  EXPECT_GE(ListedKeys().size(), 2u);
}

TEST_F(DaemonS3Test, AsyncBackupAndStatusWait) {
  MakeDb();
  DaemonProcess d(box_);  // @daily: only our trigger runs
  ASSERT_TRUE(d.WaitListening());
  box_.Set("DBBACKUP_DAEMON_URL", d.Url());

  ProcessResult submit = box_.Run({"backup", "--async"});
  ASSERT_EQ(submit.exit_code, 0) << submit.Describe();
  std::smatch m;
  static const std::regex kTaskId(R"(^Task ID: ([a-z0-9]{12})\n$)");
  ASSERT_TRUE(std::regex_match(submit.stdout_text, m, kTaskId)) << submit.Describe();
  const std::string id = m[1];

  ProcessResult wait = box_.Run({"status", id, "--wait", "60"});
  EXPECT_EQ(wait.exit_code, 0) << wait.Describe();
  EXPECT_NE(wait.stdout_text.find("State: succeeded"), std::string::npos) << wait.Describe();

  ProcessResult json = box_.Run({"status", id, "--json"});
  nlohmann::json j;
  ASSERT_TRUE(ParseJsonStdout(json, &j)) << json.Describe();
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["state"], "succeeded");
  EXPECT_EQ(std::vector<std::string>{j["result"]["key"].get<std::string>()}, ListedKeys());

  // The seed's form.
  ProcessResult seed = box_.Run({"--async-mode"});
  EXPECT_EQ(seed.exit_code, 0) << seed.Describe();
  EXPECT_TRUE(seed.stdout_text.starts_with("Task ID: ")) << seed.Describe();

  ProcessResult unknown = box_.Run({"status", "nosuchjob123"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.Describe();
  EXPECT_TRUE(OneErrorLine(unknown, {"no job nosuchjob123"}));

  EXPECT_EQ(d.Stop(), 0);
  // No daemon: --async says so and how to start one.
  ProcessResult none = box_.Run({"backup", "--async"});
  EXPECT_EQ(none.exit_code, 1) << none.Describe();
  EXPECT_TRUE(
      OneErrorLine(none, {"no dbbackup daemon is running at " + d.Url(), "dbbackup daemon"}));
}

TEST_F(DaemonS3Test, OverlappingTriggersJoinInsteadOfOverlapping) {
  MakeDb(3000);
  DaemonProcess d(box_);
  ASSERT_TRUE(d.WaitListening());
  box_.Set("DBBACKUP_DAEMON_URL", d.Url());
  std::vector<std::future<ProcessResult>> runs;
  for (int i = 0; i < 6; ++i) {
    runs.push_back(std::async(std::launch::async, [&] { return box_.Run({"backup", "--async"}); }));
  }
  std::set<std::string> ids;
  for (auto& f : runs) {
    ProcessResult r = f.get();
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    ids.insert(r.stdout_text.substr(std::string("Task ID: ").size(), 12));
  }
  for (const auto& id : ids) {
    ASSERT_TRUE(
        WaitFor([&] { return d.Finished(id); }, seconds(60), std::chrono::milliseconds(100)));
  }
  auto jobs = d.Jobs();
  EXPECT_EQ(jobs.size(), ids.size());
  EXPECT_TRUE(NoOverlap(jobs));
  // One backup per job, however many triggers.
  EXPECT_EQ(ListedKeys().size(), ids.size());
  // (How many ids there are depends on timing: a trigger after a backup
  // finished starts a new one. The join rule itself is unit-tested in
  // src/daemon/jobs_test.cc.)
  EXPECT_EQ(d.Stop(), 0);
}

TEST_F(DaemonS3Test, MissedRunIsCaughtUpOnceAfterARestart) {
  MakeDb();
  box_.Set("BACKUP_SCHEDULE", "@every 2s");
  {
    DaemonProcess d(box_);
    ASSERT_TRUE(d.WaitListening());
    ASSERT_TRUE(WaitFor([&] { return !WithTrigger(d.Jobs(), "schedule").empty(); }, seconds(20),
                        std::chrono::milliseconds(100)));
    auto first = WithTrigger(d.Jobs(), "schedule").back()["id"].get<std::string>();
    ASSERT_TRUE(WaitFor([&] { return d.Finished(first); }, seconds(30)));
    EXPECT_EQ(d.Stop(), 0);
  }
  // Down for longer than one interval: at least one slot passes.
  const auto down = std::chrono::steady_clock::now();
  WaitFor([&] { return std::chrono::steady_clock::now() - down > seconds(3); }, seconds(5),
          std::chrono::milliseconds(100));
  DaemonProcess d(box_);
  ASSERT_TRUE(d.WaitListening());
  // The catch-up job was queued before the daemon started listening.
  auto catchups = WithTrigger(d.Jobs(), "catch-up");
  ASSERT_EQ(catchups.size(), 1u) << d.process().Stderr();
  EXPECT_NE(d.process().Stderr().find("was missed"), std::string::npos);
  const std::string id = catchups[0]["id"];
  ASSERT_TRUE(WaitFor([&] { return d.Finished(id); }, seconds(30)));
  EXPECT_EQ(d.Job(id)["state"], "succeeded");
  // History survived the restart.
  EXPECT_GE(WithTrigger(d.Jobs(), "schedule").size(), 1u);
  EXPECT_EQ(d.Stop(), 0);
}

TEST_F(DaemonS3Test, RequestsWithoutTheTokenAreRefused) {
  MakeDb();
  DaemonProcess d(box_);
  ASSERT_TRUE(d.WaitListening());
  ASSERT_EQ(d.token().size(), 32u);
  EXPECT_EQ(fs::status(box_.Path(".dbbackup-state/api-token")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(d.Get("/healthz", "").first, 200);
  for (const char* path : {"/api/jobs", "/api/backups", "/metrics", "/api/jobs/abc"}) {
    EXPECT_EQ(d.Get(path, "").first, 401) << path;
    EXPECT_EQ(d.Get(path, "wrong-token").first, 401) << path;
  }
  EXPECT_EQ(d.Get("/api/backups").first, 200);
  box_.Set("DBBACKUP_DAEMON_URL", d.Url());
  box_.Set("DBBACKUP_API_TOKEN", "wrong-token");
  ProcessResult r = box_.Run({"backup", "--async"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"refused the API token"}));
  EXPECT_TRUE(d.Jobs().empty());
  EXPECT_EQ(d.Stop(), 0);
}

TEST_F(DaemonS3Test, SigtermMidBackupFinishesItAndLeavesNothingPartial) {
  MakeDb(20000);
  DaemonProcess d(box_);
  ASSERT_TRUE(d.WaitListening());
  nlohmann::json job = d.Post("/api/jobs", R"({"kind":"backup"})");
  ASSERT_TRUE(job.is_object()) << job;
  const std::string id = job["id"];
  ASSERT_TRUE(WaitFor([&] { return d.Job(id)["state"] != "queued"; }, seconds(30)));
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
  EXPECT_NE(d.process().Stderr().find("received SIGTERM"), std::string::npos);
  ExpectNothingPartial();
  // The job finished inside the grace period, and the restarted daemon says so.
  DaemonProcess again(box_);
  ASSERT_TRUE(again.WaitListening());
  EXPECT_EQ(again.Job(id)["state"], "succeeded") << again.Job(id);
  EXPECT_EQ(ListedKeys().size(), 1u);
  EXPECT_EQ(again.Stop(), 0);
}

TEST_F(DaemonS3Test, SigtermPastTheGracePeriodExitsZeroAndLeavesNothingPartial) {
  MakeDb(20000);
  DaemonProcess d(box_, {"--grace-period", "0"});
  ASSERT_TRUE(d.WaitListening());
  nlohmann::json job = d.Post("/api/jobs", R"({"kind":"backup"})");
  ASSERT_TRUE(job.is_object()) << job;
  const std::string id = job["id"];
  ASSERT_TRUE(WaitFor([&] { return d.Job(id)["state"] != "queued"; }, seconds(30)));
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
  ExpectNothingPartial();
  DaemonProcess again(box_);
  ASSERT_TRUE(again.WaitListening());
  const std::string state = again.Job(id)["state"];
  EXPECT_TRUE(state == "failed" || state == "succeeded") << state;
  EXPECT_EQ(again.Stop(), 0);
}

TEST_F(DaemonS3Test, ConfigFileWithTwoDatabasesEachWithItsOwnPrefixAndSchedule) {
  MakeDb();
  ASSERT_TRUE(CreateTestDb(box_.Path("other.db"), {.tables = 1, .rows_per_table = 50}));
  box_.Set("MY_BUCKET", bucket_);
  box_.Unset("S3_BACKUP_BUCKET");
  WriteFileOrFail(box_.Path("dbbackup.toml"), R"(
[defaults]
schedule = "@daily"
retention_days = 7

[[database]]
name = "app"
path = "app.db"
bucket = "${MY_BUCKET}"
prefix = "backups/app"
schedule = "@every 2s"

[[database]]
name = "other"
path = "other.db"
bucket = "${MY_BUCKET}"
prefix = "backups/other"
)");
  DaemonProcess d(box_, {"--config", "dbbackup.toml"});
  ASSERT_TRUE(d.WaitListening());
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& j : WithTrigger(d.Jobs(), "schedule")) {
          if (j["database"] == "app" && j["state"] == "succeeded") return true;
        }
        return false;
      },
      seconds(30), std::chrono::milliseconds(200)))
      << d.process().Stderr();
  nlohmann::json job = d.Post("/api/jobs", R"({"kind":"backup","database":"other"})");
  ASSERT_TRUE(job.is_object()) << job;
  const std::string id = job["id"];
  ASSERT_TRUE(WaitFor([&] { return d.Finished(id); }, seconds(30)));
  EXPECT_EQ(d.Job(id)["state"], "succeeded") << d.Job(id);
  for (const auto& j : d.Jobs()) {
    if (j["trigger"] == "schedule") {
      EXPECT_EQ(j["database"], "app") << j;
    }
  }

  auto [status, body] = d.Get("/api/backups?database=other");
  ASSERT_EQ(status, 200);
  auto backups = nlohmann::json::parse(body);
  ASSERT_EQ(backups.size(), 1u) << backups;
  EXPECT_TRUE(backups[0]["key"].get<std::string>().starts_with("backups/other/full/")) << backups;
  std::vector<std::string> app_keys;
  ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket_, "backups/app/", &app_keys));
  EXPECT_FALSE(app_keys.empty());
  for (const auto& k : app_keys) EXPECT_TRUE(k.ends_with("/app.db.gz")) << k;

  auto [mstatus, metrics] = d.Get("/metrics");
  ASSERT_EQ(mstatus, 200);
  EXPECT_NE(metrics.find("dbbackup_backups_total{database=\"other\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("dbbackup_next_run_timestamp_seconds{database=\"app\"}"),
            std::string::npos);
  EXPECT_EQ(d.Stop(), 0);
}

TEST_F(DaemonS3Test, BadConfigFileIsOneClearError) {
  WriteFileOrFail(box_.Path("dbbackup.toml"),
                  "[[database]]\npath = \"a.db\"\nschedule = \"@often\"\n");
  ProcessResult r = box_.Run({"daemon", "--config", "dbbackup.toml", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"dbbackup.toml: database[0]: BACKUP_SCHEDULE: unknown '@often'"}));
  box_.Set("BACKUP_SCHEDULE", "61 * * * *");
  ProcessResult env = box_.Run({"daemon", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(env.exit_code, 2) << env.Describe();
  EXPECT_TRUE(OneErrorLine(env, {"BACKUP_SCHEDULE: minute field '61' out of range 0-59"}));
}

}  // namespace
}  // namespace dbbackup::testing
