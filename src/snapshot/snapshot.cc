#include "snapshot/snapshot.h"

#include <sqlite3.h>

#include <cstdlib>

#include "snapshot/bulk_io_vfs.h"
#include "snapshot/database_check.h"
#include "snapshot/sqlite_util.h"

namespace dbbackup::snapshot {

std::string DefaultTempDir() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

Result<Snapshot> TakeSnapshot(const std::string& db_path, const SnapshotOptions& opts) {
  DBB_RETURN_IF_ERROR(CheckDatabaseFile(db_path));
  const std::string dir = opts.temp_dir.empty() ? DefaultTempDir() : opts.temp_dir;
  DBB_ASSIGN_OR_RETURN(env::TempFile file, env::TempFile::Create(dir, "dbb-snapshot-"));
  const std::string what = "snapshot of " + db_path;
  {
    // Both ends through the bulk-I/O shim: 16 pages per system call instead
    // of one (0.125 s -> 0.088 s for 100 MB, see bulk_io_vfs.h).
    DBB_ASSIGN_OR_RETURN(internal::DbHandle src,
                         internal::OpenDb(db_path, SQLITE_OPEN_READONLY, opts.busy_timeout_ms,
                                          internal::BulkIoVfsName()));
    // The empty file from TempFile is a valid empty database, so no CREATE.
    DBB_ASSIGN_OR_RETURN(
        internal::DbHandle dst,
        internal::OpenDb(file.path(), SQLITE_OPEN_READWRITE, 1000, internal::BulkIoVfsName()));
    // The file is private and discarded on any failure, so it needs neither a
    // rollback journal nor fsyncs while it is filled.
    DBB_RETURN_IF_ERROR(internal::Exec(dst.get(),
                                       "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF",
                                       what + ": cannot configure " + file.path()));
    DBB_RETURN_IF_ERROR(internal::BackupAll(src.get(), dst.get(), opts.busy_timeout_ms, what));
    // The copied header carries the source's WAL flag (file format 2). Reading
    // the schema makes SQLite notice it, and leaving WAL mode rewrites the
    // header to rollback-journal (format 1), so no -wal file is ever needed.
    DBB_RETURN_IF_ERROR(internal::Exec(dst.get(),
                                       "SELECT count(*) FROM sqlite_schema; "
                                       "PRAGMA journal_mode = DELETE",
                                       what + ": cannot set journal mode"));
  }
  DBB_ASSIGN_OR_RETURN(uint64_t size, env::FileSize(file.path()));
  return Snapshot(std::move(file), size);
}

}  // namespace dbbackup::snapshot
