#include "snapshot/sqlite_util.h"

#include <algorithm>
#include <thread>

namespace dbbackup::snapshot::internal {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  // The connection's message is more specific than the code's generic text,
  // but only while it still describes `rc`.
  if (db != nullptr && (sqlite3_errcode(db) & 0xff) == (rc & 0xff)) {
    msg += sqlite3_errmsg(db);
  } else {
    msg += sqlite3_errstr(rc);
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(msg));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::Corruption(std::move(msg));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::PermissionDenied(std::move(msg));
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    default:
      return Status::IOError(std::move(msg));
  }
}

namespace {

sqlite3_vfs* Default() { return sqlite3_vfs_find(nullptr); }
int ShimDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  return Default()->xDelete(Default(), name, sync_dir);
}
int ShimAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return Default()->xAccess(Default(), name, flags, out);
}
int ShimFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return Default()->xFullPathname(Default(), name, n, out);
}
void* ShimDlOpen(sqlite3_vfs*, const char* name) { return Default()->xDlOpen(Default(), name); }
void ShimDlError(sqlite3_vfs*, int n, char* out) { Default()->xDlError(Default(), n, out); }
void (*ShimDlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return Default()->xDlSym(Default(), h, sym);
}
void ShimDlClose(sqlite3_vfs*, void* h) { Default()->xDlClose(Default(), h); }
int ShimRandomness(sqlite3_vfs*, int n, char* out) {
  return Default()->xRandomness(Default(), n, out);
}
int ShimSleep(sqlite3_vfs*, int us) { return Default()->xSleep(Default(), us); }
int ShimCurrentTime(sqlite3_vfs*, double* out) { return Default()->xCurrentTime(Default(), out); }
int ShimGetLastError(sqlite3_vfs*, int n, char* out) {
  return Default()->xGetLastError(Default(), n, out);
}
int ShimCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return Default()->xCurrentTimeInt64(Default(), out);
}

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f)->real; }

int ShimRead(sqlite3_file* f, void* out, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), out, n, off);
}
int ShimWrite(sqlite3_file* f, const void* data, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xWrite(Real(f), data, n, off);
}
int ShimTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int ShimSync(sqlite3_file* f, int flags) { return Real(f)->pMethods->xSync(Real(f), flags); }
int ShimFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int ShimLock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int ShimUnlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int ShimCheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int ShimFileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int ShimSectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int ShimDeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShimShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  if (Real(f)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
}
int ShimShmLock(sqlite3_file* f, int offset, int n, int flags) {
  if (Real(f)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShimShmBarrier(sqlite3_file* f) {
  if (Real(f)->pMethods->iVersion >= 2) Real(f)->pMethods->xShmBarrier(Real(f));
}
int ShimShmUnmap(sqlite3_file* f, int del) {
  if (Real(f)->pMethods->iVersion < 2) return SQLITE_OK;
  return Real(f)->pMethods->xShmUnmap(Real(f), del);
}
int ShimFetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  *out = nullptr;  // "no mapping": SQLite then reads
  if (Real(f)->pMethods->iVersion < 3) return SQLITE_OK;
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}
int ShimUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  if (Real(f)->pMethods->iVersion < 3) return SQLITE_OK;
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
}

}  // namespace

sqlite3_io_methods ShimIoMethods() {
  return sqlite3_io_methods{3,
                            nullptr,
                            ShimRead,
                            ShimWrite,
                            ShimTruncate,
                            ShimSync,
                            ShimFileSize,
                            ShimLock,
                            ShimUnlock,
                            ShimCheckReservedLock,
                            ShimFileControl,
                            ShimSectorSize,
                            ShimDeviceCharacteristics,
                            ShimShmMap,
                            ShimShmLock,
                            ShimShmBarrier,
                            ShimShmUnmap,
                            ShimFetch,
                            ShimUnfetch};
}

void InitShimVfs(sqlite3_vfs* vfs, int file_header) {
  sqlite3_vfs* real = Default();
  vfs->iVersion = 2;
  vfs->szOsFile = file_header + real->szOsFile;
  vfs->mxPathname = real->mxPathname;
  vfs->xDelete = ShimDelete;
  vfs->xAccess = ShimAccess;
  vfs->xFullPathname = ShimFullPathname;
  vfs->xDlOpen = ShimDlOpen;
  vfs->xDlError = ShimDlError;
  vfs->xDlSym = ShimDlSym;
  vfs->xDlClose = ShimDlClose;
  vfs->xRandomness = ShimRandomness;
  vfs->xSleep = ShimSleep;
  vfs->xCurrentTime = ShimCurrentTime;
  vfs->xGetLastError = ShimGetLastError;
  vfs->xCurrentTimeInt64 = ShimCurrentTimeInt64;
}

Result<DbHandle> OpenDb(const std::string& path, int flags, int busy_timeout_ms, const char* vfs) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  // sqlite3_open_v2 hands back a handle even on failure; it must be closed.
  DbHandle db(raw);
  if (rc != SQLITE_OK) return SqliteStatus(db.get(), rc, "cannot open " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

Status Exec(sqlite3* db, const std::string& sql, std::string_view what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // SqliteStatus re-reads the message from `db`.
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, what);
  return Status::OK();
}

Result<std::string> QueryText(sqlite3* db, const std::string& sql, std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, what);
  std::string out;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) out = reinterpret_cast<const char*>(text);
    rc = SQLITE_DONE;
  }
  Status st = rc == SQLITE_DONE ? Status::OK() : SqliteStatus(db, rc, what);
  sqlite3_finalize(stmt);
  if (!st.ok()) return st;
  return out;
}

Status BackupAll(sqlite3* src, sqlite3* dst, int busy_timeout_ms, std::string_view what) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  sqlite3_backup* backup = sqlite3_backup_init(dst, "main", src, "main");
  if (backup == nullptr) return SqliteStatus(dst, sqlite3_errcode(dst), what);
  auto delay = std::chrono::milliseconds(1);
  int rc;
  for (;;) {
    // SQLite's busy handlers wait inside step() too; giving them only what is
    // left keeps the total wait within busy_timeout_ms.
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const int left_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
    sqlite3_busy_timeout(src, left_ms);
    sqlite3_busy_timeout(dst, left_ms);
    // -1 copies every page while holding one read transaction on the source:
    // a partial step would release it and restart after every source write.
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
  // finish() reports the first error of the backup's life, so its code wins
  // when step() merely said "stop".
  int finish_rc = sqlite3_backup_finish(backup);
  if (rc == SQLITE_DONE && finish_rc == SQLITE_OK) return Status::OK();
  int err = rc == SQLITE_DONE ? finish_rc : rc;
  if ((err & 0xff) == SQLITE_READONLY) {
    // Also what SQLite returns when a WAL-mode destination would need a
    // different page size, which a WAL database cannot change.
    return Status(StatusCode::kFailedPrecondition,
                  std::string(what) + ": " + sqlite3_errstr(err) +
                      " (destination read-only, or in WAL mode with a different page size)");
  }
  return SqliteStatus(dst, err, what);
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace dbbackup::snapshot::internal
