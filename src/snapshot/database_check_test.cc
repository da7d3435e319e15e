#include "snapshot/database_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

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

// Overwrites the b-tree page headers of pages [first, last) of `path`.
void DamagePages(const std::string& path, int first, int last) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  for (int page = first; page < last; ++page) {
    f.seekp(static_cast<std::streamoff>(page) * 4096);
    const char garbage[16] = {'\x0d', '\xff', '\x7f', '\x00', '\x55', '\xaa', '\x13', '\x37',
                              '\xff', '\xff', '\xff', '\xff', '\x01', '\x02', '\x03', '\x04'};
    f.write(garbage, sizeof(garbage));
  }
}

// Tables of every kind the split check has to handle: rowid tables with and
// without indexes, awkward names, WITHOUT ROWID, sqlite_sequence, a view and
// (where SQLite has FTS5) a virtual table with its shadow tables.
void MakeVariedDb(const std::string& path) {
  MakeDb(path, 2000, 50);
  TestDb db(path);
  db.Exec("CREATE INDEX items_payload ON items(payload)");
  db.Exec("CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v)");
  db.Exec(R"(CREATE TABLE "we""ird table"(a, b UNIQUE))");
  db.Exec(R"(CREATE INDEX weird_a ON "we""ird table"(a))");
  db.Exec("CREATE TABLE [select](v NOT NULL CHECK (v > 0))");
  db.Exec("CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID");
  db.Exec("CREATE INDEX kv_v ON kv(v)");
  db.Exec("CREATE VIEW items_view AS SELECT id FROM items");
  db.Exec("INSERT INTO seq(v) SELECT id FROM items WHERE id <= 300");
  db.Exec(R"(INSERT INTO "we""ird table" SELECT id % 7, id FROM items WHERE id <= 500)");
  db.Exec("INSERT INTO [select] SELECT id FROM items WHERE id <= 100");
  db.Exec("INSERT INTO kv SELECT 'key' || id, id % 13 FROM items WHERE id <= 400");
  if (sqlite3_compileoption_used("ENABLE_FTS5")) {
    db.Exec("CREATE VIRTUAL TABLE notes USING fts5(body)");
    db.Exec("INSERT INTO notes SELECT 'note ' || id FROM items WHERE id <= 50");
  }
}

// Every case runs with the single pragma (1) and split over 2 and 4
// connections: the expectations are the same, so the two ways agree.
class IntegrityCheckTest : public ::testing::TestWithParam<int> {
 protected:
  Status Check(const std::string& path) {
    IntegrityCheckOptions opts;
    opts.threads = GetParam();
    return IntegrityCheck(path, opts);
  }
};

INSTANTIATE_TEST_SUITE_P(Threads, IntegrityCheckTest, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Threads" + std::to_string(info.param);
                         });

TEST_P(IntegrityCheckTest, HealthyDatabaseIsOk) {
  ScratchDir dir;
  MakeDb(dir.File("a.db"), 1000);
  Status st = Check(dir.File("a.db"));
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_P(IntegrityCheckTest, HealthyDatabaseWithManyKindsOfTablesIsOk) {
  ScratchDir dir;
  MakeVariedDb(dir.File("a.db"));
  Status st = Check(dir.File("a.db"));
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_P(IntegrityCheckTest, FlippedPageBytesAreCorruption) {
  ScratchDir dir;
  const std::string path = dir.File("a.db");
  MakeVariedDb(path);
  DamagePages(path, 20, 40);
  Status st = Check(path);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_EQ(st.message().rfind("integrity check of " + path + " failed: ", 0), 0u) << st.message();
}

// Damage beyond the b-tree structure, which quick_check does not see: an
// index whose content does not match its table.
TEST_P(IntegrityCheckTest, IndexContentIsChecked) {
  ScratchDir dir;
  const std::string path = dir.File("index.db");
  MakeVariedDb(path);
  {
    TestDb db(path);
    db.Exec("CREATE TABLE small AS SELECT id AS a, id * 2 AS b FROM items WHERE id <= 200");
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
  Status st = Check(path);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_EQ(st.message().rfind("integrity check of " + path + " failed: ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("missing from index small_a"), std::string::npos) << st.message();
  // Half the rows are missing from the index: five messages, then a count.
  EXPECT_NE(st.message().find("; ... ("), std::string::npos) << st.message();
  EXPECT_EQ(std::count(st.message().begin(), st.message().end(), ';'), 5) << st.message();
}

TEST_P(IntegrityCheckTest, NotADatabaseIsCorruption) {
  ScratchDir dir;
  const std::string path = dir.File("x.db");
  WriteText(path, "hello");
  Status st = Check(path);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_EQ(st.message(), "not a SQLite database: " + path);
}

TEST_P(IntegrityCheckTest, MissingDatabaseIsNotFound) {
  ScratchDir dir;
  EXPECT_EQ(Check(dir.File("nope.db")).code(), StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(PlanIntegrityCheckTest, QuickCheckThenEveryTableWithABtree) {
  ScratchDir dir;
  const std::string path = dir.File("a.db");
  MakeVariedDb(path);
  auto plan = internal::PlanIntegrityCheck(path, 1000);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::vector<std::string> pragmas;
  uint64_t tables_cost = 0;
  for (const auto& part : *plan) {
    pragmas.push_back(part.pragma);
    if (part.pragma != "PRAGMA quick_check") tables_cost += part.cost;
  }
  std::vector<std::string> expected = {
      "PRAGMA quick_check",
      R"(PRAGMA integrity_check("items"))",
      R"(PRAGMA integrity_check("seq"))",
      R"(PRAGMA integrity_check("sqlite_sequence"))",
      R"(PRAGMA integrity_check("we""ird table"))",
      R"(PRAGMA integrity_check("select"))",
      R"(PRAGMA integrity_check("kv"))",
  };
  if (sqlite3_compileoption_used("ENABLE_FTS5")) {
    // Not "notes" itself (virtual), but its shadow tables, which are tables.
    for (const char* shadow :
         {"notes_data", "notes_idx", "notes_content", "notes_docsize", "notes_config"}) {
      expected.push_back(std::string("PRAGMA integrity_check(\"") + shadow + "\")");
    }
  }
  EXPECT_EQ(pragmas, expected);
  // max(rowid) x (1 + indexes); count(*) for WITHOUT ROWID; "b UNIQUE" is
  // an index too (sqlite_autoindex_...).
  EXPECT_EQ((*plan)[1].cost, 2000u * 2);
  EXPECT_EQ((*plan)[4].cost, 500u * 3);
  EXPECT_EQ((*plan)[5].cost, 100u);
  EXPECT_EQ((*plan)[6].cost, 400u * 2);
  EXPECT_EQ((*plan)[0].cost, tables_cost / 3);
}

TEST(PlanIntegrityCheckTest, EmptyTablesCostOneRow) {
  ScratchDir dir;
  const std::string path = dir.File("a.db");
  {
    TestDb db(path);
    db.Exec("CREATE TABLE empty(v)");
    db.Exec("CREATE TABLE empty_kv(k PRIMARY KEY) WITHOUT ROWID");
  }
  auto plan = internal::PlanIntegrityCheck(path, 1000);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[1].cost, 1u);
  EXPECT_EQ((*plan)[2].cost, 1u);
}

}  // namespace
}  // namespace dbbackup::snapshot
