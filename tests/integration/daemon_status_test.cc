// `dbbackup status` exit codes against a stand-in daemon (an in-process
// cpp-httplib server on a free loopback port that serves fixed job
// documents), so "still running" and "failed" are deterministic.
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon/httplib_adapter.h"
#include "testing/cli_sandbox.h"
#include "testing/process.h"

namespace dbbackup::testing {
namespace {

class DaemonStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get(
        R"(/api/jobs/([a-z0-9]+))", [this](const httplib::Request& req, httplib::Response& res) {
          auth_seen_ = req.get_header_value("Authorization");
          const std::string id = req.matches[1];
          nlohmann::json job = {{"id", id},
                                {"kind", "backup"},
                                {"database", "app.db"},
                                {"trigger", "api"},
                                {"created_at", "2026-11-26T12:00:00Z"},
                                {"started_at", nullptr},
                                {"finished_at", nullptr},
                                {"result", nullptr},
                                {"error", nullptr}};
          if (id == "runningjob") {
            job["state"] = "running";
          } else if (id == "failedjob") {
            job["state"] = "failed";
            job["error"] = "access denied for s3:PutObject";
          } else {
            res.status = 404;
            res.set_content(nlohmann::json{{"error", "no job " + id}, {"code", "NotFound"}}.dump(),
                            "application/json");
            return;
          }
          res.set_content(job.dump(), "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    box_.Set("DBBACKUP_DAEMON_URL", "http://127.0.0.1:" + std::to_string(port_));
    box_.Set("DBBACKUP_API_TOKEN", "tok");
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string auth_seen_;
  CliSandbox box_;
};

TEST_F(DaemonStatusTest, UnfinishedJobExitsThreeAfterTheWait) {
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = box_.Run({"status", "runningjob", "--wait", "1"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_NE(r.stdout_text.find("State: running"), std::string::npos) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"job runningjob still running after 1 s"}));
  EXPECT_EQ(auth_seen_, "Bearer tok");
  // Without --wait: the state at once, exit 3 as well.
  ProcessResult now = box_.Run({"status", "runningjob", "--json"});
  EXPECT_EQ(now.exit_code, 3) << now.Describe();
  nlohmann::json j;
  ASSERT_TRUE(ParseJsonStdout(now, &j));
  EXPECT_EQ(j["state"], "running");
}

TEST_F(DaemonStatusTest, FailedJobExitsOneWithItsError) {
  ProcessResult r = box_.Run({"status", "failedjob", "--wait", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.stdout_text.find("State: failed"), std::string::npos) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"job failedjob failed: access denied for s3:PutObject"}));
}

TEST_F(DaemonStatusTest, UnknownJobAndNoDaemon) {
  ProcessResult r = box_.Run({"status", "otherjob"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"no job otherjob"}));
  server_.stop();
  thread_.join();
  ProcessResult gone = box_.Run({"status", "runningjob"});
  EXPECT_EQ(gone.exit_code, 1) << gone.Describe();
  EXPECT_TRUE(OneErrorLine(gone, {"no dbbackup daemon is running at http://127.0.0.1:"}));
}

}  // namespace
}  // namespace dbbackup::testing
