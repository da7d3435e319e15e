// Webhook messages, retries and bounds with a scripted transport, and the
// real HTTP post against a loopback receiver.
#include "daemon/webhook.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "daemon/httplib_adapter.h"

namespace dbbackup::daemon {
namespace {

using std::chrono::milliseconds;

JobRecord FailedJob() {
  JobRecord j;
  j.id = "abc123def456";
  j.kind = "backup";
  j.database = "app.db";
  j.state = kJobFailed;
  j.trigger = "schedule";
  j.created_ms = 1'795'694'400'000;  // 2026-11-26T12:00:00Z
  j.started_ms = 1'795'694'401'000;
  j.finished_ms = 1'795'694'402'500;
  j.error = "upload: NoSuchBucket: The specified bucket does not exist";
  j.result = R"({"error":"upload: NoSuchBucket","code":"NotFound"})";
  return j;
}

// A transport that answers from a script and records what it was sent.
struct ScriptedPost {
  std::mutex mu;
  std::vector<Status> answers;  // consumed front to back; OK when empty
  std::vector<std::string> bodies;
  std::vector<milliseconds> timeouts;

  WebhookPost Fn() {
    return [this](const std::string&, const std::string& body, milliseconds timeout) {
      std::lock_guard lock(mu);
      bodies.push_back(body);
      timeouts.push_back(timeout);
      if (answers.empty()) return Status::OK();
      Status s = answers.front();
      answers.erase(answers.begin());
      return s;
    };
  }
  size_t Calls() {
    std::lock_guard lock(mu);
    return bodies.size();
  }
};

Status Retryable(const std::string& m) { return Status::Unavailable(m).WithRetryable(true); }

WebhookOptions Fast() {
  WebhookOptions o;
  o.first_backoff = milliseconds(1);
  return o;
}

TEST(WebhookMessageTest, SlackTextAndStructuredFields) {
  auto m = nlohmann::json::parse(WebhookMessage(FailedJob()));
  EXPECT_EQ(m["text"],
            ":x: dbbackup: backup of app.db failed (job abc123def456, schedule): upload: "
            "NoSuchBucket: The specified bucket does not exist");
  EXPECT_EQ(m["database"], "app.db");
  EXPECT_EQ(m["job_id"], "abc123def456");
  EXPECT_EQ(m["kind"], "backup");
  EXPECT_EQ(m["state"], "failed");
  EXPECT_EQ(m["error"], "upload: NoSuchBucket: The specified bucket does not exist");
  EXPECT_EQ(m["created_at"], "2026-11-26T12:00:00Z");
  EXPECT_EQ(m["finished_at"], "2026-11-26T12:00:02Z");
  EXPECT_TRUE(m["duration_s"].is_null());

  JobRecord ok = FailedJob();
  ok.state = kJobSucceeded;
  ok.error.clear();
  ok.result = R"({"key":"backups/full/x","duration_s":3.25})";
  auto s = nlohmann::json::parse(WebhookMessage(ok));
  EXPECT_EQ(s["text"],
            ":white_check_mark: dbbackup: backup of app.db succeeded (job abc123def456, "
            "schedule) in 3.2 s");
  EXPECT_EQ(s["duration_s"], 3.25);
  EXPECT_EQ(s["result"]["key"], "backups/full/x");
  EXPECT_TRUE(s["error"].is_null());
}

TEST(WebhookMessageTest, WhoWantsWhat) {
  JobRecord failed = FailedJob();
  JobRecord ok = FailedJob();
  ok.state = kJobSucceeded;
  JobRecord running = FailedJob();
  running.state = kJobRunning;
  const WebhookTarget none;
  const WebhookTarget failures{"http://127.0.0.1:1/hook", false};
  const WebhookTarget all{"http://127.0.0.1:1/hook", true};
  EXPECT_FALSE(WantsWebhook(none, failed));
  EXPECT_TRUE(WantsWebhook(failures, failed));
  EXPECT_FALSE(WantsWebhook(failures, ok));
  EXPECT_TRUE(WantsWebhook(all, ok));
  EXPECT_FALSE(WantsWebhook(all, running));
}

TEST(WebhookUrlTest, ValidateAndRedact) {
  EXPECT_TRUE(ValidateWebhookUrl("https://hooks.slack.com/services/T0/B0/secret").ok());
  EXPECT_TRUE(ValidateWebhookUrl("http://127.0.0.1:8080").ok());
  EXPECT_FALSE(ValidateWebhookUrl("ftp://x/y").ok());
  EXPECT_FALSE(ValidateWebhookUrl("hooks.slack.com/x").ok());
  EXPECT_FALSE(ValidateWebhookUrl("https://").ok());
  EXPECT_EQ(RedactWebhookUrl("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/...");
  EXPECT_EQ(RedactWebhookUrl("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(ValidateWebhookUrl("gopher://x/secret").message().find("secret"), std::string::npos);
}

TEST(WebhookNotifierTest, RetriesRetryableFailuresThenDelivers) {
  ScriptedPost post;
  post.answers = {Retryable("HTTP 503"), Retryable("no answer")};
  WebhookNotifier n(Fast(), post.Fn());
  n.Notify({"http://127.0.0.1:1/hook", false}, FailedJob());
  n.Shutdown(std::chrono::seconds(30));
  EXPECT_EQ(post.Calls(), 3u);
  EXPECT_EQ(n.delivered(), 1);
  EXPECT_EQ(n.dropped(), 0);
  EXPECT_EQ(nlohmann::json::parse(post.bodies[2])["job_id"], "abc123def456");
}

TEST(WebhookNotifierTest, GivesUpAfterTheAttemptsAndOnFinalErrors) {
  ScriptedPost post;
  post.answers = {Retryable("1"), Retryable("2"), Retryable("3"), Retryable("4"),
                  Status::FailedPrecondition("HTTP 404")};
  WebhookNotifier n(Fast(), post.Fn());
  n.Notify({"http://127.0.0.1:1/hook", false}, FailedJob());  // 4 tries, all 503
  n.Notify({"http://127.0.0.1:1/hook", false}, FailedJob());  // 404: final at once
  n.Shutdown(std::chrono::seconds(30));
  EXPECT_EQ(post.Calls(), 5u);
  EXPECT_EQ(n.delivered(), 0);
  EXPECT_EQ(n.dropped(), 2);
}

TEST(WebhookNotifierTest, NotifyNeverBlocksAndShutdownIsBounded) {
  // A webhook that never answers in time: every try uses up its timeout.
  std::atomic<int> calls{0};
  WebhookOptions o;
  o.first_backoff = std::chrono::hours(1);  // only the shutdown ends the wait
  o.timeout = milliseconds(100);
  o.max_queued = 3;
  WebhookNotifier n(o, [&](const std::string&, const std::string&, milliseconds timeout) {
    ++calls;
    std::this_thread::sleep_for(timeout);
    return Retryable("timed out");
  });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) n.Notify({"http://127.0.0.1:1/hook", false}, FailedJob());
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(100));
  n.Shutdown(milliseconds(50));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(n.delivered(), 0);
  EXPECT_EQ(n.dropped(), 10);  // 3 queued at most; the rest dropped on arrival
  EXPECT_GE(calls.load(), 1);
}

TEST(WebhookNotifierTest, SuccessesOnlyWhenAskedFor) {
  ScriptedPost post;
  WebhookNotifier n(Fast(), post.Fn());
  JobRecord ok = FailedJob();
  ok.state = kJobSucceeded;
  n.Notify({"http://127.0.0.1:1/hook", false}, ok);
  n.Notify({"", true}, FailedJob());
  n.Notify({"http://127.0.0.1:1/hook", true}, ok);
  n.Shutdown(std::chrono::seconds(30));
  ASSERT_EQ(post.Calls(), 1u);
  EXPECT_EQ(nlohmann::json::parse(post.bodies[0])["state"], "succeeded");
}

TEST(HttpWebhookPostTest, PostsJsonToALoopbackReceiver) {
  httplib::Server server;
  std::mutex mu;
  std::vector<std::string> received;
  int status = 200;
  server.Post("/hook/secret", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    received.push_back(req.get_header_value("Content-Type") + " " + req.body);
    res.status = status;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook/secret";

  EXPECT_TRUE(HttpWebhookPost(url, R"({"text":"hi"})", std::chrono::seconds(5)).ok());
  {
    std::lock_guard lock(mu);
    status = 503;
  }
  Status s503 = HttpWebhookPost(url, "{}", std::chrono::seconds(5));
  EXPECT_EQ(s503.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(s503.retryable());
  {
    std::lock_guard lock(mu);
    status = 400;
  }
  Status s400 = HttpWebhookPost(url, "{}", std::chrono::seconds(5));
  EXPECT_EQ(s400.code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(s400.retryable());
  server.stop();
  t.join();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0], R"(application/json {"text":"hi"})");

  // Nobody listens any more: retryable.
  Status gone = HttpWebhookPost(url, "{}", std::chrono::seconds(2));
  EXPECT_EQ(gone.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(gone.retryable());
}

}  // namespace
}  // namespace dbbackup::daemon
