#include "daemon/config.h"

#include <gtest/gtest.h>

namespace dbbackup::daemon {
namespace {

const std::map<std::string, std::string> kEnv = {{"APP_BUCKET", "app-backups"},
                                                 {"HOME", "/home/u"}};

TEST(DaemonConfigTest, DatabasesWithDefaultsAndVariables) {
  auto c = ParseDaemonConfig(R"(
[daemon]
listen = "127.0.0.1:9999"
state_dir = "${HOME}/state"

[defaults]
schedule = "@every 6h"
retention_days = 7

[[database]]
path = "/srv/app/app.db"
bucket = "${APP_BUCKET}"
prefix = "backups/app"

[[database]]
name = "metrics"
path = "/srv/m.db"
schedule = "30 2 * * *"
timezone = "+02:00"
jitter = "5m"
min_keep = 3
local_dir = "/backups/m"
)",
                             "dbbackup.toml", kEnv);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:9999");
  EXPECT_EQ(c->state_dir, "/home/u/state");
  ASSERT_EQ(c->databases.size(), 2u);
  const DatabaseEntry& a = c->databases[0];
  EXPECT_EQ(a.name, "app.db");
  EXPECT_EQ(a.path, "/srv/app/app.db");
  EXPECT_EQ(a.schedule, "@every 6h");
  EXPECT_EQ(a.retention_days, 7);
  EXPECT_FALSE(a.min_keep.has_value());
  EXPECT_EQ(a.bucket, "app-backups");
  EXPECT_EQ(a.prefix, "backups/app");
  const DatabaseEntry& m = c->databases[1];
  EXPECT_EQ(m.name, "metrics");
  EXPECT_EQ(m.schedule, "30 2 * * *");
  EXPECT_EQ(m.timezone, "+02:00");
  EXPECT_EQ(m.jitter, "5m");
  EXPECT_EQ(m.retention_days, 7);
  EXPECT_EQ(m.min_keep, 3);
  EXPECT_EQ(m.local_dir, "/backups/m");
}

TEST(DaemonConfigTest, WebhookAndIanaZonePerDatabaseOverDefaults) {
  auto c = ParseDaemonConfig(R"(
[defaults]
webhook_url = "https://hooks.example/${APP_BUCKET}"
timezone = "Europe/Berlin"

[[database]]
path = "/srv/a.db"

[[database]]
path = "/srv/b.db"
webhook_url = "http://127.0.0.1:9/b"
webhook_on_success = true
)",
                             "dbbackup.toml", kEnv);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->databases.size(), 2u);
  EXPECT_EQ(c->databases[0].webhook_url, "https://hooks.example/app-backups");
  EXPECT_FALSE(c->databases[0].webhook_on_success.has_value());
  EXPECT_EQ(c->databases[0].timezone, "Europe/Berlin");
  EXPECT_EQ(c->databases[1].webhook_url, "http://127.0.0.1:9/b");
  EXPECT_EQ(c->databases[1].webhook_on_success, true);

  auto bad = ParseDaemonConfig("[[database]]\npath = \"/a.db\"\nwebhook_on_success = \"yes\"\n",
                               "f.toml", kEnv);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("webhook_on_success must be true or false"),
            std::string::npos)
      << bad.status().message();
  auto zone = ParseDaemonConfig("[[database]]\npath = \"/a.db\"\ntimezone = \"Mars/Base\"\n",
                                "f.toml", kEnv);
  ASSERT_FALSE(zone.ok());
  EXPECT_NE(zone.status().message().find("unknown time zone 'Mars/Base'"), std::string::npos)
      << zone.status().message();
}

void ExpectBad(const char* text, const char* fragment) {
  auto c = ParseDaemonConfig(text, "f.toml", kEnv);
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(fragment), std::string::npos) << c.status().message();
  EXPECT_TRUE(c.status().message().starts_with("f.toml: ")) << c.status().message();
}

TEST(DaemonConfigTest, Errors) {
  ExpectBad("[[database]\npath = 1", "line 1");
  ExpectBad("", "no [[database]] entries");
  ExpectBad("[[database]]\nname = \"x\"\n", "database[0] has no path");
  ExpectBad("[[database]]\npath = \"/a.db\"\nscheduel = \"@daily\"\n",
            "unknown key database[0].scheduel");
  ExpectBad("[[database]]\npath = 5\n", "database[0].path must be a string");
  ExpectBad("[[database]]\npath = \"/a.db\"\nretention_days = \"7\"\n",
            "retention_days must be an integer");
  ExpectBad("[[database]]\npath = \"/a.db\"\nmin_keep = 0\n", "min_keep must be >= 1");
  ExpectBad("[[database]]\npath = \"/a.db\"\n[[database]]\npath = \"/b/a.db\"\n",
            "'a.db' is used twice");
  ExpectBad("[[database]]\npath = \"/a.db\"\nschedule = \"61 * * * *\"\n",
            "database[0]: BACKUP_SCHEDULE: minute field '61'");
  ExpectBad("[[database]]\npath = \"/a.db\"\nbucket = \"${NOPE}\"\n",
            "database[0].bucket: environment variable NOPE is not set");
  ExpectBad("[[database]]\npath = \"/a.db\"\njitter = \"soon\"\n", "database[0].jitter");
  ExpectBad("[surprise]\n[[database]]\npath = \"/a.db\"\n", "unknown key .surprise");
}

TEST(DaemonConfigTest, ExpandVariables) {
  EXPECT_EQ(*ExpandVariables("a${HOME}b${APP_BUCKET}", kEnv),
            "a/home/ub"
            "app-backups");
  EXPECT_EQ(*ExpandVariables("no vars $HOME", kEnv), "no vars $HOME");
  EXPECT_FALSE(ExpandVariables("${HOME", kEnv).ok());
  EXPECT_FALSE(ExpandVariables("${}", kEnv).ok());
}

}  // namespace
}  // namespace dbbackup::daemon
