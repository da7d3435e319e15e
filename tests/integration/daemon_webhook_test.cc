// Webhook alarms end to end: the real daemon against Ceph RGW posts to a
// loopback HTTP receiver inside the test.
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon/httplib_adapter.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/daemon_process.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// An HTTP server on a free loopback port that records every POST to /hook
// and answers with `status`.
class WebhookReceiver {
 public:
  explicit WebhookReceiver(int status = 200) : status_(status) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      res.status = status_;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<std::string> Bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  std::mutex mu_;
  std::vector<std::string> bodies_;
  int status_;
  int port_ = 0;
  std::thread thread_;
};

class DaemonWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    box_.Set("DATABASE_PATH", box_.Path("app.db"));
    ASSERT_TRUE(CreateTestDb(box_.Path("app.db"), {.tables = 2, .rows_per_table = 100}));
  }

  // Submits a backup through the API and waits for it to finish.
  nlohmann::json RunBackup(DaemonProcess& d) {
    nlohmann::json job = d.Post("/api/jobs", R"({"kind":"backup"})");
    EXPECT_TRUE(job.is_object() && job["id"].is_string()) << job;
    if (!job.is_object() || !job["id"].is_string()) return nullptr;
    const std::string id = job["id"];
    EXPECT_TRUE(WaitFor([&] { return d.Finished(id); }, seconds(60), milliseconds(100)))
        << d.process().Stderr();
    return d.Job(id);
  }

  const TestS3Env& env_ = TestS3Env::Get();
  CliSandbox box_;
};

TEST_F(DaemonWebhookTest, FailedBackupToAWrongBucketIsPostedToTheWebhook) {
  WebhookReceiver receiver;
  const std::string bucket = UniqueBucketName("never-created");
  box_.UseS3(env_.rgw_owner, bucket);
  WriteFileOrFail(box_.Path(".env"), "BACKUP_WEBHOOK_URL=" + receiver.Url() + "\n");
  DaemonProcess d(box_);
  ASSERT_TRUE(d.WaitListening());
  nlohmann::json job = RunBackup(d);
  ASSERT_EQ(job["state"], "failed") << job;

  ASSERT_TRUE(WaitFor([&] { return !receiver.Bodies().empty(); }, seconds(30), milliseconds(50)))
      << d.process().Stderr();
  auto m = nlohmann::json::parse(receiver.Bodies()[0]);
  EXPECT_EQ(m["job_id"], job["id"]);
  EXPECT_EQ(m["database"], "app.db");
  EXPECT_EQ(m["kind"], "backup");
  EXPECT_EQ(m["state"], "failed");
  EXPECT_EQ(m["trigger"], "api");
  EXPECT_EQ(m["error"], job["error"]);
  EXPECT_TRUE(m["finished_at"].is_string());
  const std::string text = m["text"];
  EXPECT_TRUE(text.starts_with(":x: dbbackup: backup of app.db failed (job " +
                               job["id"].get<std::string>()))
      << text;
  EXPECT_NE(text.find("bucket '" + bucket + "' does not exist"), std::string::npos) << text;
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
  EXPECT_EQ(receiver.Bodies().size(), 1u);  // one failure, one message
}

TEST_F(DaemonWebhookTest, FailingWebhookNeverFailsOrHoldsUpTheBackup) {
  WebhookReceiver broken(500);
  const std::string bucket = UniqueBucketName("webhook");
  ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket));
  box_.UseS3(env_.rgw_owner, bucket);
  box_.Set("BACKUP_WEBHOOK_URL", broken.Url());
  box_.Set("BACKUP_WEBHOOK_ON_SUCCESS", "true");
  DaemonProcess d(box_);
  ASSERT_TRUE(d.WaitListening());
  nlohmann::json job = RunBackup(d);
  EXPECT_EQ(job["state"], "succeeded") << job;
  // The success message is tried again after the 500s (backoff 1 s, 2 s).
  ASSERT_TRUE(WaitFor([&] { return broken.Bodies().size() >= 2; }, seconds(30), milliseconds(50)))
      << d.process().Stderr();
  EXPECT_EQ(nlohmann::json::parse(broken.Bodies()[0])["state"], "succeeded");
  // Stopping is not held up beyond the bound by the undelivered alarm.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(15));
  std::vector<std::string> in_bucket;
  ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket, "", &in_bucket));
  EXPECT_EQ(in_bucket, std::vector<std::string>{job["result"]["key"].get<std::string>()});
}

TEST_F(DaemonWebhookTest, BadWebhookSettingIsOneClearError) {
  box_.UseS3(env_.rgw_owner, "unused");
  box_.Set("BACKUP_WEBHOOK_URL", "hooks.example/no-scheme");
  ProcessResult r = box_.Run({"daemon", "--listen", "127.0.0.1:0"}, seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"BACKUP_WEBHOOK_URL", "http://"})) << r.Describe();

  box_.Set("BACKUP_WEBHOOK_URL", "http://127.0.0.1:1/hook");
  box_.Set("BACKUP_WEBHOOK_ON_SUCCESS", "maybe");
  r = box_.Run({"daemon", "--listen", "127.0.0.1:0"}, seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"BACKUP_WEBHOOK_ON_SUCCESS", "maybe"})) << r.Describe();
}

}  // namespace
}  // namespace dbbackup::testing
