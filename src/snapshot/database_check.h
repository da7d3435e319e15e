// Read-only inspection of a SQLite database file: is it one, how much does it
// hold, is it intact. None of these functions ever creates or modifies a file:
// files are opened with O_RDONLY / SQLITE_OPEN_READONLY only.
//
// Thread-safety: every function opens its own connection; all may be called
// concurrently from any thread, also while other processes use the database.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace dbbackup::snapshot {

class GrowingFile;

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

struct IntegrityCheckOptions {
  // How long to wait for a lock before giving up. Default: 30000 (30 s).
  int busy_timeout_ms = 30000;
  // Connections (one thread each) the check is split over; 0 = the CPUs this
  // process may run on, at most 4. With 1, or a database of at most one
  // table, one PRAGMA integrity_check runs: it costs the least CPU, while the
  // split costs 1.2-1.5x the CPU to finish sooner on idle cores. Default: 0.
  int threads = 0;
  // The file is still being written (see growing_file.h): the check reads
  // it as it arrives, through growing->Vfs(), and the split runs the parts
  // in file order instead of largest first, as sizing the tables would wait
  // for their last pages. Its verdict counts only once the writer finished.
  // Default: null (a complete file).
  GrowingFile* growing = nullptr;
};

// Runs PRAGMA integrity_check, or its equivalent split over
// `opts.threads` read-only connections: PRAGMA quick_check of the whole file
// plus PRAGMA integrity_check(T) for each table T. Returns OK only if every
// part answers "ok"; kCorruption "integrity check of PATH failed: MSG; MSG;
// ... (N more)" with the first few problems otherwise, and kCorruption
// "not a SQLite database: PATH" for a file that is not a database at all.
// Returns kNotFound / kPermissionDenied as CheckDatabaseFile does,
// kUnavailable if locked for `busy_timeout_ms`. Takes time proportional to
// the database. If the database is written meanwhile, the parts of a split
// check may each see a different committed state.
Status IntegrityCheck(const std::string& db_path, const IntegrityCheckOptions& opts = {});

namespace internal {

// One part of a split integrity check.
struct IntegrityCheckPart {
  std::string pragma;  // "PRAGMA quick_check" or "PRAGMA integrity_check("T")"
  uint64_t cost = 0;   // estimated: max(rowid) (or count(*)) x (1 + indexes)
};

// The parts of a split check of `db_path` in report order: quick_check
// first, then integrity_check(T) for every table with a b-tree of its own
// (not virtual tables), as sqlite_schema lists them. Without `estimate`
// every cost is 1 and only the schema is read. Opens through `vfs` (null:
// the default). Exposed for tests.
Result<std::vector<IntegrityCheckPart>> PlanIntegrityCheck(const std::string& db_path,
                                                           int busy_timeout_ms,
                                                           bool estimate = true,
                                                           const char* vfs = nullptr);

}  // namespace internal

}  // namespace dbbackup::snapshot
