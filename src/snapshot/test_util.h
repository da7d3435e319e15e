// Test-only helpers for the snapshot tests: a scratch directory and small
// sqlite3 conveniences that abort the test on failure. Header-only so that it
// never lands in the dbb_snapshot library.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dbbackup::snapshot::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its content.
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "dbb-snaptest-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// An open connection that closes itself; test code only.
class TestDb {
 public:
  explicit TestDb(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db_);
    sqlite3_busy_timeout(db_, 30000);
  }
  ~TestDb() { sqlite3_close_v2(db_); }
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;

  sqlite3* get() const { return db_; }

  // Runs `sql`; returns the SQLite result code and records a test failure
  // unless it is SQLITE_OK.
  int Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
    return rc;
  }

  // First column of the first row as text, "" if none.
  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    std::string out;
    if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      if (t != nullptr) out = reinterpret_cast<const char*>(t);
    }
    sqlite3_finalize(stmt);
    return out;
  }
  long long QueryInt(const std::string& sql) {
    std::string s = Query(sql);
    return s.empty() ? 0 : std::stoll(s);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Bytes 18 and 19 of the database header: 1 = rollback journal, 2 = WAL.
inline std::string FileFormatBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char b[20] = {};
  in.read(b, sizeof(b));
  return std::to_string(static_cast<int>(b[18])) + "," + std::to_string(static_cast<int>(b[19]));
}

// Names of the entries in `dir`, sorted.
inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Creates `path` with tables "items"(id, payload) of `rows` rows of
// `payload_bytes` random bytes each, in `journal_mode`.
inline void MakeDb(const std::string& path, int rows, int payload_bytes = 100,
                   const std::string& journal_mode = "delete") {
  TestDb db(path);
  db.Exec("PRAGMA journal_mode = " + journal_mode);
  db.Exec("CREATE TABLE items(id INTEGER PRIMARY KEY, payload BLOB)");
  db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
          std::to_string(rows) + ") INSERT INTO items SELECT i, randomblob(" +
          std::to_string(payload_bytes) + ") FROM n");
}

}  // namespace dbbackup::snapshot::testing
