#include "snapshot/bulk_io_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "snapshot/sqlite_util.h"

namespace dbbackup::snapshot::internal {
namespace {

constexpr char kVfsName[] = "dbbackup-bulk-io";
// The default VFS silently truncates a transfer to its low 17 bits
// (`cnt &= 0x1ffff` in its seekAndRead/seekAndWrite), so 64 KiB is the
// largest power of two it moves whole: 16 pages of 4 KiB per system call.
constexpr sqlite3_int64 kReadAhead = 64 << 10;
constexpr size_t kWriteBuffer = 64 << 10;
// Forward reads in a row before reading ahead; one stray read does not.
constexpr int kSequentialRun = 4;

enum class Mode { kPassThrough, kReadAhead, kCoalesceWrites };

// SQLite allocates szOsFile bytes for each file; ours is this header followed
// by the default VFS's own file object.
struct BulkFile : ShimFile {
  Mode mode = Mode::kPassThrough;
  std::vector<char> buf;
  sqlite3_int64 buf_off = 0;  // file offset of buf[0]
  size_t buf_len = 0;         // valid (read) or pending (write) bytes
  sqlite3_int64 next_read = -1;
  int run = 0;
};

sqlite3_vfs g_vfs;
sqlite3_io_methods g_methods;

BulkFile* Cast(sqlite3_file* f) { return static_cast<BulkFile*>(reinterpret_cast<ShimFile*>(f)); }

void DropReadAhead(BulkFile* f) {
  if (f->mode == Mode::kReadAhead) f->buf_len = 0;
}

// Writes out pending coalesced writes; a no-op in the other modes.
int Flush(BulkFile* f) {
  if (f->mode != Mode::kCoalesceWrites || f->buf_len == 0) return SQLITE_OK;
  const int rc =
      f->real->pMethods->xWrite(f->real, f->buf.data(), static_cast<int>(f->buf_len), f->buf_off);
  f->buf_len = 0;
  return rc;
}

int Close(sqlite3_file* file) {
  BulkFile* f = Cast(file);
  int rc = Flush(f);
  const int close_rc = f->real->pMethods->xClose(f->real);
  f->~BulkFile();
  return rc != SQLITE_OK ? rc : close_rc;
}

int ReadThrough(BulkFile* f, void* out, int n, sqlite3_int64 off) {
  return f->real->pMethods->xRead(f->real, out, n, off);
}

int Read(sqlite3_file* file, void* out, int n, sqlite3_int64 off) {
  BulkFile* f = Cast(file);
  if (f->mode == Mode::kCoalesceWrites) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
    return ReadThrough(f, out, n, off);
  }
  if (f->mode != Mode::kReadAhead) return ReadThrough(f, out, n, off);

  const auto end = off + n;
  if (f->buf_len > 0 && off >= f->buf_off &&
      end <= f->buf_off + static_cast<sqlite3_int64>(f->buf_len)) {
    std::memcpy(out, f->buf.data() + (off - f->buf_off), static_cast<size_t>(n));
    f->next_read = end;
    return SQLITE_OK;
  }
  // Pages served from the WAL leave gaps in the file's read sequence, so
  // "forward, within one read-ahead" still counts as sequential.
  const bool forward = f->next_read >= 0 && off >= f->next_read && off < f->next_read + kReadAhead;
  f->run = forward ? f->run + 1 : 0;
  f->next_read = end;
  if (f->run < kSequentialRun || n >= kReadAhead) return ReadThrough(f, out, n, off);

  sqlite3_int64 size = 0;
  if (int rc = f->real->pMethods->xFileSize(f->real, &size); rc != SQLITE_OK) return rc;
  const sqlite3_int64 len = std::min(kReadAhead, size - off);
  // Near the end of the file (or past it) there is nothing to gain; the
  // default VFS also does the short-read zero-filling SQLite expects.
  if (len < end - off) return ReadThrough(f, out, n, off);
  f->buf.resize(static_cast<size_t>(kReadAhead));
  if (ReadThrough(f, f->buf.data(), static_cast<int>(len), off) != SQLITE_OK) {
    // Let the default VFS report it, with the zero-filling SQLite expects.
    f->buf_len = 0;
    return ReadThrough(f, out, n, off);
  }
  f->buf_off = off;
  f->buf_len = static_cast<size_t>(len);
  std::memcpy(out, f->buf.data(), static_cast<size_t>(n));
  return SQLITE_OK;
}

int Write(sqlite3_file* file, const void* data, int n, sqlite3_int64 off) {
  BulkFile* f = Cast(file);
  if (f->mode == Mode::kReadAhead) DropReadAhead(f);
  if (f->mode != Mode::kCoalesceWrites) return f->real->pMethods->xWrite(f->real, data, n, off);
  const size_t size = static_cast<size_t>(n);
  const bool contiguous =
      f->buf_len > 0 && off == f->buf_off + static_cast<sqlite3_int64>(f->buf_len);
  if (f->buf_len > 0 && (!contiguous || f->buf_len + size > kWriteBuffer)) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (size > kWriteBuffer) return f->real->pMethods->xWrite(f->real, data, n, off);
  if (f->buf_len == 0) {
    f->buf.resize(kWriteBuffer);
    f->buf_off = off;
  }
  std::memcpy(f->buf.data() + f->buf_len, data, size);
  f->buf_len += size;
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  BulkFile* f = Cast(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  DropReadAhead(f);
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  BulkFile* f = Cast(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  BulkFile* f = Cast(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  BulkFile* f = Cast(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  DropReadAhead(f);
  return f->real->pMethods->xLock(f->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  BulkFile* f = Cast(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  DropReadAhead(f);
  return f->real->pMethods->xUnlock(f->real, level);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  BulkFile* f = Cast(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  BulkFile* f = Cast(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  // WAL read transactions begin and end here, not in xLock.
  DropReadAhead(f);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

int Fetch(sqlite3_file* file, sqlite3_int64 off, int n, void** out) {
  BulkFile* f = Cast(file);
  *out = nullptr;  // "no mapping": SQLite then reads
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  return f->real->pMethods->xFetch(f->real, off, n, out);
}

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  int rc = SQLITE_OK;
  BulkFile* f = OpenShimFile<BulkFile>(file, name, flags, out_flags, &g_methods, &rc);
  if (f != nullptr && (flags & SQLITE_OPEN_MAIN_DB)) {
    f->mode = (flags & SQLITE_OPEN_READONLY) ? Mode::kReadAhead : Mode::kCoalesceWrites;
  }
  return rc;
}

void Register() {
  g_methods = ShimIoMethods();
  g_methods.xClose = Close;
  g_methods.xRead = Read;
  g_methods.xWrite = Write;
  g_methods.xTruncate = Truncate;
  g_methods.xSync = Sync;
  g_methods.xFileSize = FileSize;
  g_methods.xLock = Lock;
  g_methods.xUnlock = Unlock;
  g_methods.xFileControl = FileControl;
  g_methods.xShmLock = ShmLock;
  g_methods.xFetch = Fetch;
  g_vfs = sqlite3_vfs{};
  InitShimVfs(&g_vfs, static_cast<int>(sizeof(BulkFile)));
  g_vfs.zName = kVfsName;
  g_vfs.xOpen = Open;
  sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0);
}

}  // namespace

const char* BulkIoVfsName() {
  static std::once_flag once;
  std::call_once(once, Register);
  return kVfsName;
}

}  // namespace dbbackup::snapshot::internal
