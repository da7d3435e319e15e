#include "snapshot/replace.h"

#include <gtest/gtest.h>

#include "env/file_util.h"
#include "snapshot/database_check.h"
#include "snapshot/test_util.h"

namespace dbbackup::snapshot {
namespace {

using testing::FileFormatBytes;
using testing::ListDir;
using testing::ScratchDir;
using testing::TestDb;

void MakeKv(const std::string& path, const std::string& journal_mode, const std::string& value,
            int rows) {
  TestDb db(path);
  db.Exec("PRAGMA journal_mode = " + journal_mode);
  db.Exec("CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT)");
  db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
          std::to_string(rows) + ") INSERT INTO kv SELECT i, '" + value + "' FROM n");
}

class ReplaceTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

// Target journal mode x source journal mode.
INSTANTIATE_TEST_SUITE_P(Modes, ReplaceTest,
                         ::testing::Values(std::pair{"wal", "delete"}, std::pair{"wal", "wal"},
                                           std::pair{"delete", "delete"},
                                           std::pair{"delete", "wal"}),
                         [](const auto& info) {
                           return info.param.first + "_target_" + info.param.second + "_source";
                         });

TEST_P(ReplaceTest, OpenConnectionSeesNewContentAndModeIsKept) {
  const auto& [target_mode, source_mode] = GetParam();
  ScratchDir dir;
  const std::string target = dir.File("target.db");
  const std::string source = dir.File("source.db");
  MakeKv(target, target_mode, "old", 500);
  MakeKv(source, source_mode, "new", 1200);
  {
    TestDb source_db(source);
    source_db.Exec("CREATE TABLE extra(x)");
  }

  TestDb reader(target);
  EXPECT_EQ(reader.Query("SELECT v FROM kv WHERE k = 1"), "old");
  Status st = ReplaceDatabaseContents(source, target);
  ASSERT_TRUE(st.ok()) << st.ToString();

  EXPECT_EQ(reader.Query("SELECT v FROM kv WHERE k = 1"), "new");
  EXPECT_EQ(reader.QueryInt("SELECT count(*) FROM kv"), 1200);
  EXPECT_EQ(reader.QueryInt("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'"), 1);
  EXPECT_EQ(reader.Query("PRAGMA journal_mode"), target_mode);
  // Writes through the old connection keep working.
  reader.Exec("INSERT INTO kv VALUES (5000, 'after')");
  EXPECT_TRUE(IntegrityCheck(target).ok());
  {
    TestDb fresh(target);
    EXPECT_EQ(fresh.Query("PRAGMA journal_mode"), target_mode);
    EXPECT_EQ(fresh.QueryInt("SELECT count(*) FROM kv"), 1201);
  }
  // No temporary copies left beside the target.
  for (const std::string& name : ListDir(dir.path())) {
    EXPECT_EQ(name.find(".restore"), std::string::npos) << name;
  }
}

TEST(ReplaceDatabaseContentsTest, LockedTargetTimesOutAndIsUnchanged) {
  ScratchDir dir;
  const std::string target = dir.File("target.db");
  const std::string source = dir.File("source.db");
  MakeKv(target, "delete", "old", 100);
  MakeKv(source, "delete", "new", 100);
  TestDb holder(target);
  holder.Exec("BEGIN; SELECT count(*) FROM kv");  // SHARED lock blocks writers
  ReplaceOptions opts;
  opts.busy_timeout_ms = 200;
  Status st = ReplaceDatabaseContents(source, target, opts);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_TRUE(st.retryable());
  holder.Exec("COMMIT");
  EXPECT_EQ(holder.Query("SELECT v FROM kv WHERE k = 1"), "old");
  EXPECT_TRUE(IntegrityCheck(target).ok());
}

TEST(ReplaceDatabaseContentsTest, MissingTargetIsNotCreated) {
  ScratchDir dir;
  MakeKv(dir.File("source.db"), "delete", "new", 1);
  Status st = ReplaceDatabaseContents(dir.File("source.db"), dir.File("target.db"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_FALSE(env::PathExists(dir.File("target.db")));
}

TEST(CopyDatabaseTest, CopiesIntoNewFile) {
  ScratchDir dir;
  MakeKv(dir.File("source.db"), "wal", "v", 300);
  Status st = CopyDatabase(dir.File("source.db"), dir.File("copy.db"));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(FileFormatBytes(dir.File("copy.db")), "1,1");
  EXPECT_TRUE(IntegrityCheck(dir.File("copy.db")).ok());
  TestDb db(dir.File("copy.db"));
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM kv"), 300);
}

TEST(CopyDatabaseTest, RefusesExistingDestination) {
  ScratchDir dir;
  MakeKv(dir.File("source.db"), "delete", "v", 3);
  ASSERT_TRUE(env::WriteFileAtomic(dir.File("copy.db"), "precious").ok());
  Status st = CopyDatabase(dir.File("source.db"), dir.File("copy.db"));
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(env::ReadFileToString(dir.File("copy.db")).value(), "precious");
  EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{"copy.db", "source.db"}));
}

}  // namespace
}  // namespace dbbackup::snapshot
