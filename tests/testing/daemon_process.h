// A `dbbackup daemon` of a CliSandbox, run in the background for the
// daemon's integration tests (tests/integration/daemon_*_test.cc): started
// on a free loopback port, watched through its stderr and API, stopped by
// pid. Header-only: it uses cpp-httplib, which only the integration tests
// link (through the daemon layer), not the dbb_testing library.
//
// Thread-safety: one test thread per object.
#pragma once

#include <signal.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "daemon/httplib_adapter.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {

// One running daemon of a sandbox.
class DaemonProcess {
 public:
  explicit DaemonProcess(const CliSandbox& box, const std::vector<std::string>& extra_args = {})
      : box_(box) {
    std::vector<std::string> argv = {DbbackupBinary(), "daemon", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    static int n = 0;
    proc_ = std::make_unique<BackgroundProcess>(argv, box.Options(),
                                                box.Path("daemon-" + std::to_string(++n)));
  }

  // Waits for "listening on http://127.0.0.1:PORT" on stderr.
  ::testing::AssertionResult WaitListening() {
    static const std::regex kListening(R"(listening on http://127\.0\.0\.1:(\d+))");
    std::smatch m;
    bool ok = WaitFor(
        [&] {
          std::string err = proc_->Stderr();
          if (std::regex_search(err, m, kListening)) {
            port_ = std::stoi(m[1]);
            return true;
          }
          return !proc_->Running();
        },
        std::chrono::seconds(30));
    if (!ok || port_ == 0) {
      return ::testing::AssertionFailure() << "daemon did not start:\n" << proc_->Stderr();
    }
    token_ = ReadFileOrEmpty(box_.Path(".dbbackup-state/api-token"));
    while (!token_.empty() && token_.back() == '\n') token_.pop_back();
    return ::testing::AssertionSuccess();
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& token() const { return token_; }
  BackgroundProcess& process() { return *proc_; }

  // GET path with the token (or `token` if given); status and body.
  std::pair<int, std::string> Get(const std::string& path,
                                  std::optional<std::string> token = std::nullopt) {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h;
    std::string t = token.value_or(token_);
    if (!t.empty()) h.emplace("Authorization", "Bearer " + t);
    auto r = c.Get(path.c_str(), h);
    if (!r) return {0, ""};
    return {r->status, r->body};
  }
  nlohmann::json Post(const std::string& path, const std::string& body) {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h = {{"Authorization", "Bearer " + token_}};
    auto r = c.Post(path.c_str(), h, body, "application/json");
    if (!r) return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  std::vector<nlohmann::json> Jobs() {
    auto [status, body] = Get("/api/jobs?limit=1000");
    if (status != 200) return {};
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object()) return {};
    return j["jobs"].get<std::vector<nlohmann::json>>();
  }
  nlohmann::json Job(const std::string& id) {
    auto [status, body] = Get("/api/jobs/" + id);
    return status == 200 ? nlohmann::json::parse(body, nullptr, false) : nlohmann::json();
  }
  bool Finished(const std::string& id) {
    auto j = Job(id);
    return j.is_object() && (j["state"] == "succeeded" || j["state"] == "failed");
  }

  // SIGTERM, then the exit code (-1 if it did not exit in time).
  int Stop(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    proc_->Kill(SIGTERM);
    return proc_->Wait(timeout);
  }

 private:
  const CliSandbox& box_;
  std::unique_ptr<BackgroundProcess> proc_;
  int port_ = 0;
  std::string token_;
};

// A fresh RGW bucket and sandbox per test, with DATABASE_PATH app.db.
class DaemonS3Fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    bucket_ = UniqueBucketName("daemon");
    ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket_));
    box_.UseS3(env_.rgw_owner, bucket_);
    box_.Set("DATABASE_PATH", box_.Path("app.db"));
  }

  void MakeDb(int rows = 200) {
    ASSERT_TRUE(CreateTestDb(box_.Path("app.db"), {.tables = 3, .rows_per_table = rows}));
  }

  // `dbbackup list --json` keys.
  std::vector<std::string> ListedKeys() {
    ProcessResult r = box_.Run({"list", "--json"});
    nlohmann::json j;
    EXPECT_TRUE(ParseJsonStdout(r, &j)) << r.Describe();
    std::vector<std::string> keys;
    if (j.is_array()) {
      for (const auto& e : j) keys.push_back(e["key"]);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // Everything in the bucket is a complete backup that `list` shows and
  // `verify` accepts.
  void ExpectNothingPartial() {
    std::vector<std::string> in_bucket;
    ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket_, "", &in_bucket));
    EXPECT_EQ(in_bucket, ListedKeys());
    for (const auto& key : in_bucket) {
      ProcessResult v = box_.Run({"verify", key});
      EXPECT_EQ(v.exit_code, 0) << key << ": " << v.Describe();
    }
  }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string bucket_;
  CliSandbox box_;
};

}  // namespace dbbackup::testing
