// `dbbackup daemon` operations against Ceph RGW: SIGHUP reloads the config
// (a bad one is logged and the old one kept), --log-format json, and the
// dashboard page's route with the token elsewhere.
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "testing/daemon_process.h"

namespace dbbackup::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using DaemonSignalsTest = DaemonS3Fixture;

// Succeeded jobs of `database` started by the scheduler.
int ScheduledSuccesses(DaemonProcess& d, const std::string& database) {
  int n = 0;
  for (const auto& j : d.Jobs()) {
    n += j["database"] == database && j["trigger"] == "schedule" && j["state"] == "succeeded";
  }
  return n;
}

std::vector<std::string> DatabaseNames(DaemonProcess& d) {
  auto [status, body] = d.Get("/api/databases");
  std::vector<std::string> names;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (status != 200 || !j.is_array()) return names;
  for (const auto& e : j) names.push_back(e["name"]);
  return names;
}

TEST_F(DaemonSignalsTest, SighupReloadsTheConfigAndKeepsTheOldOneWhenTheNewIsBad) {
  MakeDb();
  ASSERT_TRUE(CreateTestDb(box_.Path("other.db"), {.tables = 1, .rows_per_table = 50}));
  box_.Set("MY_BUCKET", bucket_);
  const std::string app = R"(
[[database]]
name = "app"
path = "app.db"
bucket = "${MY_BUCKET}"
prefix = "backups/app"
schedule = "@daily"
)";
  WriteFileOrFail(box_.Path("dbbackup.toml"), app);
  DaemonProcess d(box_, {"--config", "dbbackup.toml"});
  ASSERT_TRUE(d.WaitListening());
  EXPECT_EQ(DatabaseNames(d), std::vector<std::string>{"app"});

  // A second database with a schedule of seconds: scheduled after the reload.
  WriteFileOrFail(box_.Path("dbbackup.toml"), app + R"(
[[database]]
name = "other"
path = "other.db"
bucket = "${MY_BUCKET}"
prefix = "backups/other"
schedule = "@every 2s"
)");
  d.process().Kill(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return DatabaseNames(d).size() == 2; }, seconds(20)))
      << d.process().Stderr();
  EXPECT_EQ(DatabaseNames(d), (std::vector<std::string>{"app", "other"}));
  ASSERT_TRUE(
      WaitFor([&] { return ScheduledSuccesses(d, "other") >= 1; }, seconds(40), milliseconds(200)))
      << d.process().Stderr();
  EXPECT_NE(d.process().Stderr().find("SIGHUP: configuration reloaded"), std::string::npos);

  // A broken file: logged, and the running configuration goes on.
  WriteFileOrFail(box_.Path("dbbackup.toml"), app + "\n[[database]]\npath = \"x.db\"\ntypo = 1\n");
  d.process().Kill(SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] { return d.process().Stderr().find("SIGHUP: not reloading") != std::string::npos; },
      seconds(20)))
      << d.process().Stderr();
  EXPECT_NE(d.process().Stderr().find("unknown key database[1].typo"), std::string::npos)
      << d.process().Stderr();
  const int before = ScheduledSuccesses(d, "other");
  ASSERT_TRUE(WaitFor([&] { return ScheduledSuccesses(d, "other") > before; }, seconds(40),
                      milliseconds(200)))
      << d.process().Stderr();
  EXPECT_EQ(DatabaseNames(d), (std::vector<std::string>{"app", "other"}));
  EXPECT_TRUE(d.process().Running());
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
  std::vector<std::string> app_keys;
  ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket_, "backups/app/", &app_keys));
  EXPECT_TRUE(app_keys.empty());  // @daily: no run in this test
}

TEST_F(DaemonSignalsTest, JsonLogsAreOneObjectPerLineAndCarryTheJobId) {
  MakeDb();
  DaemonProcess d(box_, {"--log-format", "json"});
  ASSERT_TRUE(d.WaitListening());
  nlohmann::json job = d.Post("/api/jobs", R"({"kind":"backup"})");
  ASSERT_TRUE(job.is_object()) << job;
  const std::string id = job["id"];
  ASSERT_TRUE(WaitFor([&] { return d.Finished(id); }, seconds(60), milliseconds(100)));
  EXPECT_EQ(d.Job(id)["state"], "succeeded");
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();

  std::istringstream lines(d.process().Stderr());
  std::string line;
  std::vector<std::string> job_messages;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << line;
    EXPECT_TRUE(j["time"].is_string() && j["level"].is_string() && j["message"].is_string())
        << line;
    if (j.value("job_id", "") == id) {
      EXPECT_EQ(j["database"], "app.db") << line;
      job_messages.push_back(j["message"]);
    } else {
      // Lines outside the job never name it: grep <id> finds exactly the run.
      EXPECT_EQ(line.find(id), std::string::npos) << line;
    }
  }
  EXPECT_GE(count, 5);
  auto has = [&](const std::string& part) {
    for (const auto& m : job_messages) {
      if (m.find(part) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("queued")) << nlohmann::json(job_messages);
  EXPECT_TRUE(has("started")) << nlohmann::json(job_messages);
  EXPECT_TRUE(has("succeeded")) << nlohmann::json(job_messages);

  ProcessResult bad = box_.Run({"daemon", "--log-format", "xml"}, seconds(30));
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_TRUE(OneErrorLine(bad, {"--log-format", "xml"})) << bad.Describe();
}

}  // namespace
}  // namespace dbbackup::testing
