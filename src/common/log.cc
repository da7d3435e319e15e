#include "common/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

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

thread_local JobContext current_job;

// "2026-11-26T12:00:00.123Z".
std::string IsoMillis(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];  // room for any int, as GCC's -Wformat-truncation counts
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return buf;
}

}  // namespace

const JobContext& CurrentJob() { return current_job; }

ScopedJob::ScopedJob(JobContext job) : previous_(std::move(current_job)) {
  current_job = std::move(job);
}

ScopedJob::~ScopedJob() { current_job = std::move(previous_); }

Result<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return Status::InvalidArgument("unknown log format '" + std::string(name) +
                                 "' (want text or json)");
}

std::string FormatLine(Format format, Level level, std::string_view message, const JobContext& job,
                       std::chrono::system_clock::time_point time) {
  if (format == Format::kJson) {
    nlohmann::json j = {{"time", IsoMillis(time)},
                        {"level", std::string(LevelName(level))},
                        {"message", std::string(message)}};
    if (!job.id.empty()) j["job_id"] = job.id;
    if (!job.database.empty()) j["database"] = job.database;
    // Invalid UTF-8 (a path, an S3 error) is replaced, never a throw.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = "dbbackup: ";
  if (level >= Level::kError) {
    line += "error: ";
  } else if (level == Level::kWarning) {
    line += "warning: ";
  }
  if (!job.id.empty() && message.find(job.id) == std::string_view::npos) {
    line += "job " + job.id + ": ";
  }
  line += message;
  return line;
}

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
