#include "snapshot/replace.h"

#include <sqlite3.h>

#include <optional>

#include "env/file_util.h"
#include "snapshot/bulk_io_vfs.h"
#include "snapshot/database_check.h"
#include "snapshot/sqlite_util.h"

namespace dbbackup::snapshot {
namespace {

// File format write version (header byte 18): 2 means WAL mode.
Result<bool> HeaderSaysWal(const std::string& path) {
  DBB_ASSIGN_OR_RETURN(auto reader, env::FileReader::Open(path));
  unsigned char byte = 0;
  DBB_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(18, &byte, 1));
  return got == 1 && byte == 2;
}

// Copies `source_path` into the new file `tmp` (which exists and is empty) and
// leaves it in rollback-journal mode.
Status CopyInto(const std::string& source_path, const std::string& tmp, int busy_timeout_ms,
                const std::string& what) {
  // Both files through the bulk-I/O shim; `tmp` is private until renamed.
  DBB_ASSIGN_OR_RETURN(internal::DbHandle src,
                       internal::OpenDb(source_path, SQLITE_OPEN_READONLY, busy_timeout_ms,
                                        internal::BulkIoVfsName()));
  DBB_ASSIGN_OR_RETURN(
      internal::DbHandle dst,
      internal::OpenDb(tmp, SQLITE_OPEN_READWRITE, busy_timeout_ms, internal::BulkIoVfsName()));
  DBB_RETURN_IF_ERROR(internal::BackupAll(src.get(), dst.get(), busy_timeout_ms, what));
  // See TakeSnapshot: reading the schema picks up a copied WAL flag, and
  // leaving WAL mode rewrites the header so no -wal is needed.
  DBB_RETURN_IF_ERROR(
      internal::Exec(dst.get(), "SELECT count(*) FROM sqlite_schema; PRAGMA journal_mode = DELETE",
                     what + ": cannot set journal mode"));
  return Status::OK();
}

}  // namespace

Status ReplaceDatabaseContents(const std::string& source_path, const std::string& target_path,
                               const ReplaceOptions& opts) {
  const std::string what = "replace " + target_path + " with " + source_path;
  DBB_RETURN_IF_ERROR(CheckDatabaseFile(source_path));
  DBB_RETURN_IF_ERROR(CheckDatabaseFile(target_path));
  // No SQLITE_OPEN_CREATE: a target that vanished must not reappear empty.
  DBB_ASSIGN_OR_RETURN(internal::DbHandle dst,
                       internal::OpenDb(target_path, SQLITE_OPEN_READWRITE, opts.busy_timeout_ms));
  DBB_ASSIGN_OR_RETURN(std::string target_mode,
                       internal::QueryText(dst.get(), "PRAGMA journal_mode", what));
  DBB_ASSIGN_OR_RETURN(bool source_wal, HeaderSaysWal(source_path));

  std::string from = source_path;
  std::optional<env::TempFile> converted;
  if (source_wal && target_mode != "wal") {
    // The backup API copies page 1 verbatim, WAL flag included, and only
    // rewrites it for a WAL destination; a rollback target would silently
    // turn into WAL on its next open. A rollback-mode copy avoids that.
    DBB_ASSIGN_OR_RETURN(env::TempFile tmp,
                         env::TempFile::Create(env::DirName(target_path),
                                               "." + env::BaseName(target_path) + ".restore"));
    DBB_RETURN_IF_ERROR(CopyInto(source_path, tmp.path(), opts.busy_timeout_ms, what));
    from = tmp.path();
    converted = std::move(tmp);
  }
  // The source reads ahead; the live target keeps the default VFS, which
  // every other connection to it uses too.
  DBB_ASSIGN_OR_RETURN(internal::DbHandle src,
                       internal::OpenDb(from, SQLITE_OPEN_READONLY, opts.busy_timeout_ms,
                                        internal::BulkIoVfsName()));
  return internal::BackupAll(src.get(), dst.get(), opts.busy_timeout_ms, what);
}

Status CopyDatabase(const std::string& source_path, const std::string& dest_path,
                    int busy_timeout_ms) {
  const std::string what = "copy " + source_path + " to " + dest_path;
  if (env::PathExists(dest_path)) return Status::AlreadyExists(what + ": destination exists");
  DBB_RETURN_IF_ERROR(CheckDatabaseFile(source_path));
  DBB_ASSIGN_OR_RETURN(
      env::TempFile tmp,
      env::TempFile::Create(env::DirName(dest_path), "." + env::BaseName(dest_path) + ".tmp"));
  // SQLite's default synchronous=FULL fsyncs the file at commit, so the
  // rename below publishes durable content.
  DBB_RETURN_IF_ERROR(CopyInto(source_path, tmp.path(), busy_timeout_ms, what));
  Status renamed = env::RenameFile(tmp.path(), dest_path, /*no_replace=*/true);
  if (!renamed.ok()) return renamed.Annotate(what);
  tmp.Release();
  return Status::OK();
}

}  // namespace dbbackup::snapshot
