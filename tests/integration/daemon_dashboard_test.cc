// The dashboard at "/" in a real headless browser (Debian's Chromium, driven
// through chromedriver's W3C WebDriver protocol), served by the real daemon
// backing up to Ceph RGW on loopback. Skips without chromium/chromedriver
// unless CI=true or DBB_REQUIRE_BROWSER=1. The screenshot is kept in
// $DBB_ARTIFACT_DIR (default <build dir>/artifacts) as dashboard.png.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/daemon_process.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"
#include "testing/webdriver.h"

namespace dbbackup::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class DaemonDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_BROWSER();
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    bucket_ = UniqueBucketName("dashboard");
    ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket_));
    box_.UseS3(env_.rgw_owner, bucket_);
  }

  // Starts the daemon and opens the dashboard with the token in the
  // fragment, as `dbbackup daemon` prints it.
  void OpenDashboard(DaemonProcess& d) {
    ASSERT_TRUE(d.WaitListening());
    ASSERT_FALSE(d.token().empty());
    ASSERT_TRUE(WebDriver::Start({}, &browser_));
    ASSERT_TRUE(browser_->Navigate(d.Url() + "/#token=" + d.token()));
  }

  // Polls until the first element matching `css` has text satisfying `ok`.
  ::testing::AssertionResult WaitForText(const std::string& css,
                                         const std::function<bool(const std::string&)>& ok,
                                         seconds timeout = seconds(60)) {
    std::string last;
    bool found = WaitFor(
        [&] {
          auto t = browser_->TextOf(css);
          if (t) last = *t;
          return t && ok(*t);
        },
        timeout, milliseconds(200));
    if (found) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << css << ": last text '" << last << "'";
  }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string bucket_;
  CliSandbox box_;
  std::unique_ptr<WebDriver> browser_;
};

TEST_F(DaemonDashboardTest, BackUpNowButtonRunsAJobThatAppearsAndSucceeds) {
  box_.Set("DATABASE_PATH", box_.Path("app.db"));
  ASSERT_TRUE(CreateTestDb(box_.Path("app.db"), {.tables = 3, .rows_per_table = 300}));
  DaemonProcess d(box_);  // @daily: only the button's job runs
  ASSERT_NO_FATAL_FAILURE(OpenDashboard(d));

  const std::string button_css = R"(button.backup-now[data-database="app.db"])";
  ASSERT_TRUE(WaitFor([&] { return browser_->FindElement(button_css).has_value(); }, seconds(30),
                      milliseconds(100)))
      << browser_->Log();
  // The token left the address bar (and is kept for this tab only).
  EXPECT_EQ(browser_->Execute("return location.hash;"), "");
  EXPECT_EQ(browser_->Execute("return sessionStorage.getItem('dbbackup-api-token');"), d.token());
  EXPECT_TRUE(WaitForText(".db[data-database=\"app.db\"] .last-result",
                          [](const std::string& t) { return t == "none yet"; }));

  auto button = browser_->FindElement(button_css);
  ASSERT_TRUE(button);
  ASSERT_TRUE(browser_->Click(*button));
  static const std::regex kQueued(R"(Backup of app\.db: job ([a-z0-9]{12}) (queued|running))");
  std::string id;
  ASSERT_TRUE(WaitForText("#message", [&](const std::string& t) {
    std::smatch m;
    if (!std::regex_search(t, m, kQueued)) return false;
    id = m[1];
    return true;
  }));

  // The job shows up in the page's job list and succeeds there.
  const std::string row = "#jobs tr[data-job-id=\"" + id + "\"]";
  EXPECT_TRUE(WaitForText(row + " td.state", [](const std::string& t) { return t == "succeeded"; }))
      << d.process().Stderr();
  nlohmann::json job = d.Job(id);
  ASSERT_EQ(job["state"], "succeeded") << job;
  EXPECT_EQ(job["trigger"], "api");
  const std::string key = job["result"]["key"];

  // A second backup, so the chart has a line.
  ASSERT_TRUE(browser_->Click(*browser_->FindElement(button_css)));
  EXPECT_TRUE(WaitFor(
      [&] {
        return browser_->Execute(
                   "return document.querySelectorAll("
                   "'#jobs tbody td.state-succeeded').length;") == 2;
      },
      seconds(60), milliseconds(200)))
      << d.process().Stderr();

  // ... and so do its backup (with sizes), the last result and the chart.
  EXPECT_TRUE(WaitForText(".db[data-database=\"app.db\"] table.backups", [&](const std::string& t) {
    return t.find(key) != std::string::npos && t.find("KiB") != std::string::npos;
  }));
  EXPECT_TRUE(WaitForText(".db[data-database=\"app.db\"] .last-result",
                          [](const std::string& t) { return t.starts_with("succeeded"); }));
  EXPECT_EQ(
      browser_->Execute("return document.querySelectorAll('.db svg.chart polyline.size').length;"),
      1);
  EXPECT_EQ(browser_->Execute("return document.querySelectorAll('#jobs tbody tr').length;"), 2);
  EXPECT_EQ(browser_->Execute("return document.querySelectorAll('.db svg.chart circle').length;"),
            2);

  const std::string shot = ArtifactDir() + "/dashboard.png";
  ASSERT_TRUE(browser_->Screenshot(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 10'000u);
  std::printf("dashboard screenshot: %s\n", shot.c_str());
  browser_.reset();
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
}

TEST_F(DaemonDashboardTest, ErrorsAndNamesAreShownAsTextNeverAsMarkup) {
  // A database whose name is markup and whose backup fails (not SQLite), so
  // both the name and the error text carry it into the page.
  const std::string name = "<img src=x onerror=document.title=1>.db";
  WriteFileOrFail(box_.Path(name), "this is not a SQLite database, just text");
  box_.Set("DATABASE_PATH", box_.Path(name));
  DaemonProcess d(box_);
  ASSERT_NO_FATAL_FAILURE(OpenDashboard(d));
  const std::string button_css = "button.backup-now";
  ASSERT_TRUE(WaitFor([&] { return browser_->FindElement(button_css).has_value(); }, seconds(30),
                      milliseconds(100)))
      << browser_->Log();
  ASSERT_TRUE(browser_->Click(*browser_->FindElement(button_css)));
  EXPECT_TRUE(WaitForText("#jobs tbody tr td.state", [](const std::string& t) {
    return t == "failed";
  })) << d.process().Stderr();
  EXPECT_TRUE(WaitForText("#jobs tbody tr td.err",
                          [&](const std::string& t) { return t.find(name) != std::string::npos; }));
  EXPECT_TRUE(WaitForText(".db h2", [&](const std::string& t) { return t == name; }));
  EXPECT_EQ(browser_->Execute("return document.querySelectorAll('img').length;"), 0);
  EXPECT_EQ(browser_->Execute("return document.title;"), "dbbackup");
  ASSERT_TRUE(browser_->Screenshot(ArtifactDir() + "/dashboard-failed-job.png"));
  browser_.reset();
  EXPECT_EQ(d.Stop(), 0) << d.process().Stderr();
}

}  // namespace
}  // namespace dbbackup::testing
