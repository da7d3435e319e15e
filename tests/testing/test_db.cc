#include "testing/test_db.h"

#include <sqlite3.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

namespace dbbackup::testing {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Opens `path`; on failure returns null and sets *error.
Db Open(const std::string& path, int flags, std::string* error) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    *error = "open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return nullptr;
  }
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

::testing::AssertionResult Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    return ::testing::AssertionFailure() << sql << ": " << msg;
  }
  return ::testing::AssertionSuccess();
}

// Deterministic, varied text. The same (seed, table, row) gives the same value.
std::string Text(std::mt19937& rng, int row) {
  static const char* kPieces[] = {"alpha",
                                  "Beta",
                                  "gamma delta",
                                  "it's",
                                  "say \"hi\"",
                                  "tab\there",
                                  "line\nbreak",
                                  "caf\xC3\xA9",                           // café
                                  "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",  // 日本語
                                  "\xF0\x9F\x93\xA6",                      // 📦 (4-byte UTF-8)
                                  "100%",
                                  "back\\slash",
                                  "semi;colon",
                                  "--comment",
                                  "<xml/>",
                                  ""};
  constexpr int kPieceCount = sizeof(kPieces) / sizeof(kPieces[0]);
  std::string out = "row " + std::to_string(row) + ":";
  int pieces = 1 + static_cast<int>(rng() % 6);
  for (int i = 0; i < pieces; ++i) out += std::string(" ") + kPieces[rng() % kPieceCount];
  if (rng() % 97 == 0) out += std::string(2000 + rng() % 3000, static_cast<char>('a' + rng() % 26));
  return out;
}

::testing::AssertionResult InsertRows(sqlite3* db, const std::string& table, int first_row,
                                      int rows, uint32_t seed) {
  Stmt stmt;
  sqlite3_stmt* raw = nullptr;
  std::string sql =
      "INSERT INTO \"" + table + "\"(name, note, qty, price, data) VALUES (?1, ?2, ?3, ?4, ?5)";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return ::testing::AssertionFailure() << sql << ": " << sqlite3_errmsg(db);
  }
  stmt.reset(raw);
  uint32_t h = 2166136261u;  // FNV-1a of the table name: stable across platforms
  for (char c : table) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  std::mt19937 rng(seed * 7919u + h);
  for (int r = first_row; r < first_row + rows; ++r) {
    std::string name = Text(rng, r);
    sqlite3_bind_text(raw, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    if (rng() % 10 == 0) {
      sqlite3_bind_null(raw, 2);
    } else {
      std::string note = rng() % 5 == 0 ? std::string() : Text(rng, r);
      sqlite3_bind_text(raw, 2, note.data(), static_cast<int>(note.size()), SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(raw, 3, static_cast<int64_t>(rng()) - (int64_t{1} << 31));
    sqlite3_bind_double(raw, 4, static_cast<double>(rng() % 1000000) / 100.0);
    std::string blob(rng() % 64, '\0');
    for (char& c : blob) c = static_cast<char>(rng() & 0xff);
    sqlite3_bind_blob(raw, 5, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(raw) != SQLITE_DONE) {
      return ::testing::AssertionFailure() << "insert into " << table << ": " << sqlite3_errmsg(db);
    }
    sqlite3_reset(raw);
    sqlite3_clear_bindings(raw);
  }
  return ::testing::AssertionSuccess();
}

void AppendValue(sqlite3_stmt* stmt, int col, std::string* out) {
  char buf[64];
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_NULL:
      *out += "N";
      break;
    case SQLITE_INTEGER:
      std::snprintf(buf, sizeof buf, "I%" PRId64,
                    static_cast<int64_t>(sqlite3_column_int64(stmt, col)));
      *out += buf;
      break;
    case SQLITE_FLOAT:
      std::snprintf(buf, sizeof buf, "F%.17g", sqlite3_column_double(stmt, col));
      *out += buf;
      break;
    case SQLITE_TEXT: {
      const char* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      int n = sqlite3_column_bytes(stmt, col);
      *out += "T" + std::to_string(n) + ":" + std::string(text, n);
      break;
    }
    default: {  // SQLITE_BLOB
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, col));
      int n = sqlite3_column_bytes(stmt, col);
      *out += "B" + std::to_string(n) + ":";
      for (int i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", p[i]);
        *out += buf;
      }
    }
  }
}

// Runs `sql` and appends every row, one line each, to *out.
bool DumpQuery(sqlite3* db, const std::string& sql, std::string* out, std::string* error) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    *error = sql + ": " + sqlite3_errmsg(db);
    return false;
  }
  Stmt stmt(raw);
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(raw); ++c) {
      if (c > 0) *out += "|";
      AppendValue(raw, c, out);
    }
    *out += "\n";
  }
  if (rc != SQLITE_DONE) {
    *error = sql + ": " + sqlite3_errmsg(db);
    return false;
  }
  return true;
}

std::vector<std::string> TableNames(sqlite3* db, std::string* error) {
  std::vector<std::string> names;
  sqlite3_stmt* raw = nullptr;
  const char* sql =
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "ORDER BY name";
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    *error = std::string("list tables: ") + sqlite3_errmsg(db);
    return names;
  }
  Stmt stmt(raw);
  while (sqlite3_step(raw) == SQLITE_ROW) {
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)));
  }
  return names;
}

}  // namespace

::testing::AssertionResult CreateTestDb(const std::string& path, const TestDbOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return ::testing::AssertionFailure() << "CreateTestDb: " << path << " already exists";
  }
  std::string error;
  Db db = Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &error);
  if (!db) return ::testing::AssertionFailure() << error;
  auto ok = Exec(db.get(), "PRAGMA journal_mode=" + options.journal_mode);
  if (ok) ok = Exec(db.get(), "BEGIN");
  for (int t = 0; ok && t < options.tables; ++t) {
    std::string table = "t" + std::to_string(t);
    ok = Exec(db.get(), "CREATE TABLE " + table +
                            " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, qty INTEGER, "
                            "price REAL, data BLOB)");
    if (ok) ok = Exec(db.get(), "CREATE INDEX " + table + "_name ON " + table + "(name)");
    if (ok) ok = InsertRows(db.get(), table, 0, options.rows_per_table, options.seed);
  }
  if (ok) ok = Exec(db.get(), "COMMIT");
  if (!ok) return ok << " (creating " << path << ")";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AddRows(const std::string& path, const std::string& table, int rows,
                                   uint32_t seed) {
  std::string error;
  Db db = Open(path, SQLITE_OPEN_READWRITE, &error);
  if (!db) return ::testing::AssertionFailure() << error;
  auto ok = Exec(db.get(), "BEGIN");
  if (ok) ok = InsertRows(db.get(), table, 1000000, rows, seed);
  if (ok) ok = Exec(db.get(), "COMMIT");
  return ok;
}

std::string DumpDb(const std::string& path) {
  std::string error;
  Db db = Open(path, SQLITE_OPEN_READONLY, &error);
  if (!db) return "ERROR: " + error;
  std::string out;
  if (!DumpQuery(db.get(),
                 "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                 "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
                 &out, &error)) {
    return "ERROR: " + error;
  }
  std::vector<std::string> tables = TableNames(db.get(), &error);
  if (!error.empty()) return "ERROR: " + error;
  for (const std::string& t : tables) {
    out += "== table " + t + "\n";
    if (!DumpQuery(db.get(), "SELECT * FROM \"" + t + "\" ORDER BY rowid", &out, &error)) {
      return "ERROR: " + error;
    }
  }
  return out;
}

int64_t CountRows(const std::string& path) {
  std::string error;
  Db db = Open(path, SQLITE_OPEN_READONLY, &error);
  if (!db) return -1;
  std::vector<std::string> tables = TableNames(db.get(), &error);
  if (!error.empty()) return -1;
  int64_t total = 0;
  for (const std::string& t : tables) {
    sqlite3_stmt* raw = nullptr;
    std::string sql = "SELECT count(*) FROM \"" + t + "\"";
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return -1;
    Stmt stmt(raw);
    if (sqlite3_step(raw) != SQLITE_ROW) return -1;
    total += sqlite3_column_int64(raw, 0);
  }
  return total;
}

std::string IntegrityCheck(const std::string& path) {
  std::string error;
  Db db = Open(path, SQLITE_OPEN_READONLY, &error);
  if (!db) return error;
  std::string out;
  if (!DumpQuery(db.get(), "PRAGMA integrity_check", &out, &error)) return error;
  return out == "T2:ok\n" ? "ok" : out;
}

}  // namespace dbbackup::testing
