// Small helpers shared by the engine's operations.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace dbbackup::engine {

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// kFailedPrecondition "not enough free space in DIR: need N MB, have M MB
// (set HINT)" when the file system holding `dir` has less than `needed` bytes.
Status CheckFreeSpace(const std::string& dir, uint64_t needed, const std::string& hint);

// "123.4 MB" style sizes for messages.
std::string HumanBytes(uint64_t bytes);

}  // namespace dbbackup::engine
