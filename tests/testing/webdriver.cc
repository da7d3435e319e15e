#include "testing/webdriver.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace dbbackup::testing {
namespace {

namespace fs = std::filesystem;

// The W3C name of an element reference in JSON.
constexpr char kElementKey[] = "element-6066-11e4-a52e-4f735466cecf";

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// A loopback port nobody listens on right now (bound, read, closed).
int UnusedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string Base64Decode(const std::string& in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t padding = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace

std::string MissingBrowser(const WebDriverOptions& options) {
  for (const std::string& path : {options.chromedriver, options.chromium}) {
    if (!Executable(path)) return "no browser for the dashboard test: " + path + " is missing";
  }
  return "";
}

bool BrowserRequired() {
  const char* ci = std::getenv("CI");
  const char* required = std::getenv("DBB_REQUIRE_BROWSER");
  return (ci != nullptr && std::string(ci) == "true") ||
         (required != nullptr && std::string(required) == "1");
}

std::string ArtifactDir() {
  const char* env = std::getenv("DBB_ARTIFACT_DIR");
  fs::path dir;
  if (env != nullptr && *env != '\0') {
    dir = env;
  } else {
    std::error_code ec;
    dir = fs::read_symlink("/proc/self/exe", ec).parent_path() / "artifacts";
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir.string();
}

::testing::AssertionResult WebDriver::Start(const WebDriverOptions& options,
                                            std::unique_ptr<WebDriver>* out) {
  out->reset();
  std::unique_ptr<WebDriver> d(new WebDriver());
  // A port picked by closing a listener can be taken again before
  // chromedriver binds it: try a few.
  for (int attempt = 0; attempt < 3 && d->session_.empty(); ++attempt) {
    d->process_.reset();
    d->port_ = UnusedLoopbackPort();
    ProcessOptions po;
    po.cwd = d->dir_.path().string();
    d->process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{options.chromedriver, "--port=" + std::to_string(d->port_),
                                 "--allowed-ips=127.0.0.1", "--log-level=WARNING"},
        po, d->dir_.File("chromedriver-" + std::to_string(attempt)));
    if (!d->process_->started()) continue;
    bool ready = WaitFor(
        [&] {
          if (!d->process_->Running()) return true;
          Reply r = d->Call("GET", "/status");
          return r.status == 200 && r.body["value"]["ready"] == true;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(100));
    if (!ready || !d->process_->Running()) continue;
    nlohmann::json args = {
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--user-data-dir=" + d->dir_.File("profile"),
        "--window-size=" + std::to_string(options.width) + "," + std::to_string(options.height)};
    nlohmann::json caps = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions", {{"binary", options.chromium}, {"args", args}}}}}}}};
    Reply r = d->Call("POST", "/session", caps);
    if (r.status == 200 && r.body["value"]["sessionId"].is_string()) {
      d->session_ = r.body["value"]["sessionId"];
    } else {
      return ::testing::AssertionFailure() << "chromedriver could not start Chromium: HTTP "
                                           << r.status << " " << r.body.dump() << "\n"
                                           << d->Log();
    }
  }
  if (d->session_.empty()) {
    return ::testing::AssertionFailure() << "chromedriver did not start\n"
                                         << (d->process_ ? d->Log() : "");
  }
  *out = std::move(d);
  return ::testing::AssertionSuccess();
}

WebDriver::~WebDriver() {
  if (!session_.empty()) Call("DELETE", "/session/" + session_);
  if (process_ && process_->Running()) {
    process_->Kill(SIGTERM);
    if (process_->Wait(std::chrono::seconds(5)) < 0) process_->Kill(SIGKILL);
  }
}

std::string WebDriver::Log() const {
  return process_ ? process_->Stdout() + process_->Stderr() : std::string();
}

std::string WebDriver::SessionPath(const std::string& rest) const {
  return "/session/" + session_ + rest;
}

WebDriver::Reply WebDriver::Call(const std::string& method, const std::string& path,
                                 const nlohmann::json& body) const {
  Reply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return reply;
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + path;
  std::string response;
  const std::string payload = body.is_null() ? std::string() : body.dump();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    reply.body = nlohmann::json::parse(response, nullptr, /*allow_exceptions=*/false);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

::testing::AssertionResult WebDriver::Navigate(const std::string& url) {
  Reply r = Call("POST", SessionPath("/url"), {{"url", url}});
  if (r.status == 200) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "navigate to " << url << ": HTTP " << r.status << " " << r.body.dump();
}

std::optional<std::string> WebDriver::FindElement(const std::string& css) {
  Reply r = Call("POST", SessionPath("/element"), {{"using", "css selector"}, {"value", css}});
  if (r.status != 200 || !r.body["value"].is_object() || !r.body["value"].contains(kElementKey)) {
    return std::nullopt;
  }
  return r.body["value"][kElementKey].get<std::string>();
}

::testing::AssertionResult WebDriver::Click(const std::string& element) {
  Reply r = Call("POST", SessionPath("/element/" + element + "/click"), nlohmann::json::object());
  if (r.status == 200) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "click: HTTP " << r.status << " " << r.body.dump();
}

std::optional<std::string> WebDriver::Text(const std::string& element) {
  Reply r = Call("GET", SessionPath("/element/" + element + "/text"));
  if (r.status != 200 || !r.body["value"].is_string()) return std::nullopt;
  return r.body["value"].get<std::string>();
}

std::optional<std::string> WebDriver::TextOf(const std::string& css) {
  auto element = FindElement(css);
  if (!element) return std::nullopt;
  return Text(*element);
}

nlohmann::json WebDriver::Execute(const std::string& script, const nlohmann::json& args) {
  Reply r = Call("POST", SessionPath("/execute/sync"), {{"script", script}, {"args", args}});
  if (r.status != 200 || !r.body.is_object()) return nullptr;
  return r.body["value"];
}

::testing::AssertionResult WebDriver::Screenshot(const std::string& path) {
  Reply r = Call("GET", SessionPath("/screenshot"));
  if (r.status != 200 || !r.body["value"].is_string()) {
    return ::testing::AssertionFailure() << "screenshot: HTTP " << r.status;
  }
  const std::string png = Base64Decode(r.body["value"].get<std::string>());
  if (!png.starts_with("\x89PNG")) return ::testing::AssertionFailure() << "screenshot: not a PNG";
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(png.data(), static_cast<std::streamsize>(png.size()));
  f.close();
  if (!f) return ::testing::AssertionFailure() << "cannot write " << path;
  return ::testing::AssertionSuccess();
}

}  // namespace dbbackup::testing
