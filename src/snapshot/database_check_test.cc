#include "snapshot/database_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "snapshot/test_util.h"

namespace dbbackup::snapshot {
namespace {

using testing::ListDir;
using testing::MakeDb;
using testing::ScratchDir;
using testing::TestDb;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CheckDatabaseFileTest, AcceptsDatabase) {
  ScratchDir dir;
  MakeDb(dir.File("a.db"), 10);
  EXPECT_TRUE(CheckDatabaseFile(dir.File("a.db")).ok());
}

TEST(CheckDatabaseFileTest, MissingIsNotFoundAndNothingIsCreated) {
  ScratchDir dir;
  const std::string path = dir.File("missing.db");
  Status st = CheckDatabaseFile(path);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "database not found: " + path);
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(CheckDatabaseFileTest, TextFileIsNotADatabase) {
  ScratchDir dir;
  const std::string path = dir.File("notes.txt");
  WriteText(path, "SQLite format 2 but really just some text\n");
  Status st = CheckDatabaseFile(path);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "not a SQLite database: " + path);
}

TEST(CheckDatabaseFileTest, EmptyFileIsNotADatabase) {
  ScratchDir dir;
  const std::string path = dir.File("empty.db");
  WriteText(path, "");
  Status st = CheckDatabaseFile(path);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "not a SQLite database: " + path);
}

TEST(CheckDatabaseFileTest, DirectoryIsRejected) {
  ScratchDir dir;
  EXPECT_EQ(CheckDatabaseFile(dir.path()).code(), StatusCode::kInvalidArgument);
}

TEST(CheckDatabaseFileTest, UnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: root can read a mode-000 file, so there is nothing to test";
  }
  ScratchDir dir;
  const std::string path = dir.File("locked.db");
  MakeDb(path, 1);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  Status st = CheckDatabaseFile(path);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "cannot read database: " + path + ": Permission denied");
}

TEST(CountTablesAndRecordsTest, CountsUserTablesWithAwkwardNames) {
  ScratchDir dir;
  const std::string path = dir.File("a.db");
  {
    TestDb db(path);
    // AUTOINCREMENT creates sqlite_sequence, which must not be counted.
    db.Exec("CREATE TABLE plain(id INTEGER PRIMARY KEY AUTOINCREMENT, v)");
    db.Exec(R"(CREATE TABLE "we""ird table"(v))");
    db.Exec("CREATE TABLE [select](v)");
    db.Exec("CREATE TABLE empty(v)");
    db.Exec("CREATE INDEX plain_v ON plain(v)");
    db.Exec("CREATE VIEW plain_view AS SELECT * FROM plain");
    db.Exec("INSERT INTO plain(v) VALUES (1), (2), (3)");
    db.Exec(R"(INSERT INTO "we""ird table" VALUES (1), (2))");
    db.Exec("INSERT INTO [select] VALUES ('x')");
  }
  Result<DbStats> stats = CountTablesAndRecords(path);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->tables, 4u);
  EXPECT_EQ(stats->records, 6u);
}

TEST(CountTablesAndRecordsTest, MissingDatabase) {
  ScratchDir dir;
  EXPECT_EQ(CountTablesAndRecords(dir.File("nope.db")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(IntegrityCheckTest, HealthyDatabaseIsOk) {
  ScratchDir dir;
  MakeDb(dir.File("a.db"), 1000);
  Status st = IntegrityCheck(dir.File("a.db"));
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST(IntegrityCheckTest, FlippedPageBytesAreCorruption) {
  ScratchDir dir;
  const std::string path = dir.File("a.db");
  {
    MakeDb(path, 5000, 200);
    TestDb db(path);
    db.Exec("CREATE INDEX items_payload ON items(payload)");
  }
  // Overwrite the b-tree page headers of a run of pages in the middle.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    for (int page = 20; page < 40; ++page) {
      f.seekp(static_cast<std::streamoff>(page) * 4096);
      const char garbage[16] = {'\x0d', '\xff', '\x7f', '\x00', '\x55', '\xaa', '\x13', '\x37',
                                '\xff', '\xff', '\xff', '\xff', '\x01', '\x02', '\x03', '\x04'};
      f.write(garbage, sizeof(garbage));
    }
  }
  Status st = IntegrityCheck(path);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("integrity check of " + path), std::string::npos) << st.message();
}

// Damage beyond the b-tree structure, which quick_check does not see: an
// index whose content does not match its table.
TEST(IntegrityCheckTest, IndexContentIsChecked) {
  ScratchDir dir;
  const std::string path = dir.File("index.db");
  MakeDb(path, 200, 50);
  {
    TestDb db(path);
    db.Exec("CREATE TABLE small AS SELECT id AS a, id * 2 AS b FROM items");
    db.Exec("CREATE INDEX small_a ON small(a)");
    // Redefine the index over another column: its entries no longer match.
    db.Exec("PRAGMA writable_schema = ON");
    db.Exec(
        "UPDATE sqlite_schema SET sql = 'CREATE INDEX small_a ON small(b)' "
        "WHERE name = 'small_a'");
  }
  {
    TestDb db(path);
    ASSERT_EQ(db.Query("PRAGMA quick_check"), "ok") << "only the full check sees this damage";
  }
  Status st = IntegrityCheck(path);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("small_a"), std::string::npos) << st.message();
}

TEST(IntegrityCheckTest, NotADatabaseIsCorruption) {
  ScratchDir dir;
  const std::string path = dir.File("x.db");
  WriteText(path, "hello");
  Status st = IntegrityCheck(path);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_EQ(st.message(), "not a SQLite database: " + path);
}

TEST(IntegrityCheckTest, MissingDatabaseIsNotFound) {
  ScratchDir dir;
  EXPECT_EQ(IntegrityCheck(dir.File("nope.db")).code(), StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

}  // namespace
}  // namespace dbbackup::snapshot
