// The HTTP API and its client over loopback (port 0), on a MemObjectStore.
#include "daemon/http_api.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "daemon/client.h"
#include "daemon/dashboard.h"
#include "daemon/httplib_adapter.h"
#include "engine/test_db.h"
#include "env/clock.h"
#include "store/mem_store.h"
#include "testing/temp_dir.h"

namespace dbbackup::daemon {
namespace {

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string db_path = dir_.File("app.db");
    engine::testing::MakeDb(db_path, 100);
    auto state = StateDb::Open(dir_.File("state.db"), clock_.Now());
    ASSERT_TRUE(state.ok());
    state_ = std::move(state).value();
    ctx_.store = &store_;
    ctx_.clock = &clock_;
    DatabaseConfig d;
    d.name = "app.db";
    d.backup.db_path = db_path;
    d.backup.temp_dir = dir_.path().string();
    d.schedule = *ParseSchedule("@daily");
    runner_ = std::make_unique<JobRunner>(ctx_, state_.get(), std::vector{d});
    ASSERT_TRUE(runner_->Start(true).ok());
    HttpApiOptions o;
    o.port = 0;
    o.token = "secret";
    api_ = std::make_unique<HttpApi>(runner_.get(), state_.get(), ctx_, o);
    ASSERT_TRUE(api_->Start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(api_->port());
  }
  void TearDown() override {
    if (api_) api_->Stop();
    if (runner_) runner_->Shutdown(std::chrono::seconds(30));
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Client c("127.0.0.1", api_->port());
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Get(path.c_str(), h);
  }

  nlohmann::json WaitFinished(DaemonClient& c, const std::string& id) {
    for (int i = 0; i < 3000; ++i) {
      auto j = c.GetJob(id);
      if (j.ok() && ((*j)["state"] == "succeeded" || (*j)["state"] == "failed")) return *j;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "job did not finish";
    return {};
  }

  testing::ScopedTempDir dir_;
  env::FakeClock clock_{std::chrono::sys_days(std::chrono::year(2026) / 11 / 26)};
  store::MemObjectStore store_;
  engine::EngineContext ctx_;
  std::unique_ptr<StateDb> state_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<HttpApi> api_;
  std::string url_;
};

TEST_F(HttpApiTest, TokenRequiredExceptForHealthz) {
  auto h = Get("/healthz", "");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  for (const char* path : {"/api/jobs", "/api/backups", "/metrics", "/api/jobs/x"}) {
    auto r = Get(path, "");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    auto wrong = Get(path, "wrong");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << path;
  }
  auto ok = Get("/api/jobs", "secret");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto bad_client = DaemonClient::Create(url_, "wrong");
  ASSERT_TRUE(bad_client.ok());
  EXPECT_EQ(bad_client->GetJob("abc").status().code(), StatusCode::kPermissionDenied);
}

TEST_F(HttpApiTest, SubmitGetListBackupsAndMetrics) {
  auto c = DaemonClient::Create(url_, "secret");
  ASSERT_TRUE(c.ok());
  auto job = c->SubmitJob("backup", "");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  const std::string id = (*job)["id"];
  EXPECT_EQ((*job)["kind"], "backup");
  nlohmann::json done = WaitFinished(*c, id);
  EXPECT_EQ(done["state"], "succeeded") << done;
  EXPECT_TRUE(done["result"]["key"].get<std::string>().starts_with("backups/full/")) << done;

  auto list = Get("/api/jobs?limit=10&offset=0", "secret");
  ASSERT_TRUE(list);
  auto lj = nlohmann::json::parse(list->body);
  EXPECT_EQ(lj["total"], 1);
  EXPECT_EQ(lj["jobs"][0]["id"], id);
  EXPECT_EQ(Get("/api/jobs?limit=x", "secret")->status, 400);

  auto backups = Get("/api/backups", "secret");
  ASSERT_TRUE(backups);
  auto bj = nlohmann::json::parse(backups->body);
  ASSERT_EQ(bj.size(), 1u) << bj;
  EXPECT_EQ(bj[0]["key"], done["result"]["key"]);

  auto metrics = Get("/metrics", "secret");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("dbbackup_backups_total{database=\"app.db\"} 1\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("dbbackup_next_run_timestamp_seconds{database=\"app.db\"} "
                               "1795737600\n"),
            std::string::npos)
      << metrics->body;

  EXPECT_EQ(c->GetJob("nosuchjob").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c->SubmitJob("dance", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->SubmitJob("backup", "other.db").status().code(), StatusCode::kNotFound);
}

TEST_F(HttpApiTest, DashboardIsServedWithoutTheTokenAndHoldsNoSecret) {
  for (const char* path : {"/", "/dashboard.js", "/dashboard.css"}) {
    auto r = Get(path, "");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"), DashboardContentSecurityPolicy());
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->body.find("secret"), std::string::npos) << path;
  }
  auto page = Get("/", "");
  EXPECT_TRUE(page->get_header_value("Content-Type").starts_with("text/html")) << page->body;
  EXPECT_NE(page->body.find("<script src=\"/dashboard.js\""), std::string::npos);
  // Nothing from outside the daemon (no CDN).
  // (The SVG namespace name is a URL, but not one that is fetched.)
  for (std::string_view asset : {DashboardHtml(), DashboardScript(), DashboardStyle()}) {
    std::string text(asset);
    const std::string kSvgNamespace = "http://www.w3.org/2000/svg";
    for (size_t at; (at = text.find(kSvgNamespace)) != std::string::npos;) {
      text.erase(at, kSvgNamespace.size());
    }
    EXPECT_EQ(text.find("http://"), std::string::npos);
    EXPECT_EQ(text.find("https://"), std::string::npos);
    EXPECT_EQ(text.find("//cdn"), std::string::npos);
  }
  // The DOM is built from text nodes only: no HTML parsing of API data.
  for (const char* sink :
       {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
    EXPECT_EQ(DashboardScript().find(sink), std::string_view::npos) << sink;
  }
  EXPECT_NE(DashboardContentSecurityPolicy().find("script-src 'self'"), std::string_view::npos);
  EXPECT_EQ(DashboardContentSecurityPolicy().find("unsafe"), std::string_view::npos);
}

TEST_F(HttpApiTest, DatabasesListsScheduleAndNextRun) {
  EXPECT_EQ(Get("/api/databases", "")->status, 401);
  auto r = Get("/api/databases", "secret");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto j = nlohmann::json::parse(r->body);
  ASSERT_EQ(j.size(), 1u) << j;
  EXPECT_EQ(j[0]["name"], "app.db");
  EXPECT_EQ(j[0]["path"], dir_.File("app.db"));
  EXPECT_EQ(j[0]["schedule"], "@daily");
  EXPECT_EQ(j[0]["timezone"], "UTC");
  EXPECT_EQ(j[0]["next_run"], "2026-11-27T00:00:00Z");
}

TEST(HttpApiStartTest, NonLoopbackWithoutTokenRefused) {
  HttpApiOptions o;
  o.host = "0.0.0.0";
  o.port = 0;
  HttpApi api(nullptr, nullptr, {}, o);
  EXPECT_EQ(api.Start().code(), StatusCode::kInvalidArgument);
}

TEST(DaemonClientTest, NoDaemonIsUnavailable) {
  // Bind a port and close it, so nothing listens there.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  auto c = DaemonClient::Create("http://127.0.0.1:" + std::to_string(port), "t");
  ASSERT_TRUE(c.ok());
  auto r = c->SubmitJob("backup", "");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("dbbackup daemon"), std::string::npos);
  EXPECT_FALSE(DaemonClient::Create("https://x", "t").ok());
  EXPECT_FALSE(DaemonClient::Create("http://x:y", "t").ok());
  EXPECT_FALSE(DaemonClient::Create("http://x/path", "t").ok());
}

}  // namespace
}  // namespace dbbackup::daemon
