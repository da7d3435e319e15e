#include "snapshot/bulk_io_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <string>

#include "snapshot/sqlite_util.h"
#include "snapshot/test_util.h"

namespace dbbackup::snapshot::internal {
namespace {

using testing::MakeDb;
using testing::ScratchDir;
using testing::TestDb;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

DbHandle Open(const std::string& path, int flags) {
  auto db = OpenDb(path, flags, 5000, BulkIoVfsName());
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : DbHandle();
}

std::string Query(sqlite3* db, const std::string& sql) {
  auto r = QueryText(db, sql, sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

// The same whole-database copy through the default VFS and through the shim.
void CopyBothWays(const std::string& source, const std::string& via_default,
                  const std::string& via_bulk) {
  for (const auto& [dest, vfs] :
       {std::pair{via_default, (const char*)nullptr}, std::pair{via_bulk, BulkIoVfsName()}}) {
    auto src = OpenDb(source, SQLITE_OPEN_READONLY, 5000, vfs);
    auto dst = OpenDb(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000, vfs);
    ASSERT_TRUE(src.ok() && dst.ok());
    ASSERT_TRUE(Exec(dst->get(), "PRAGMA journal_mode = OFF", "journal").ok());
    ASSERT_TRUE(BackupAll(src->get(), dst->get(), 5000, "copy").ok());
  }
}

TEST(BulkIoVfsTest, CopyIsByteIdenticalToTheDefaultVfs) {
  ScratchDir dir;
  const std::string source = dir.File("source.db");
  // ~3 MB: many read-ahead and write-buffer lengths, and a ragged tail.
  MakeDb(source, 9000, 333);
  CopyBothWays(source, dir.File("a.db"), dir.File("b.db"));
  const std::string a = ReadAll(dir.File("a.db"));
  EXPECT_GT(a.size(), 3u << 20);
  EXPECT_EQ(a, ReadAll(dir.File("b.db")));
}

TEST(BulkIoVfsTest, CopyOfWalSourceWithUncheckpointedFramesIsIdentical) {
  ScratchDir dir;
  const std::string source = dir.File("source.db");
  MakeDb(source, 6000, 300, "wal");
  TestDb writer(source);
  writer.Exec("PRAGMA wal_autocheckpoint = 0");
  // Frames for scattered pages: the copy reads those from the WAL, leaving
  // gaps in its reads of the database file.
  writer.Exec("UPDATE items SET payload = randomblob(300) WHERE id % 97 = 0");
  writer.Exec("INSERT INTO items(payload) SELECT randomblob(500) FROM items WHERE id <= 800");
  CopyBothWays(source, dir.File("a.db"), dir.File("b.db"));
  EXPECT_EQ(ReadAll(dir.File("a.db")), ReadAll(dir.File("b.db")));
  TestDb copy(dir.File("b.db"));
  EXPECT_EQ(copy.QueryInt("SELECT count(*) FROM items"), 6800);
  EXPECT_EQ(copy.Query("PRAGMA integrity_check"), "ok");
}

// Read-ahead must never serve a page from before another connection's commit.
// A full scan leaves the last pages of the table in the read-ahead buffer; a
// point query in the next transaction then reads one of them again.
void ExpectFreshReadsAcrossTransactions(const std::string& journal_mode) {
  ScratchDir dir;
  const std::string path = dir.File("db.db");
  MakeDb(path, 4000, 200, journal_mode);
  TestDb writer(path);
  DbHandle reader = Open(path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(Query(reader.get(), "SELECT sum(length(payload)) FROM items"), "800000");
  for (int round = 1; round <= 3; ++round) {
    const std::string value = "round-" + std::to_string(round);
    writer.Exec("UPDATE items SET payload = '" + value + "' WHERE id = 4000");
    if (journal_mode == "wal") writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    EXPECT_EQ(Query(reader.get(), "SELECT payload FROM items WHERE id = 4000"), value)
        << journal_mode;
    EXPECT_EQ(Query(reader.get(), "SELECT count(*) FROM items"), "4000");
  }
}

TEST(BulkIoVfsTest, ReadAheadIsDroppedBetweenRollbackTransactions) {
  ExpectFreshReadsAcrossTransactions("delete");
}

TEST(BulkIoVfsTest, ReadAheadIsDroppedBetweenWalTransactions) {
  ExpectFreshReadsAcrossTransactions("wal");
}

TEST(BulkIoVfsTest, ReadsAfterCoalescedWritesSeeTheWrites) {
  ScratchDir dir;
  const std::string path = dir.File("new.db");
  DbHandle db = Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(
      Exec(db.get(), "PRAGMA cache_size = 10; CREATE TABLE t(id INTEGER PRIMARY KEY, v)", "create")
          .ok());
  // A tiny cache makes SQLite spill, then read back, pages still buffered.
  for (int batch = 0; batch < 5; ++batch) {
    ASSERT_TRUE(Exec(db.get(),
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                     "WHERE i < 2000) INSERT INTO t(v) SELECT randomblob(150) FROM n",
                     "insert")
                    .ok());
    EXPECT_EQ(Query(db.get(), "SELECT count(*) FROM t"), std::to_string(2000 * (batch + 1)));
  }
  EXPECT_EQ(Query(db.get(), "PRAGMA integrity_check"), "ok");
  db.reset();
  TestDb plain(path);
  EXPECT_EQ(plain.QueryInt("SELECT count(*) FROM t"), 10000);
  EXPECT_EQ(plain.Query("PRAGMA integrity_check"), "ok");
}

TEST(BulkIoVfsTest, SmallAndMissingFiles) {
  ScratchDir dir;
  const std::string path = dir.File("one-page.db");
  {
    TestDb db(path);
    db.Exec("CREATE TABLE t(x); INSERT INTO t VALUES (42)");
  }
  DbHandle db = Open(path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(Query(db.get(), "SELECT x FROM t"), "42");
  auto missing = OpenDb(dir.File("missing.db"), SQLITE_OPEN_READONLY, 1000, BulkIoVfsName());
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace dbbackup::snapshot::internal
