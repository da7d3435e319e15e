// Logging: one line per event on a sink chosen by main (stderr by default).
// The CLI keeps stdout for results (--json), so logs never go there.
//
// Job context: the daemon runs each job on a worker thread inside a
// ScopedJob, and sinks read CurrentJob() (thread-local) to put the job's id
// and database into every line the job logs, so `grep <id>` finds a whole
// run. FormatLine renders a line as text (the default) or as one JSON
// object (`dbbackup daemon --log-format json`, for log shippers).
//
// Thread-safety: Log() may be called from any thread; lines never interleave.
// The sink runs on the logging thread, with the log's lock held.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dbbackup::log {

enum class Level { kDebug = 0, kInfo, kWarning, kError };

using Sink = std::function<void(Level, std::string_view)>;

// Replaces the sink and minimum level (process-wide; set by main and tests).
void SetSink(Sink sink);
void SetMinLevel(Level level);
Level MinLevel();

void Log(Level level, std::string_view message);
inline void Debug(std::string_view m) { Log(Level::kDebug, m); }
inline void Info(std::string_view m) { Log(Level::kInfo, m); }
inline void Warning(std::string_view m) { Log(Level::kWarning, m); }
inline void Error(std::string_view m) { Log(Level::kError, m); }

std::string_view LevelName(Level level);

// The job the calling thread works on; empty fields outside jobs.
struct JobContext {
  std::string id;
  std::string database;
};
const JobContext& CurrentJob();

// Sets CurrentJob() on this thread for the object's lifetime (restoring
// the previous context after).
class ScopedJob {
 public:
  explicit ScopedJob(JobContext job);
  ~ScopedJob();
  ScopedJob(const ScopedJob&) = delete;
  ScopedJob& operator=(const ScopedJob&) = delete;

 private:
  JobContext previous_;
};

// Line formats (the names are user-visible: "text", "json").
enum class Format { kText, kJson };
// kInvalidArgument unless `name` is "text" or "json".
Result<Format> ParseFormat(std::string_view name);

// One log line, without the newline:
//   kText: "dbbackup: [error: |warning: ][job ID: ]MESSAGE" (the job prefix
//          only when the message does not name the job already)
//   kJson: {"time":"2026-11-26T12:00:00.123Z","level":"info","message":...,
//          "job_id":...,"database":...} (job fields only inside a job)
std::string FormatLine(Format format, Level level, std::string_view message, const JobContext& job,
                       std::chrono::system_clock::time_point time);

}  // namespace dbbackup::log
