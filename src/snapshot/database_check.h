// Read-only inspection of a SQLite database file: is it one, how much does it
// hold, is it intact. None of these functions ever creates or modifies a file:
// files are opened with O_RDONLY / SQLITE_OPEN_READONLY only.
//
// Thread-safety: every function opens its own connection; all may be called
// concurrently from any thread, also while other processes use the database.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace dbbackup::snapshot {

// Checks that `path` names a readable SQLite database file without opening it
// through SQLite (which would create a missing file). Returns
//   kNotFound           "database not found: PATH" if nothing is at `path`;
//   kInvalidArgument    "not a regular file: PATH" for a directory, fifo, ...;
//   kPermissionDenied   "cannot read database: PATH: Permission denied";
//   kInvalidArgument    "not a SQLite database: PATH" unless the file starts
//                       with the 16-byte header "SQLite format 3\0" (so an
//                       empty file is rejected too);
//   kIOError            on other failures to stat/open/read.
Status CheckDatabaseFile(const std::string& path);

struct DbStats {
  // User tables in sqlite_schema (type 'table', not named sqlite_%).
  uint64_t tables = 0;
  // Sum of count(*) over those tables.
  uint64_t records = 0;
};

// Counts user tables and their rows, inside one read transaction so the two
// numbers agree with each other. Returns the CheckDatabaseFile errors,
// kCorruption if SQLite finds the file malformed, kUnavailable (retryable) if
// the database stayed locked for `busy_timeout_ms`, kIOError otherwise.
Result<DbStats> CountTablesAndRecords(const std::string& db_path, int busy_timeout_ms = 30000);

// Runs PRAGMA integrity_check. Returns OK only if SQLite answers the single
// row "ok"; kCorruption with the first few messages otherwise, and kCorruption
// "not a SQLite database: PATH" for a file that is not a database at all.
// Returns kNotFound / kPermissionDenied as CheckDatabaseFile does, kUnavailable
// if locked for `busy_timeout_ms`. Takes time proportional to the database.
Status IntegrityCheck(const std::string& db_path, int busy_timeout_ms = 30000);

}  // namespace dbbackup::snapshot
