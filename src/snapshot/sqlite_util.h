// Internal helpers shared by the snapshot layer: an owning sqlite3 handle,
// SQLite result codes mapped to Status, and the one backup loop every copy
// (snapshot, safety copy, restore) goes through. Not part of the public API.
//
// Thread-safety: a DbHandle is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dbbackup::snapshot::internal {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

// Maps an SQLite result code to a Status whose message is
// "`what`: <sqlite message>". Busy/locked become retryable kUnavailable,
// NOTADB/CORRUPT kCorruption, READONLY/PERM/AUTH kPermissionDenied, FULL and
// other I/O failures kIOError. `db` may be null (uses sqlite3_errstr).
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// Opens `path` with `flags` (SQLITE_OPEN_* bits; callers never pass
// SQLITE_OPEN_CREATE for a source) and sets the busy timeout. `vfs` names
// the VFS (e.g. BulkIoVfsName() for whole-file copies); null = the default.
Result<DbHandle> OpenDb(const std::string& path, int flags, int busy_timeout_ms,
                        const char* vfs = nullptr);

// Fills in a shim VFS whose files differ from the default VFS's but nothing
// else does: iVersion, szOsFile (`file_header` bytes of the shim's own in
// front of the default VFS's file), mxPathname, and every method but xOpen
// and the name, pointed at SQLite's default VFS.
void InitShimVfs(sqlite3_vfs* vfs, int file_header);

// The front of every shim's file: SQLite sees it as a sqlite3_file, and the
// default VFS's own file object follows the shim's type F in the same
// allocation (szOsFile from InitShimVfs(vfs, sizeof(F))). A shim derives
// its file type from this, as the only base, so a sqlite3_file* is also a
// ShimFile* and an F*.
struct ShimFile {
  sqlite3_file base;  // must be first
  sqlite3_file* real = nullptr;
};

// I/O methods (iVersion 3) that hand every call to the real file unchanged,
// the shared-memory and mapping calls answered as SQLite expects of a file
// without them when the real file's methods are older. xClose is null: only
// the shim knows its type's destructor. A shim copies this and replaces what
// it changes.
sqlite3_io_methods ShimIoMethods();

// xOpen for a shim whose files are F: constructs F in SQLite's memory, opens
// the default VFS's file behind it and installs `methods`. Returns the F, or
// null with `*rc` set and nothing left for SQLite to close.
template <class F>
F* OpenShimFile(sqlite3_file* file, sqlite3_filename name, int flags, int* out_flags,
                const sqlite3_io_methods* methods, int* rc) {
  // Until xOpen succeeds SQLite must see no methods, so it will not xClose.
  file->pMethods = nullptr;
  F* f = new (file) F();
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(F));
  sqlite3_vfs* real_vfs = sqlite3_vfs_find(nullptr);
  *rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
  if (*rc != SQLITE_OK || f->real->pMethods == nullptr) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->~F();
    file->pMethods = nullptr;
    if (*rc == SQLITE_OK) *rc = SQLITE_CANTOPEN;
    return nullptr;
  }
  file->pMethods = methods;
  return f;
}

// Runs one or more statements that return no rows we need.
Status Exec(sqlite3* db, const std::string& sql, std::string_view what);

// Runs a single-value query and returns the first column of the first row as
// text ("" if there is no row).
Result<std::string> QueryText(sqlite3* db, const std::string& sql, std::string_view what);

// Copies the whole "main" database of `src` into the "main" database of
// `dst` in a single sqlite3_backup_step(-1), so the source is read inside one
// read transaction and the destination is written in one write transaction.
// Retries SQLITE_BUSY/SQLITE_LOCKED with capped exponential backoff until
// `busy_timeout_ms` has passed, then returns retryable kUnavailable. Sets
// both connections' busy timeouts to the time left as it goes.
// `what` prefixes error messages.
Status BackupAll(sqlite3* src, sqlite3* dst, int busy_timeout_ms, std::string_view what);

// "name" with embedded double quotes doubled: safe as an SQL identifier.
std::string QuoteIdentifier(std::string_view name);

}  // namespace dbbackup::snapshot::internal
