#include "snapshot/snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "snapshot/database_check.h"
#include "snapshot/test_util.h"

namespace dbbackup::snapshot {
namespace {

using testing::FileFormatBytes;
using testing::ListDir;
using testing::MakeDb;
using testing::ScratchDir;
using testing::TestDb;
using Clock = std::chrono::steady_clock;

// Rows of `table` that differ between the snapshot (main) and the source.
long long DiffRows(TestDb& snap, const std::string& source, const std::string& table) {
  snap.Exec("ATTACH DATABASE '" + source + "' AS src");
  long long diff = snap.QueryInt("SELECT count(*) FROM (SELECT * FROM main." + table +
                                 " EXCEPT SELECT * FROM src." + table + ")") +
                   snap.QueryInt("SELECT count(*) FROM (SELECT * FROM src." + table +
                                 " EXCEPT SELECT * FROM main." + table + ")");
  snap.Exec("DETACH DATABASE src");
  return diff;
}

TEST(TakeSnapshotTest, EqualsSourceAndIsSelfContained) {
  ScratchDir dir;
  const std::string source = dir.File("source.db");
  MakeDb(source, 2000, 300, "wal");
  SnapshotOptions opts;
  opts.temp_dir = dir.File("tmp");
  ASSERT_EQ(::mkdir(opts.temp_dir.c_str(), 0700), 0);

  Result<Snapshot> snap = TakeSnapshot(source, opts);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->size(), env::FileSize(snap->path()).value());
  EXPECT_EQ(env::DirName(snap->path()), opts.temp_dir);
  // Rollback-journal format in the header, and no -wal/-shm/-journal beside it.
  EXPECT_EQ(FileFormatBytes(snap->path()), "1,1");
  EXPECT_EQ(ListDir(opts.temp_dir).size(), 1u);
  EXPECT_TRUE(IntegrityCheck(snap->path()).ok());
  {
    TestDb db(snap->path(), SQLITE_OPEN_READONLY);
    EXPECT_EQ(db.Query("PRAGMA journal_mode"), "delete");
    EXPECT_EQ(db.QueryInt("SELECT count(*) FROM items"), 2000);
    EXPECT_EQ(DiffRows(db, source, "items"), 0);
  }
  const std::string path = snap->path();
  { Snapshot moved = std::move(snap.value()); }
  EXPECT_FALSE(env::PathExists(path));
}

TEST(TakeSnapshotTest, ReleaseKeepsTheFile) {
  ScratchDir dir;
  MakeDb(dir.File("source.db"), 10);
  SnapshotOptions opts;
  opts.temp_dir = dir.path();
  std::string kept;
  {
    Result<Snapshot> snap = TakeSnapshot(dir.File("source.db"), opts);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    kept = snap->Release();
  }
  EXPECT_TRUE(env::PathExists(kept));
}

TEST(TakeSnapshotTest, MissingSourceCreatesNothing) {
  ScratchDir dir;
  SnapshotOptions opts;
  opts.temp_dir = dir.path();
  Result<Snapshot> snap = TakeSnapshot(dir.File("missing.db"), opts);
  EXPECT_EQ(snap.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(TakeSnapshotTest, DefaultTempDirFollowsTmpdir) {
  const char* old = std::getenv("TMPDIR");
  std::string saved = old ? old : "";
  ::setenv("TMPDIR", "/some/where", 1);
  EXPECT_EQ(DefaultTempDir(), "/some/where");
  ::setenv("TMPDIR", "", 1);
  EXPECT_EQ(DefaultTempDir(), "/tmp");
  if (old) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
}

// Keeps committing transactions that each insert the same value into tables
// a and b, so "a and b hold the same rows" holds in every committed state.
class InvariantWriter {
 public:
  // `pause` is slept between transactions.
  InvariantWriter(const std::string& path, std::chrono::microseconds pause)
      : db_(path), pause_(pause) {
    db_.Exec("PRAGMA synchronous = NORMAL");
    thread_ = std::thread([this] { Run(); });
  }
  ~InvariantWriter() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t commits() const { return commits_; }
  int failures() const { return failures_; }
  // Commits whose COMMIT returned within [from, to].
  int CommitsBetween(Clock::time_point from, Clock::time_point to) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (auto t : commit_times_) n += t >= from && t <= to;
    return n;
  }

 private:
  void Run() {
    for (int64_t i = 1; !stop_; ++i) {
      std::string v = std::to_string(i);
      int rc = sqlite3_exec(db_.get(),
                            ("BEGIN IMMEDIATE; INSERT INTO a(v) VALUES (" + v +
                             "); INSERT INTO b(v) VALUES (" + v + "); COMMIT")
                                .c_str(),
                            nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK) {
        ++failures_;
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        continue;
      }
      ++commits_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        commit_times_.push_back(Clock::now());
      }
      if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
    }
  }

  TestDb db_;
  const std::chrono::microseconds pause_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> commits_{0};
  std::atomic<int> failures_{0};
  std::mutex mu_;
  std::vector<Clock::time_point> commit_times_;
};

struct ConcurrentRun {
  double snapshot_ms = 0;
  int commits_during = 0;
};

// Snapshots a ~40 MB database while InvariantWriter commits, and checks that
// the snapshot holds a committed state.
ConcurrentRun SnapshotUnderWrites(const std::string& journal_mode,
                                  std::chrono::microseconds writer_pause) {
  ScratchDir dir;
  const std::string source = dir.File("source.db");
  MakeDb(source, 10000, 4000, journal_mode);
  {
    TestDb db(source);
    db.Exec("CREATE TABLE a(id INTEGER PRIMARY KEY, v INTEGER)");
    db.Exec("CREATE TABLE b(id INTEGER PRIMARY KEY, v INTEGER)");
  }
  InvariantWriter writer(source, writer_pause);
  while (writer.commits() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  SnapshotOptions opts;
  opts.temp_dir = dir.path();
  const auto start = Clock::now();
  Result<Snapshot> snap = TakeSnapshot(source, opts);
  const auto end = Clock::now();
  // Let the writer go on a little: the source must stay writable afterwards.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  writer.Stop();
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(writer.failures(), 0);
  ConcurrentRun run;
  run.snapshot_ms = std::chrono::duration<double, std::milli>(end - start).count();
  run.commits_during = writer.CommitsBetween(start, end);
  if (!snap.ok()) return run;

  EXPECT_TRUE(IntegrityCheck(snap->path()).ok());
  TestDb db(snap->path(), SQLITE_OPEN_READONLY);
  long long a = db.QueryInt("SELECT count(*) FROM a");
  EXPECT_GE(a, 50);
  EXPECT_EQ(a, db.QueryInt("SELECT count(*) FROM b"));
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM a JOIN b USING (id) WHERE a.v = b.v"), a);
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM items"), 10000);
  EXPECT_LT(a, writer.commits()) << "the writer kept committing after the snapshot";
  return run;
}

TEST(TakeSnapshotTest, WalModeDoesNotBlockWriterAndIsConsistent) {
  ConcurrentRun run = SnapshotUnderWrites("wal", std::chrono::microseconds(0));
  std::printf("WAL snapshot of ~40 MB: %.1f ms, %d writer commits during it\n", run.snapshot_ms,
              run.commits_during);
  // One read transaction covers the copy, and in WAL mode it does not stop
  // writers: they must keep committing while the copy runs.
  EXPECT_GT(run.commits_during, 0);
}

TEST(TakeSnapshotTest, RollbackModeIsConsistent) {
  // SQLite's locks are not fair: a writer committing back to back can keep a
  // reader from ever getting its SHARED lock (the reader polls with growing
  // sleeps). A short pause between transactions, as real applications have,
  // lets the snapshot in.
  ConcurrentRun run = SnapshotUnderWrites("delete", std::chrono::microseconds(500));
  // In rollback mode the writer waits for the shared lock; only consistency
  // and the absence of writer errors are required.
  std::printf("rollback snapshot of ~40 MB: %.1f ms, %d writer commits during it\n",
              run.snapshot_ms, run.commits_during);
}

}  // namespace
}  // namespace dbbackup::snapshot
