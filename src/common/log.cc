#include "common/log.h"

#include <cstdio>
#include <mutex>

namespace dbbackup::log {
namespace {

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
Sink& CurrentSink() {
  static Sink sink;
  return sink;
}
Level& CurrentLevel() {
  static Level level = Level::kInfo;
  return level;
}

}  // namespace

void SetSink(Sink sink) {
  std::lock_guard<std::mutex> lock(Mu());
  CurrentSink() = std::move(sink);
}

void SetMinLevel(Level level) {
  std::lock_guard<std::mutex> lock(Mu());
  CurrentLevel() = level;
}

Level MinLevel() {
  std::lock_guard<std::mutex> lock(Mu());
  return CurrentLevel();
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

void Log(Level level, std::string_view message) {
  std::lock_guard<std::mutex> lock(Mu());
  if (level < CurrentLevel()) return;
  if (CurrentSink()) {
    CurrentSink()(level, message);
    return;
  }
  std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
}

}  // namespace dbbackup::log
