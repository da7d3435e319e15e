#include "engine/util.h"

#include <cstdio>

#include "env/file_util.h"

namespace dbbackup::engine {

Status CheckFreeSpace(const std::string& dir, uint64_t needed, const std::string& hint) {
  auto free_bytes = env::FreeSpace(dir);
  if (!free_bytes.ok()) return free_bytes.status();
  if (*free_bytes < needed) {
    return Status::FailedPrecondition("not enough free space in " + dir + ": need " +
                                      HumanBytes(needed) + ", have " + HumanBytes(*free_bytes) +
                                      " (free space or set " + hint + ")");
  }
  return Status::OK();
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

}  // namespace dbbackup::engine
