#include "daemon/jobs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/catalog.h"
#include "engine/test_db.h"
#include "env/clock.h"
#include "store/mem_store.h"
#include "testing/temp_dir.h"

namespace dbbackup::daemon {
namespace {

using std::chrono::hours;

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.File("app.db");
    engine::testing::MakeDb(db_path_, 200);
    auto state = StateDb::Open(dir_.File("state.db"), clock_.Now());
    ASSERT_TRUE(state.ok());
    state_ = std::move(state).value();
    ctx_.store = &store_;
    ctx_.clock = &clock_;
  }

  DatabaseConfig Database(const std::string& schedule = "@daily") {
    DatabaseConfig d;
    d.name = "app.db";
    d.backup.db_path = db_path_;
    d.backup.temp_dir = dir_.path().string();
    d.schedule = *ParseSchedule(schedule);
    return d;
  }

  std::unique_ptr<JobRunner> Runner() {
    return std::make_unique<JobRunner>(ctx_, state_.get(), std::vector{Database()});
  }

  // Polls the state db (real time) until the job has finished.
  JobRecord WaitFinished(const std::string& id) {
    for (int i = 0; i < 3000; ++i) {
      auto j = state_->GetJob(id);
      if (j.ok() && j->Finished()) return *j;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "job " << id << " did not finish";
    return {};
  }

  testing::ScopedTempDir dir_;
  std::string db_path_;
  env::FakeClock clock_{std::chrono::sys_days(std::chrono::year(2026) / 11 / 26) + hours(12)};
  store::MemObjectStore store_;
  engine::EngineContext ctx_;
  std::unique_ptr<StateDb> state_;
};

TEST_F(JobRunnerTest, EveryKindRunsAndRecordsItsResult) {
  auto runner = Runner();
  ASSERT_TRUE(runner->Start(false).ok());
  auto backup = runner->Submit(kKindBackup, "", "api");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(backup->id.size(), 12u);
  EXPECT_EQ(backup->database, "app.db");
  JobRecord b = WaitFinished(backup->id);
  ASSERT_EQ(b.state, kJobSucceeded) << b.error;
  auto result = nlohmann::json::parse(b.result);
  EXPECT_TRUE(result.value("key", "").starts_with("backups/full/")) << result;
  EXPECT_GT(result.value("compressed_size", 0), 0);
  EXPECT_GT(b.started_ms, 0);
  EXPECT_GE(b.finished_ms, b.started_ms);

  for (const char* kind : {kKindVerify, kKindRestoreDrill, kKindPrune}) {
    auto job = runner->Submit(kind, "app.db", "api");
    ASSERT_TRUE(job.ok()) << kind;
    JobRecord j = WaitFinished(job->id);
    EXPECT_EQ(j.state, kJobSucceeded) << kind << ": " << j.error;
    auto r = nlohmann::json::parse(j.result);
    EXPECT_TRUE(r.contains("duration_s")) << r;
    if (std::string(kind) == kKindRestoreDrill) {
      EXPECT_EQ(r.value("key", ""), result.value("key", ""));
      EXPECT_TRUE(r.value("checksum_verified", false)) << r;
    }
  }
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(10)));
}

TEST_F(JobRunnerTest, SameKindJoinsOtherKindsQueue) {
  auto runner = Runner();
  // Not started yet: everything stays queued.
  auto a = runner->Submit(kKindBackup, "app.db", "api");
  auto b = runner->Submit(kKindBackup, "", "schedule");
  auto v = runner->Submit(kKindVerify, "app.db", "api");
  ASSERT_TRUE(a.ok() && b.ok() && v.ok());
  EXPECT_EQ(a->id, b->id);
  EXPECT_NE(a->id, v->id);
  ASSERT_TRUE(runner->Start(false).ok());
  EXPECT_EQ(WaitFinished(a->id).state, kJobSucceeded);
  EXPECT_EQ(WaitFinished(v->id).state, kJobSucceeded);
  // Finished jobs are not joined.
  auto c = runner->Submit(kKindBackup, "app.db", "api");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->id, a->id);
  WaitFinished(c->id);
  auto list = state_->ListJobs(10, 0);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);
}

TEST_F(JobRunnerTest, BadSubmissions) {
  auto runner = Runner();
  EXPECT_EQ(runner->Submit("dance", "", "api").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runner->Submit(kKindBackup, "other.db", "api").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(runner->Start(false).ok());
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(10)));
}

// A store whose Put reads its body a byte at a time, slowly: a backup in it
// outlives any short grace period unless it is cancelled.
class SlowPutStore : public store::MemObjectStore {
 public:
  Result<store::ObjectInfo> Put(const std::string& /*key*/, Reader& body,
                                const store::PutOptions& /*opts*/) override {
    put_started = true;
    char c;
    while (true) {
      auto n = body.Read(&c, 1);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return Status::IOError("the test wanted the upload cancelled before its end");
  }
  std::atomic<bool> put_started{false};
};

TEST_F(JobRunnerTest, ShutdownCancelsAJobThatOutlivesTheGracePeriod) {
  SlowPutStore slow;
  ctx_.store = &slow;
  auto runner = Runner();
  ASSERT_TRUE(runner->Start(false).ok());
  auto job = runner->Submit(kKindBackup, "", "api");
  ASSERT_TRUE(job.ok());
  for (int i = 0; i < 3000 && !slow.put_started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(slow.put_started);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(runner->Shutdown(std::chrono::milliseconds(50), std::chrono::seconds(30)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  auto record = state_->GetJob(job->id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->state, kJobFailed);
  EXPECT_NE(record->error.find("cancelled"), std::string::npos) << record->error;
  auto listed = slow.List("", "");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->objects.empty());
}

TEST_F(JobRunnerTest, ReloadReplacesDatabasesAndReplansSchedules) {
  const std::string other_path = dir_.File("other.db");
  engine::testing::MakeDb(other_path, 20);
  auto runner = Runner();
  ASSERT_TRUE(runner->Start(true).ok());
  auto wait_next = [&](const std::string& name, const std::string& want) {
    for (int i = 0; i < 3000; ++i) {
      auto next = runner->NextRun(name);
      if (next && FormatTime(*next) == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_TRUE(wait_next("app.db", "2026-11-27T00:00:00Z"));

  DatabaseConfig app = Database("@hourly");
  DatabaseConfig other = Database("@daily");
  other.name = "other.db";
  other.backup.db_path = other_path;
  runner->Reload({app, other});
  EXPECT_TRUE(wait_next("app.db", "2026-11-26T13:00:00Z"));
  EXPECT_TRUE(wait_next("other.db", "2026-11-27T00:00:00Z"));
  ASSERT_EQ(runner->databases().size(), 2u);
  auto job = runner->Submit(kKindBackup, "other.db", "api");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(WaitFinished(job->id).state, kJobSucceeded);
  // "" names the only database: with two it is ambiguous.
  EXPECT_EQ(runner->Submit(kKindBackup, "", "api").status().code(), StatusCode::kNotFound);

  runner->Reload({app});
  EXPECT_EQ(runner->Submit(kKindBackup, "other.db", "api").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(wait_next("app.db", "2026-11-26T13:00:00Z"));
  EXPECT_FALSE(runner->NextRun("other.db").has_value());
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(10)));
}

TEST_F(JobRunnerTest, ListenerHearsOfEveryFinishedJob) {
  auto runner = Runner();
  std::mutex mu;
  std::vector<std::string> heard;
  runner->SetJobListener([&](const JobRecord& job, const DatabaseConfig& d) {
    std::lock_guard lock(mu);
    heard.push_back(job.id + " " + job.state + " " + d.name);
  });
  ASSERT_TRUE(runner->Start(false).ok());
  auto job = runner->Submit(kKindBackup, "", "api");
  ASSERT_TRUE(job.ok());
  WaitFinished(job->id);
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(10)));
  std::lock_guard lock(mu);
  EXPECT_EQ(heard, std::vector<std::string>{job->id + " succeeded app.db"});
}

TEST_F(JobRunnerTest, ShutdownRefusesNewJobsAndFailsQueuedOnes) {
  auto runner = Runner();
  auto queued = runner->Submit(kKindVerify, "", "api");
  ASSERT_TRUE(queued.ok());
  // Started and stopped at once: the queued job may or may not have begun.
  ASSERT_TRUE(runner->Start(false).ok());
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(30)));
  EXPECT_EQ(runner->Submit(kKindBackup, "", "api").status().code(), StatusCode::kUnavailable);
  auto j = state_->GetJob(queued->id);
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE(j->Finished()) << j->state;
}

TEST_F(JobRunnerTest, FailedJobRecordsTheError) {
  DatabaseConfig d = Database();
  d.backup.db_path = dir_.File("missing.db");
  JobRunner runner(ctx_, state_.get(), {d});
  ASSERT_TRUE(runner.Start(false).ok());
  auto job = runner.Submit(kKindBackup, "", "api");
  ASSERT_TRUE(job.ok());
  JobRecord j = WaitFinished(job->id);
  EXPECT_EQ(j.state, kJobFailed);
  EXPECT_NE(j.error.find("missing.db"), std::string::npos) << j.error;
  EXPECT_EQ(nlohmann::json::parse(j.result).value("code", ""), "NotFound") << j.result;
}

TEST_F(JobRunnerTest, FirstStartRecordsTheTimeAndCatchesUpNothing) {
  auto runner = Runner();
  ASSERT_TRUE(runner->Start(true).ok());
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(10)));
  auto last = state_->LastRun("app.db");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(**last, clock_.Now());
  EXPECT_EQ(*state_->CountJobs(), 0);
}

TEST_F(JobRunnerTest, MissedRunIsCaughtUpOnceAtStart) {
  ASSERT_TRUE(state_->SetLastRun("app.db", clock_.Now() - hours(72)).ok());
  auto runner = Runner();
  ASSERT_TRUE(runner->Start(true).ok());
  auto jobs = state_->ListJobs(10, 0);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);  // three missed days, one catch-up
  EXPECT_EQ((*jobs)[0].trigger, "catch-up");
  EXPECT_EQ(WaitFinished((*jobs)[0].id).state, kJobSucceeded);
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(10)));
  EXPECT_EQ(**state_->LastRun("app.db"), clock_.Now());
}

TEST_F(JobRunnerTest, SchedulerSubmitsWhenTheSlotComes) {
  auto runner = Runner();
  ASSERT_TRUE(runner->Start(true).ok());
  // The next @daily slot is tomorrow 00:00; move the fake clock past it.
  for (int i = 0; i < 500 && !runner->NextRun("app.db").has_value(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(runner->NextRun("app.db").has_value());
  EXPECT_EQ(FormatTime(*runner->NextRun("app.db")), "2026-11-27T00:00:00Z");
  clock_.Advance(hours(13));
  std::vector<JobRecord> jobs;
  for (int i = 0; i < 500 && jobs.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    jobs = *state_->ListJobs(10, 0);
  }
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].trigger, "schedule");
  WaitFinished(jobs[0].id);
  EXPECT_EQ(FormatTime(*runner->NextRun("app.db")), "2026-11-28T00:00:00Z");
  EXPECT_TRUE(runner->Shutdown(std::chrono::seconds(10)));
}

}  // namespace
}  // namespace dbbackup::daemon

namespace dbbackup::daemon {
namespace {

TEST_F(JobRunnerTest, EachDatabaseUsesItsOwnStoreAndItsOwnBackups) {
  const std::string other_path = dir_.File("other.db");
  engine::testing::MakeDb(other_path, 50);
  store::MemObjectStore other_store;
  DatabaseConfig a = Database();
  DatabaseConfig b = Database();
  b.name = "other";
  b.backup.db_path = other_path;
  b.store = &other_store;
  b.prefix = "elsewhere";
  // A third database sharing a's store and prefix: its verify must not pick
  // a's backup.
  DatabaseConfig c = Database();
  c.name = "third";
  c.backup.db_path = dir_.File("third.db");
  engine::testing::MakeDb(c.backup.db_path, 10);
  JobRunner runner(ctx_, state_.get(), {a, b, c});
  ASSERT_TRUE(runner.Start(false).ok());
  auto ja = runner.Submit(kKindBackup, "app.db", "api");
  auto jb = runner.Submit(kKindBackup, "other", "api");
  ASSERT_TRUE(ja.ok() && jb.ok());
  ASSERT_EQ(WaitFinished(ja->id).state, kJobSucceeded);
  ASSERT_EQ(WaitFinished(jb->id).state, kJobSucceeded);
  auto in_a = catalog::ListBackups(store_, "backups");
  auto in_b = catalog::ListBackups(other_store, "elsewhere");
  ASSERT_TRUE(in_a.ok() && in_b.ok());
  ASSERT_EQ(in_a->size(), 1u);
  ASSERT_EQ(in_b->size(), 1u);
  EXPECT_TRUE((*in_b)[0].key.ends_with("/other.db.gz")) << (*in_b)[0].key;
  auto vb = runner.Submit(kKindRestoreDrill, "other", "api");
  ASSERT_TRUE(vb.ok());
  JobRecord drill = WaitFinished(vb->id);
  EXPECT_EQ(drill.state, kJobSucceeded) << drill.error;
  EXPECT_EQ(nlohmann::json::parse(drill.result)["key"], (*in_b)[0].key);
  auto vc = runner.Submit(kKindVerify, "third", "api");
  ASSERT_TRUE(vc.ok());
  JobRecord verify = WaitFinished(vc->id);
  EXPECT_EQ(verify.state, kJobFailed);
  EXPECT_NE(verify.error.find("no backups of third"), std::string::npos) << verify.error;
  EXPECT_TRUE(runner.Shutdown(std::chrono::seconds(10)));
}

}  // namespace
}  // namespace dbbackup::daemon
