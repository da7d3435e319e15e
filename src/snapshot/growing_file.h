// A database file that one thread is still writing, front to back, while
// SQLite connections on other threads already read it: a restore checks the
// pages that have arrived while the rest downloads. Through Vfs(), SQLite
// sees the file at its final size, and a read waits until the bytes it asks
// for are written; once the writer gives up short of them, it fails
// (SQLITE_IOERR_READ). Bytes are written once and never change, so what a
// reader saw is what the file holds when the writer is done.
//
// Only a writer that finished (Close() after Advance(final_size)) makes the
// readers' results mean anything; callers check the written file (its size
// and checksum) before they believe a check that read it.
//
// Thread-safety: Advance and Close from the writing thread; WaitFor and the
// VFS from any number of reading threads. Connections opened with Vfs() must
// be closed before the GrowingFile is destroyed.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace dbbackup::snapshot {

class GrowingFile {
 public:
  explicit GrowingFile(uint64_t final_size);
  ~GrowingFile();
  GrowingFile(const GrowingFile&) = delete;
  GrowingFile& operator=(const GrowingFile&) = delete;

  uint64_t final_size() const { return final_size_; }

  // Writer: bytes [0, written) are in the file, readable through any
  // descriptor. Calls must not decrease.
  void Advance(uint64_t written);
  // Writer: no more bytes will come. Idempotent.
  void Close();

  // Reader: waits until bytes [0, end) are written (true) or the writer has
  // closed short of them (false). `end` is capped at final_size().
  bool WaitFor(uint64_t end);

  // Readers blocked in WaitFor right now (tests pace a writer by it).
  int waiting();

  // The name of a VFS, registered for this object's lifetime, for
  // sqlite3_open_v2's zVfs argument: it opens any path with SQLite's default
  // VFS, and every main-database file as this growing file.
  const char* Vfs() const { return vfs_name_.c_str(); }

 private:
  const uint64_t final_size_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t written_ = 0;  // guarded by mu_
  bool closed_ = false;   // guarded by mu_
  int waiting_ = 0;       // guarded by mu_
  std::string vfs_name_;
  sqlite3_vfs vfs_{};
};

}  // namespace dbbackup::snapshot
