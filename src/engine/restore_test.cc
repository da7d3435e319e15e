#include "engine/restore.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/io.h"
#include "engine/backup.h"
#include "engine/test_db.h"
#include "env/file_util.h"
#include "snapshot/database_check.h"

namespace dbbackup::engine {
namespace {

using testing::EngineTest;
using testing::ReadBytes;

class RestoreTest : public EngineTest {
 protected:
  // Backs up the current database; returns the key.
  std::string Backup() {
    BackupOptions o;
    o.db_path = db_;
    o.temp_dir = dir_;
    auto r = RunBackup(ctx_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    clock_.Advance(std::chrono::seconds(10));
    return r.ok() ? r->key : "";
  }
  RestoreOptions Options(const std::string& key = "") {
    RestoreOptions o;
    o.key = key;
    o.target_path = db_;
    return o;
  }
  // Replaces the stored object's bytes, keeping its metadata.
  void Tamper(const std::string& key, const std::function<void(std::string&)>& edit) {
    auto head = mem_.Head(key);
    ASSERT_TRUE(head.ok());
    std::string body = *mem_.Contents(key);
    edit(body);
    StringReader reader(body);
    store::PutOptions po;
    po.metadata = head->metadata;
    ASSERT_TRUE(mem_.Put(key, reader, po).ok());
  }
};

TEST_F(RestoreTest, LatestReplacesDatabaseAndKeepsSafetyCopy) {
  testing::MakeDb(db_, 100);
  const std::string v1 = testing::DumpDb(db_);
  Backup();
  testing::ExecSql(db_, "DELETE FROM users WHERE id > 50");
  const std::string v2 = testing::DumpDb(db_);
  auto r = RunRestore(ctx_, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::DumpDb(db_), v1);
  ASSERT_FALSE(r->safety_copy_path.empty());
  // The safety copy is a consistent copy made through SQLite: same rows.
  EXPECT_EQ(testing::DumpDb(r->safety_copy_path), v2);
}

TEST_F(RestoreTest, GivenKeyIsRestored) {
  testing::MakeDb(db_, 20);
  const std::string v1 = testing::DumpDb(db_);
  const std::string k1 = Backup();
  testing::ExecSql(db_, "INSERT INTO users(name) VALUES('later')");
  Backup();
  auto r = RunRestore(ctx_, Options(k1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key, k1);
  EXPECT_EQ(testing::DumpDb(db_), v1);
}

TEST_F(RestoreTest, WhileAnotherConnectionHoldsTheDatabaseOpen) {
  testing::MakeDb(db_, 50);
  testing::ExecSql(db_, "PRAGMA journal_mode=WAL");
  const std::string v1 = testing::DumpDb(db_);
  Backup();
  testing::ExecSql(db_, "DELETE FROM users");
  sqlite3* app = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &app), SQLITE_OK);
  sqlite3_busy_timeout(app, 5000);
  ASSERT_EQ(sqlite3_exec(app, "SELECT count(*) FROM users", nullptr, nullptr, nullptr), SQLITE_OK);
  auto r = RunRestore(ctx_, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(app, "SELECT count(*) FROM users", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 50);  // the open connection sees the restored data
  sqlite3_finalize(st);
  sqlite3_close(app);
  EXPECT_EQ(testing::DumpDb(db_), v1);
}

TEST_F(RestoreTest, MissingKeyLeavesDatabaseUntouched) {
  testing::MakeDb(db_, 10);
  Backup();
  const std::string bytes = ReadBytes(db_);
  auto r = RunRestore(ctx_, Options("backups/full/20000101_000000/database.db.gz"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "backup not found: backups/full/20000101_000000/database.db.gz");
  EXPECT_TRUE(ReadBytes(db_) == bytes) << "the database changed";
}

TEST_F(RestoreTest, NoBackupsAtAll) {
  testing::MakeDb(db_, 10);
  auto r = RunRestore(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no backups found"), std::string::npos);
}

TEST_F(RestoreTest, KeysEscapingThePrefixAreRefused) {
  testing::MakeDb(db_, 10);
  for (const char* key : {"../etc/passwd", "backups/full/../../x", "/abs/key",
                          "backups/full/20240113_120000/../../../x.gz", "other/file.gz"}) {
    auto r = RunRestore(ctx_, Options(key));
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << key;
  }
}

TEST_F(RestoreTest, CorruptObjectLeavesDatabaseUntouched) {
  testing::MakeDb(db_, 200);
  const std::string key = Backup();
  testing::ExecSql(db_, "INSERT INTO users(name) VALUES('current')");
  const std::string bytes = ReadBytes(db_);
  Tamper(key, [](std::string& b) { b[b.size() / 2] ^= 0x55; });
  auto r = RunRestore(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_TRUE(ReadBytes(db_) == bytes) << "the database changed";
}

// Damage only the full integrity check sees (quick_check does not): an
// index whose entries no longer match its table. The backup stores it as it
// is; the restore must refuse it.
TEST_F(RestoreTest, IndexThatDisagreesWithItsTableFailsTheCheck) {
  testing::MakeDb(db_, 300);
  testing::ExecSql(db_,
                   "CREATE INDEX events_user ON events(user_id);"
                   "PRAGMA writable_schema = ON;"
                   "UPDATE sqlite_schema SET sql = 'CREATE INDEX events_user ON events(payload)' "
                   "WHERE name = 'events_user';");
  const std::string key = Backup();
  ASSERT_FALSE(key.empty());
  testing::ExecSql(db_, "DROP INDEX events_user");
  const std::string bytes = ReadBytes(db_);
  auto r = RunRestore(ctx_, Options(key));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("failed its check"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("missing from index events_user"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(ReadBytes(db_) == bytes) << "the database changed";
}

// The counts run beside the integrity check; when both fail, the check's
// verdict is the one reported.
TEST_F(RestoreTest, DamagedPagesAreReportedByTheCheckNotTheCounts) {
  testing::MakeDb(db_, 2000);
  BackupOptions o;
  o.db_path = db_;
  o.temp_dir = dir_;
  o.compression = "none";
  auto backup = RunBackup(ctx_, o);
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  const std::string key = backup->key;
  // Damage the b-tree page headers in the middle of the stored file, and
  // drop the recorded sha256 as a backup made by another tool would.
  auto head = mem_.Head(key);
  ASSERT_TRUE(head.ok());
  std::string body = *mem_.Contents(key);
  const size_t page_size = 4096;
  const size_t pages = body.size() / page_size;
  ASSERT_GT(pages, 20u);
  for (size_t page = pages / 2 - 5; page < pages / 2 + 5; ++page) {
    for (size_t i = 0; i < 12; ++i) body[page * page_size + i] = static_cast<char>(0xff - i);
  }
  auto meta = head->metadata;
  meta.erase("sha256");
  StringReader reader(body);
  store::PutOptions po;
  po.metadata = meta;
  ASSERT_TRUE(mem_.Put(key, reader, po).ok());
  // The premise: counting the rows of this file fails too.
  ASSERT_TRUE(env::WriteFileAtomic(Path("damaged.db"), body).ok());
  ASSERT_FALSE(snapshot::CountTablesAndRecords(Path("damaged.db")).ok());

  const std::string bytes = ReadBytes(db_);
  auto r = RunRestore(ctx_, Options(key));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("failed its check: integrity check of "), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(ReadBytes(db_) == bytes) << "the database changed";
}

TEST_F(RestoreTest, TruncatedObjectLeavesDatabaseUntouched) {
  testing::MakeDb(db_, 200);
  const std::string key = Backup();
  const std::string bytes = ReadBytes(db_);
  Tamper(key, [](std::string& b) { b.resize(b.size() / 2); });
  auto r = RunRestore(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(ReadBytes(db_) == bytes) << "the database changed";
}

TEST_F(RestoreTest, DownloadCutShortLeavesDatabaseUntouched) {
  testing::MakeDb(db_, 500);
  Backup();
  const std::string bytes = ReadBytes(db_);
  store::GetFault fault;
  fault.mode = store::GetFault::Mode::kTruncateAfter;
  fault.after_bytes = 100;
  store_.SetGetFault(fault);
  auto r = RunRestore(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(ReadBytes(db_) == bytes) << "the database changed";
  // No temporary file is left beside the target.
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find("dbbackup-restore"), std::string::npos);
  }
}

TEST_F(RestoreTest, ChecksumMismatchIsCaught) {
  testing::MakeDb(db_, 50);
  const std::string key = Backup();
  auto head = mem_.Head(key);
  ASSERT_TRUE(head.ok());
  auto meta = head->metadata;
  meta["sha256"] = std::string(64, 'a');
  std::string body = *mem_.Contents(key);
  StringReader reader(body);
  store::PutOptions po;
  po.metadata = meta;
  ASSERT_TRUE(mem_.Put(key, reader, po).ok());
  const std::string bytes = ReadBytes(db_);
  auto r = RunRestore(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checksum mismatch"), std::string::npos);
  EXPECT_TRUE(ReadBytes(db_) == bytes) << "the database changed";
}

TEST_F(RestoreTest, IntoAMissingFileRemovesStaleWal) {
  testing::MakeDb(db_, 10);
  const std::string v1 = testing::DumpDb(db_);
  Backup();
  const std::string target = Path("new.db");
  ASSERT_TRUE(env::WriteFileAtomic(target + "-wal", "stale wal").ok());
  RestoreOptions o = Options();
  o.target_path = target;
  auto r = RunRestore(ctx_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(env::PathExists(target + "-wal"));
  EXPECT_EQ(testing::DumpDb(target), v1);
}

TEST_F(RestoreTest, OverADamagedFileKeepsItAside) {
  testing::MakeDb(db_, 10);
  const std::string v1 = testing::DumpDb(db_);
  Backup();
  ASSERT_TRUE(env::WriteFileAtomic(db_, "garbage, not a database").ok());
  auto r = RunRestore(ctx_, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::DumpDb(db_), v1);
  EXPECT_EQ(ReadBytes(r->safety_copy_path), "garbage, not a database");
}

TEST_F(RestoreTest, TargetDirectoryMustExist) {
  testing::MakeDb(db_, 10);
  Backup();
  RestoreOptions o = Options();
  o.target_path = Path("no/such/dir/x.db");
  auto r = RunRestore(ctx_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace dbbackup::engine
