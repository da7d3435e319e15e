#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace dbbackup::log {
namespace {

const auto kNoon = std::chrono::sys_days(std::chrono::year(2026) / 11 / 26) +
                   std::chrono::hours(12) + std::chrono::milliseconds(123);

TEST(LogFormatTest, TextIsTheSeedsFormWithTheJobId) {
  EXPECT_EQ(FormatLine(Format::kText, Level::kInfo, "daemon stopped", {}, kNoon),
            "dbbackup: daemon stopped");
  EXPECT_EQ(FormatLine(Format::kText, Level::kWarning, "slow", {}, kNoon),
            "dbbackup: warning: slow");
  const JobContext job{"abc123def456", "app.db"};
  EXPECT_EQ(FormatLine(Format::kText, Level::kError, "upload failed", job, kNoon),
            "dbbackup: error: job abc123def456: upload failed");
  // A message naming the job already is not prefixed twice.
  EXPECT_EQ(FormatLine(Format::kText, Level::kInfo, "job abc123def456 (backup app.db): started",
                       job, kNoon),
            "dbbackup: job abc123def456 (backup app.db): started");
}

TEST(LogFormatTest, JsonIsOneObjectPerLineWithJobFields) {
  const JobContext job{"abc123def456", "app.db"};
  const std::string line =
      FormatLine(Format::kJson, Level::kError, "bad \"bucket\"\nsecond line", job, kNoon);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-11-26T12:00:00.123Z");
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["message"], "bad \"bucket\"\nsecond line");
  EXPECT_EQ(j["job_id"], "abc123def456");
  EXPECT_EQ(j["database"], "app.db");

  auto outside = nlohmann::json::parse(FormatLine(Format::kJson, Level::kInfo, "hi", {}, kNoon));
  EXPECT_FALSE(outside.contains("job_id"));
  EXPECT_FALSE(outside.contains("database"));
  // Bytes that are not UTF-8 (a path, an S3 error) never break the line.
  auto bad = nlohmann::json::parse(
      FormatLine(Format::kJson, Level::kInfo, std::string("caf\xe9", 4), {}, kNoon));
  EXPECT_TRUE(bad["message"].get<std::string>().starts_with("caf"));
}

TEST(LogFormatTest, ParseFormat) {
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("xml").status().code(), StatusCode::kInvalidArgument);
}

TEST(LogJobContextTest, ScopedPerThreadAndRestored) {
  EXPECT_TRUE(CurrentJob().id.empty());
  {
    ScopedJob outer({"job1", "a.db"});
    EXPECT_EQ(CurrentJob().id, "job1");
    std::string other_thread = "unset";
    std::thread([&] { other_thread = CurrentJob().id; }).join();
    EXPECT_EQ(other_thread, "");
    {
      ScopedJob inner({"job2", "b.db"});
      EXPECT_EQ(CurrentJob().database, "b.db");
    }
    EXPECT_EQ(CurrentJob().id, "job1");
  }
  EXPECT_TRUE(CurrentJob().id.empty());
}

TEST(LogSinkTest, SinkSeesTheJobOfTheLoggingThread) {
  std::vector<std::string> lines;
  SetSink([&](Level level, std::string_view m) {
    lines.push_back(FormatLine(Format::kText, level, m, CurrentJob(), kNoon));
  });
  {
    ScopedJob job({"j42", "x.db"});
    Info("step one");
  }
  Info("after");
  SetSink(nullptr);
  EXPECT_EQ(lines, (std::vector<std::string>{"dbbackup: job j42: step one", "dbbackup: after"}));
}

}  // namespace
}  // namespace dbbackup::log
