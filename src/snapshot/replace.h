// Restore-side database copies, all through SQLite's online backup API so
// that SQLite's own locking protects every reader and writer of the files.
//
// Thread-safety: each call opens its own connections; calls may run from any
// thread. Concurrent ReplaceDatabaseContents calls on one target serialise on
// SQLite's write lock (the later one wins).
#pragma once

#include <string>

#include "common/status.h"

namespace dbbackup::snapshot {

struct ReplaceOptions {
  // How long to keep retrying while the target (or source) is locked by other
  // connections, in milliseconds.
  // Default: 30000.
  int busy_timeout_ms = 30000;
};

// Replaces the whole content of the existing database at `target_path` with
// the database at `source_path`, writing through SQLite into the target's
// "main" database in ONE write transaction. Other connections and processes
// may keep the target open; they see the new content from their next
// transaction on. The target's -wal / -shm / -journal are handled by SQLite.
//
// Journal mode: the target keeps its own. A WAL target stays in WAL mode, a
// rollback-journal target stays in rollback mode (if the source file is in WAL
// mode, it is first copied to a temporary rollback-mode file beside the
// target, because the backup API would otherwise carry the source's WAL flag
// over to the target).
//
// Returns
//   OK, with the target holding exactly the source's content;
//   CheckDatabaseFile errors for either path (the target must already exist
//     and be a SQLite database; it is never created);
//   kUnavailable (retryable) if the target stayed locked for busy_timeout_ms;
//   kFailedPrecondition if the target is read-only, or in WAL mode with a page
//     size different from the source's (WAL databases cannot change it);
//   kCorruption / kIOError from SQLite.
// On any error the target is left as it was (the write transaction rolls back).
Status ReplaceDatabaseContents(const std::string& source_path, const std::string& target_path,
                               const ReplaceOptions& opts = {});

// Makes a consistent copy of the database at `source_path` as the NEW file
// `dest_path` (rollback-journal mode, self-contained, fsynced). The copy is
// written to a temporary file beside `dest_path` and renamed into place, so
// `dest_path` either appears complete or not at all. Returns
//   kAlreadyExists if something is at `dest_path` (it is never overwritten);
//   CheckDatabaseFile errors for the source;
//   kUnavailable (retryable) if the source stayed locked for busy_timeout_ms;
//   kIOError / kPermissionDenied for the destination directory.
Status CopyDatabase(const std::string& source_path, const std::string& dest_path,
                    int busy_timeout_ms = 30000);

}  // namespace dbbackup::snapshot
