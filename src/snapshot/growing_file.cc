#include "snapshot/growing_file.h"

#include <algorithm>
#include <atomic>
#include <new>

#include "snapshot/sqlite_util.h"

namespace dbbackup::snapshot {
namespace {

// SQLite allocates szOsFile bytes for each file; ours is this header followed
// by the default VFS's own file object.
struct GrowFile {
  sqlite3_file base;  // must be first: SQLite sees a GrowFile as sqlite3_file
  sqlite3_file* real = nullptr;
  GrowingFile* growing = nullptr;  // null for files other than the main database
};

GrowFile* Cast(sqlite3_file* f) { return reinterpret_cast<GrowFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Cast(f)->real; }
sqlite3_vfs* DefaultVfs() { return sqlite3_vfs_find(nullptr); }

int Close(sqlite3_file* file) {
  GrowFile* f = Cast(file);
  const int rc = f->real->pMethods->xClose(f->real);
  f->~GrowFile();
  return rc;
}

int Read(sqlite3_file* file, void* out, int n, sqlite3_int64 off) {
  GrowFile* f = Cast(file);
  if (f->growing != nullptr && n > 0 &&
      !f->growing->WaitFor(static_cast<uint64_t>(off) + static_cast<uint64_t>(n))) {
    return SQLITE_IOERR_READ;
  }
  return f->real->pMethods->xRead(f->real, out, n, off);
}

int Write(sqlite3_file* file, const void* data, int n, sqlite3_int64 off) {
  return Real(file)->pMethods->xWrite(Real(file), data, n, off);
}
int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int Sync(sqlite3_file* file, int flags) { return Real(file)->pMethods->xSync(Real(file), flags); }

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  GrowFile* f = Cast(file);
  if (f->growing == nullptr) return f->real->pMethods->xFileSize(f->real, size);
  *size = static_cast<sqlite3_int64>(f->growing->final_size());
  return SQLITE_OK;
}

int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}

int ShmMap(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return real->pMethods->xShmMap(real, page, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return real->pMethods->xShmLock(real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion >= 2) real->pMethods->xShmBarrier(real);
}
int ShmUnmap(sqlite3_file* file, int del) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_OK;
  return real->pMethods->xShmUnmap(real, del);
}

// Memory-mapped pages would bypass the wait in Read: never map.
int Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}
int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kMethods = {3,
                                     Close,
                                     Read,
                                     Write,
                                     Truncate,
                                     Sync,
                                     FileSize,
                                     Lock,
                                     Unlock,
                                     CheckReservedLock,
                                     FileControl,
                                     SectorSize,
                                     DeviceCharacteristics,
                                     ShmMap,
                                     ShmLock,
                                     ShmBarrier,
                                     ShmUnmap,
                                     Fetch,
                                     Unfetch};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  // Until xOpen succeeds SQLite must see no methods, so it will not xClose.
  file->pMethods = nullptr;
  auto* f = new (file) GrowFile();
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(GrowFile));
  sqlite3_vfs* real_vfs = DefaultVfs();
  int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->~GrowFile();
    file->pMethods = nullptr;
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  if (flags & SQLITE_OPEN_MAIN_DB) f->growing = static_cast<GrowingFile*>(vfs->pAppData);
  file->pMethods = &kMethods;
  return SQLITE_OK;
}

std::atomic<uint64_t> g_next_id{0};

}  // namespace

GrowingFile::GrowingFile(uint64_t final_size)
    : final_size_(final_size), vfs_name_("dbbackup-growing-" + std::to_string(g_next_id++)) {
  internal::InitShimVfs(&vfs_, static_cast<int>(sizeof(GrowFile)));
  vfs_.zName = vfs_name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = Open;
  sqlite3_vfs_register(&vfs_, /*makeDflt=*/0);
}

GrowingFile::~GrowingFile() {
  Close();
  sqlite3_vfs_unregister(&vfs_);
}

void GrowingFile::Advance(uint64_t written) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    written_ = std::max(written_, written);
  }
  cv_.notify_all();
}

void GrowingFile::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool GrowingFile::WaitFor(uint64_t end) {
  end = std::min(end, final_size_);
  std::unique_lock<std::mutex> lock(mu_);
  ++waiting_;
  cv_.wait(lock, [&] { return written_ >= end || closed_; });
  --waiting_;
  return written_ >= end;
}

int GrowingFile::waiting() {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace dbbackup::snapshot
