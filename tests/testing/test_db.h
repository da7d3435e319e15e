// Small SQLite databases for backup/restore tests, and a canonical dump to
// compare two databases row for row.
//
// Thread-safety: the functions share no state; distinct paths may be used from
// different threads.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace dbbackup::testing {

struct TestDbOptions {
  // Tables t0 .. t{tables-1}, each
  //   (id INTEGER PRIMARY KEY, name TEXT, note TEXT, qty INTEGER, price REAL, data BLOB)
  // with an index on name.
  // Default: 3.
  int tables = 3;
  // Rows per table. Text varies: ASCII, quotes, newlines, UTF-8, empty strings,
  // NULLs, and some long values (a few KiB); blobs hold arbitrary bytes.
  // Default: 1000.
  int rows_per_table = 1000;
  // Seeds the deterministic generator: equal options give equal databases.
  // Default: 1.
  uint32_t seed = 1;
  // The journal mode set on the database ("wal" leaves a -wal file while open).
  // Default: "delete".
  std::string journal_mode = "delete";
};

// Creates the database at `path` (which must not exist) with `options`.
::testing::AssertionResult CreateTestDb(const std::string& path, const TestDbOptions& options = {});

// Inserts `rows` more rows into table `table` (for "the database changed" tests).
::testing::AssertionResult AddRows(const std::string& path, const std::string& table, int rows,
                                   uint32_t seed = 2);

// Every table's schema and rows, in a canonical text form: equal strings mean
// equal contents. Tables are ordered by name, rows by rowid, values typed
// (NULL/integer/real/text/blob). Returns "ERROR: ..." if the database cannot be read.
std::string DumpDb(const std::string& path);

// The total number of rows over all tables, or -1 on error.
int64_t CountRows(const std::string& path);

// "ok" if PRAGMA integrity_check passes, else its output or the error.
std::string IntegrityCheck(const std::string& path);

}  // namespace dbbackup::testing
