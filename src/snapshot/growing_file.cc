#include "snapshot/growing_file.h"

#include <algorithm>
#include <atomic>

#include "snapshot/sqlite_util.h"

namespace dbbackup::snapshot {
namespace {

// SQLite allocates szOsFile bytes for each file; ours is this header followed
// by the default VFS's own file object.
struct GrowFile : internal::ShimFile {
  GrowingFile* growing = nullptr;  // null for files other than the main database
};

GrowFile* Cast(sqlite3_file* f) {
  return static_cast<GrowFile*>(reinterpret_cast<internal::ShimFile*>(f));
}

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

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  GrowFile* f = Cast(file);
  if (f->growing == nullptr) return f->real->pMethods->xFileSize(f->real, size);
  *size = static_cast<sqlite3_int64>(f->growing->final_size());
  return SQLITE_OK;
}

// Memory-mapped pages would bypass the wait in Read: never map.
int Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}
int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kMethods = [] {
  sqlite3_io_methods m = internal::ShimIoMethods();
  m.xClose = Close;
  m.xRead = Read;
  m.xFileSize = FileSize;
  m.xFetch = Fetch;
  m.xUnfetch = Unfetch;
  return m;
}();

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  int rc = SQLITE_OK;
  GrowFile* f = internal::OpenShimFile<GrowFile>(file, name, flags, out_flags, &kMethods, &rc);
  if (f != nullptr && (flags & SQLITE_OPEN_MAIN_DB)) {
    f->growing = static_cast<GrowingFile*>(vfs->pAppData);
  }
  return rc;
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
