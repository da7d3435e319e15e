// Test-only: small SQLite databases for the engine tests, and a canonical
// dump of their rows to compare a restore with its source.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "testing/test_db.h"

namespace dbbackup::engine::testing {

inline void ExecSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// Two tables with `rows` rows of varied text each.
inline void MakeDb(const std::string& path, int rows) {
  ExecSql(
      path,
      "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, bio TEXT);"
      "CREATE TABLE events(id INTEGER PRIMARY KEY, user_id INT, payload BLOB);"
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<" +
          std::to_string(rows) +
          ") INSERT INTO users SELECT i, 'user'||i, printf('bio %d %s', i, hex(randomblob(20))) "
          "FROM c;"
          "INSERT INTO events SELECT id, id % 7, randomblob(64) FROM users;");
}

// Canonical dump of every table (shared with the integration tests).
using ::dbbackup::testing::DumpDb;

}  // namespace dbbackup::engine::testing

#include <filesystem>
#include <fstream>

#include "engine/engine.h"
#include "env/clock.h"
#include "store/faulty_store.h"
#include "store/mem_store.h"

namespace dbbackup::engine::testing {

inline std::string ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A scratch directory with a database, a MemObjectStore behind a
// FaultyObjectStore, and a FakeClock at 2024-01-13 12:00:00 UTC.
class EngineTest : public ::testing::Test {
 protected:
  EngineTest()
      : clock_(std::chrono::system_clock::time_point(std::chrono::seconds(1705147200))),
        mem_(store::MemStoreOptions{1000, &clock_}),
        store_(&mem_) {
    std::string templ = (std::filesystem::temp_directory_path() / "dbb-engine-XXXXXX").string();
    EXPECT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    db_ = dir_ + "/database.db";
    ctx_.store = &store_;
    ctx_.clock = &clock_;
    ctx_.prefix = "backups";
  }
  ~EngineTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  env::FakeClock clock_;
  store::MemObjectStore mem_;
  store::FaultyObjectStore store_;
  EngineContext ctx_;
  std::string dir_;
  std::string db_;
};

}  // namespace dbbackup::engine::testing
