// A minimal W3C WebDriver client for browser tests: starts Debian's
// chromedriver on a free loopback port, opens a headless Chromium session
// and drives it over WebDriver's HTTP+JSON protocol (libcurl): navigate,
// find elements by CSS selector, click, read text, run a script, take a
// screenshot. chromedriver accepts connections from loopback only and
// Chromium is started with networking limited to what the page asks for.
//
//   std::unique_ptr<WebDriver> browser;
//   ASSERT_TRUE(WebDriver::Start({}, &browser));
//   ASSERT_TRUE(browser->Navigate("http://127.0.0.1:8780/"));
//   auto button = browser->FindElement("button.backup-now");
//
// The destructor ends the session and kills chromedriver (and the Chromium
// it started) by process group.
//
// Thread-safety: one thread per object.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "testing/cli_sandbox.h"
#include "testing/temp_dir.h"

namespace dbbackup::testing {

struct WebDriverOptions {
  // Default: /usr/bin/chromedriver (Debian's chromium-driver).
  std::string chromedriver = "/usr/bin/chromedriver";
  // Default: /usr/bin/chromium (Debian's chromium).
  std::string chromium = "/usr/bin/chromium";
  // The browser window. Default: 1280 x 1000.
  int width = 1280;
  int height = 1000;
};

// Why a browser test cannot run here ("" if it can): a missing binary.
std::string MissingBrowser(const WebDriverOptions& options = {});

// True if the run requires the browser tests (CI=true or
// DBB_REQUIRE_BROWSER=1): they then fail instead of skipping.
bool BrowserRequired();

// In a TEST body: skips with the reason when the browser is missing, or
// fails instead when BrowserRequired().
#define DBB_SKIP_UNLESS_BROWSER()                                                                \
  do {                                                                                           \
    const std::string dbb_missing_browser_ = ::dbbackup::testing::MissingBrowser();              \
    if (!dbb_missing_browser_.empty()) {                                                         \
      if (::dbbackup::testing::BrowserRequired()) {                                              \
        FAIL() << dbb_missing_browser_ << " (required: CI=true or DBB_REQUIRE_BROWSER=1)";       \
      }                                                                                          \
      GTEST_SKIP() << dbb_missing_browser_                                                       \
                   << " (apt-get install chromium chromium-driver, or scripts/setup.sh --test)"; \
    }                                                                                            \
  } while (0)

// Where tests keep artifacts (screenshots): $DBB_ARTIFACT_DIR, else
// <build dir>/artifacts (the test binary's directory). Created if needed.
std::string ArtifactDir();

class WebDriver {
 public:
  // Starts chromedriver and a headless session; on failure *out is null and
  // the result says why (with chromedriver's log).
  static ::testing::AssertionResult Start(const WebDriverOptions& options,
                                          std::unique_ptr<WebDriver>* out);
  ~WebDriver();
  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  ::testing::AssertionResult Navigate(const std::string& url);
  // The element's WebDriver id, or nullopt if no element matches.
  std::optional<std::string> FindElement(const std::string& css);
  ::testing::AssertionResult Click(const std::string& element);
  // The element's rendered text (nullopt if it went stale).
  std::optional<std::string> Text(const std::string& element);
  // The first element matching `css`'s text, or nullopt.
  std::optional<std::string> TextOf(const std::string& css);
  // Runs `script` (a function body; `arguments` holds `args`) and returns
  // its value (null on error).
  nlohmann::json Execute(const std::string& script,
                         const nlohmann::json& args = nlohmann::json::array());
  // Saves a PNG of the viewport to `path`.
  ::testing::AssertionResult Screenshot(const std::string& path);
  // chromedriver's log so far (for failure messages).
  std::string Log() const;

 private:
  WebDriver() = default;
  struct Reply {
    long status = 0;  // 0: no answer
    nlohmann::json body;
  };
  Reply Call(const std::string& method, const std::string& path,
             const nlohmann::json& body = nullptr) const;
  std::string SessionPath(const std::string& rest) const;

  ScopedTempDir dir_;
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
  std::string session_;
};

}  // namespace dbbackup::testing
