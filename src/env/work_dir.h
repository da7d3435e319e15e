// WorkDir: a private scratch directory for one operation (the snapshot and
// the compressed spool of a backup, the download of a restore). It is removed
// with its content when the WorkDir goes away; if the process dies first
// (SIGKILL, power loss), the next operation's RemoveStale() collects it.
//
// Liveness is an flock(2) on "<dir>/.lock" held for the WorkDir's lifetime:
// the kernel drops it when the process dies, so a directory whose lock can be
// taken belongs to nobody — no pid guessing, safe across processes.
//
// Thread-safety: a WorkDir is owned by one thread; RemoveStale is safe to
// call concurrently with other processes' Create/RemoveStale.
#pragma once

#include <string>

#include "common/status.h"

namespace dbbackup::env {

class WorkDir {
 public:
  // Creates "<parent>/<prefix>XXXXXX" (mode 0700) and locks it.
  static Result<WorkDir> Create(const std::string& parent, const std::string& prefix);
  // Removes every "<parent>/<prefix>*" directory whose lock nobody holds.
  // Returns how many were removed; errors are ignored (best effort).
  static int RemoveStale(const std::string& parent, const std::string& prefix);

  WorkDir(WorkDir&& o) noexcept : path_(std::move(o.path_)), lock_fd_(o.lock_fd_) {
    o.path_.clear();
    o.lock_fd_ = -1;
  }
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir();

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  WorkDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_;
};

}  // namespace dbbackup::env
