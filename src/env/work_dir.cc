#include "env/work_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "env/file_util.h"

namespace dbbackup::env {
namespace {

constexpr char kLockName[] = ".lock";

}  // namespace

Result<WorkDir> WorkDir::Create(const std::string& parent, const std::string& prefix) {
  std::string templ = JoinPath(parent, prefix + "XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    int err = errno;
    std::string msg = "cannot create a working directory in " + parent + ": " + std::strerror(err);
    if (err == ENOENT) return Status::NotFound(msg);
    if (err == EACCES || err == EPERM || err == EROFS) return Status::PermissionDenied(msg);
    return Status::IOError(msg);
  }
  // The lock file appears under its name already locked: created and
  // locked under another name, then renamed. Created in place, it would be
  // unlocked for a moment, and a RemoveStale in another process could take
  // it for a dead run's and delete the directory under us (seen with two
  // backups started in the same instant).
  const std::string lock_path = JoinPath(templ, kLockName);
  const std::string new_lock_path = lock_path + ".new";
  int fd = ::open(new_lock_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0 ||
      ::rename(new_lock_path.c_str(), lock_path.c_str()) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    std::error_code ec;
    std::filesystem::remove_all(templ, ec);
    return Status::IOError("cannot lock working directory " + templ + ": " + std::strerror(err));
  }
  return WorkDir(templ, fd);
}

WorkDir::~WorkDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // after removal: nobody may collect it meanwhile
}

int WorkDir::RemoveStale(const std::string& parent, const std::string& prefix) {
  int removed = 0;
  std::error_code ec;
  std::filesystem::directory_iterator it(parent, ec);
  if (ec) return 0;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    std::error_code type_ec;
    if (!entry.is_directory(type_ec) || entry.is_symlink(type_ec)) continue;
    std::string lock_path = JoinPath(entry.path().string(), kLockName);
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      // No lock file: a Create that died between mkdtemp and open; only
      // collect it if it is clearly not being set up right now.
      auto age = std::filesystem::file_time_type::clock::now() -
                 std::filesystem::last_write_time(entry.path(), type_ec);
      if (type_ec || age < std::chrono::minutes(10)) continue;
    } else if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);  // held by a live process
      continue;
    }
    std::error_code rm_ec;
    std::filesystem::remove_all(entry.path(), rm_ec);
    if (fd >= 0) ::close(fd);
    if (!rm_ec) ++removed;
  }
  return removed;
}

}  // namespace dbbackup::env
