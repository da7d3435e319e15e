// Test-only: small SQLite databases for the engine tests, and a canonical
// dump of their rows to compare a restore with its source.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

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

// Every row of every user table, in a canonical order, as one string.
inline std::string DumpRows(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "<cannot open>";
  }
  std::string out;
  for (const char* sql : {"SELECT id, name, bio FROM users ORDER BY id",
                          "SELECT id, user_id, hex(payload) FROM events ORDER BY id"}) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
      out += "<error>";
      continue;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        out += t ? reinterpret_cast<const char*>(t) : "NULL";
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

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
