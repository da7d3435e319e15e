// Online, consistent snapshots of a live SQLite database into a private
// temporary file, through SQLite's online backup API (never a raw file copy,
// which could tear pages or miss the WAL).
//
// The whole database is copied inside ONE read transaction on the source
// (sqlite3_backup_step(-1)):
//   - WAL mode: writers are not blocked and the copy never restarts; the
//     snapshot is the database as of the start of the read transaction.
//   - rollback-journal mode: the source's SHARED lock is held for the copy,
//     so writers wait (up to their own busy timeout) to commit meanwhile.
//
// This is the layer's entry header: it also brings in database_check.h
// (CheckDatabaseFile, CountTablesAndRecords, IntegrityCheck) and replace.h
// (ReplaceDatabaseContents, CopyDatabase).
//
// Thread-safety: TakeSnapshot may run concurrently with anything, including
// other TakeSnapshot calls. A Snapshot object is owned by one thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "env/file_util.h"
#include "snapshot/database_check.h"  // IWYU pragma: export
#include "snapshot/replace.h"         // IWYU pragma: export

namespace dbbackup::snapshot {

struct SnapshotOptions {
  // Directory for the snapshot file; needs room for a full copy.
  // Default: "" = $TMPDIR, or /tmp if unset.
  std::string temp_dir;
  // How long to keep retrying while the source is locked (SQLITE_BUSY /
  // SQLITE_LOCKED), in milliseconds.
  // Default: 30000.
  int busy_timeout_ms = 30000;
};

// A self-contained database file (journal_mode DELETE, no -wal needed) that
// is removed when the Snapshot is destroyed, unless Release()d.
class Snapshot {
 public:
  Snapshot(env::TempFile file, uint64_t size) : file_(std::move(file)), size_(size) {}
  Snapshot(Snapshot&&) noexcept = default;
  Snapshot& operator=(Snapshot&&) noexcept = default;

  const std::string& path() const { return file_.path(); }
  // Size in bytes of the snapshot file.
  uint64_t size() const { return size_; }
  // The caller takes over the file (and must remove it); path() becomes "".
  std::string Release() { return file_.Release(); }

 private:
  env::TempFile file_;
  uint64_t size_;
};

// The system temporary directory: $TMPDIR if set and non-empty, else "/tmp".
std::string DefaultTempDir();

// Copies the database at `db_path` into a new file in `opts.temp_dir`.
// Returns
//   the CheckDatabaseFile errors (kNotFound, kPermissionDenied,
//     kInvalidArgument) - the source is never created or written;
//   kUnavailable (retryable) if the source stayed locked for busy_timeout_ms;
//   kCorruption if SQLite finds the source malformed while copying;
//   kIOError / kNotFound for the temp directory (e.g. ENOSPC).
// No temporary file is left behind on failure.
Result<Snapshot> TakeSnapshot(const std::string& db_path, const SnapshotOptions& opts = {});

}  // namespace dbbackup::snapshot
