#include "daemon/state_db.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace dbbackup::daemon {
namespace {

const TimePoint kNow = FromMillis(1'790'000'000'000);

JobRecord Job(const std::string& id, int64_t created_ms, const std::string& state = kJobQueued) {
  JobRecord j;
  j.id = id;
  j.kind = "backup";
  j.database = "app.db";
  j.state = state;
  j.trigger = "api";
  j.created_ms = created_ms;
  return j;
}

TEST(StateDbTest, JobsRoundTripAndPersistAcrossReopen) {
  testing::ScopedTempDir dir;
  const std::string path = dir.File("state.db");
  {
    auto db = StateDb::Open(path, kNow);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    JobRecord j = Job("abc123", 1000);
    ASSERT_TRUE((*db)->InsertJob(j).ok());
    EXPECT_EQ((*db)->InsertJob(j).code(), StatusCode::kAlreadyExists);
    j.state = kJobSucceeded;
    j.started_ms = 1001;
    j.finished_ms = 2000;
    j.result = R"({"key":"backups/full/x/app.db.gz"})";
    ASSERT_TRUE((*db)->UpdateJob(j).ok());
    EXPECT_EQ((*db)->UpdateJob(Job("nope", 1)).code(), StatusCode::kNotFound);
    ASSERT_TRUE((*db)->SetLastRun("app.db", FromMillis(5000)).ok());
  }
  auto db = StateDb::Open(path, kNow);
  ASSERT_TRUE(db.ok());
  auto j = (*db)->GetJob("abc123");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state, kJobSucceeded);
  EXPECT_EQ(j->kind, "backup");
  EXPECT_EQ(j->trigger, "api");
  EXPECT_EQ(j->started_ms, 1001);
  EXPECT_EQ(j->finished_ms, 2000);
  EXPECT_EQ(j->result, R"({"key":"backups/full/x/app.db.gz"})");
  EXPECT_TRUE(j->Finished());
  EXPECT_EQ((*db)->GetJob("missing").status().code(), StatusCode::kNotFound);
  auto last = (*db)->LastRun("app.db");
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ(ToMillis(**last), 5000);
  auto none = (*db)->LastRun("other.db");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE((*db)->SetLastRun("app.db", FromMillis(7000)).ok());
  EXPECT_EQ(ToMillis(**(*db)->LastRun("app.db")), 7000);
}

TEST(StateDbTest, UnfinishedJobsOfADeadDaemonAreMarkedFailed) {
  testing::ScopedTempDir dir;
  const std::string path = dir.File("state.db");
  {
    auto db = StateDb::Open(path, kNow);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->InsertJob(Job("q", 1, kJobQueued)).ok());
    ASSERT_TRUE((*db)->InsertJob(Job("r", 2, kJobRunning)).ok());
    ASSERT_TRUE((*db)->InsertJob(Job("s", 3, kJobSucceeded)).ok());
  }
  auto db = StateDb::Open(path, kNow);
  ASSERT_TRUE(db.ok());
  for (const char* id : {"q", "r"}) {
    auto j = (*db)->GetJob(id);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(j->state, kJobFailed) << id;
    EXPECT_EQ(j->error, "daemon stopped before the job finished");
    EXPECT_EQ(j->finished_ms, ToMillis(kNow));
  }
  EXPECT_EQ((*db)->GetJob("s")->state, kJobSucceeded);
}

TEST(StateDbTest, ListIsNewestFirstAndPaged) {
  testing::ScopedTempDir dir;
  auto db = StateDb::Open(dir.File("state.db"), kNow);
  ASSERT_TRUE(db.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*db)->InsertJob(Job("j" + std::to_string(i), 100 + i)).ok());
  }
  auto page = (*db)->ListJobs(2, 0);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, "j4");
  EXPECT_EQ((*page)[1].id, "j3");
  page = (*db)->ListJobs(2, 4);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "j0");
  EXPECT_EQ(*(*db)->CountJobs(), 5);
}

TEST(StateDbTest, Stats) {
  testing::ScopedTempDir dir;
  auto db = StateDb::Open(dir.File("state.db"), kNow);
  ASSERT_TRUE(db.ok());
  auto empty = (*db)->Stats("app.db", "backup");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->succeeded, 0);
  EXPECT_FALSE(empty->last_success.has_value());
  JobRecord a = Job("a", 1, kJobSucceeded);
  a.finished_ms = 10;
  a.result = R"({"compressed_size": 100})";
  JobRecord b = Job("b", 2, kJobSucceeded);
  b.finished_ms = 20;
  b.result = R"({"compressed_size": 23})";
  JobRecord c = Job("c", 3, kJobFailed);
  JobRecord d = Job("d", 4, kJobSucceeded);
  d.kind = "verify";
  d.finished_ms = 30;
  for (const auto& j : {a, b, c, d}) ASSERT_TRUE((*db)->InsertJob(j).ok());
  auto s = (*db)->Stats("app.db", "backup");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->succeeded, 2);
  EXPECT_EQ(s->failed, 1);
  EXPECT_EQ(s->compressed_bytes, 123);
  ASSERT_TRUE(s->last_success.has_value());
  EXPECT_EQ(s->last_success->id, "b");
}

TEST(StateDbTest, NotADatabase) {
  testing::ScopedTempDir dir;
  const std::string path = dir.File("state.db");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not sqlite, this is just some text that is long enough to matter\n", f);
  std::fclose(f);
  auto db = StateDb::Open(path, kNow);
  EXPECT_FALSE(db.ok());
  auto missing_dir = StateDb::Open(dir.File("no/such/dir/state.db"), kNow);
  EXPECT_EQ(missing_dir.status().code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace dbbackup::daemon
