// The daemon's state database: job history and per-database schedule state,
// in one SQLite file (<state dir>/state.db), so a restarted daemon keeps its
// history and knows when each database last ran.
//
// Tables (the column names and state strings are persisted: frozen):
//   jobs(id, kind, database, state, trigger, created_ms, started_ms,
//        finished_ms, result, error)   state: queued|running|succeeded|failed
//   schedule_state(database, last_run_ms)
// Times are Unix milliseconds (UTC); 0 = not yet.
//
// Thread-safety: all methods may be called from several threads (one
// connection behind a mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace dbbackup::daemon {

using TimePoint = std::chrono::system_clock::time_point;

// Persisted values: frozen.
inline constexpr char kJobQueued[] = "queued";
inline constexpr char kJobRunning[] = "running";
inline constexpr char kJobSucceeded[] = "succeeded";
inline constexpr char kJobFailed[] = "failed";

struct JobRecord {
  std::string id;
  std::string kind;      // backup, verify, prune, restore-drill
  std::string database;  // the configured database's name
  std::string state = kJobQueued;
  std::string trigger;  // api, schedule, catch-up
  int64_t created_ms = 0;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::string result;  // JSON document; "" until finished
  std::string error;   // one line; "" unless failed

  bool Finished() const { return state == kJobSucceeded || state == kJobFailed; }
};

// Aggregates for /metrics, per database and kind.
struct JobStats {
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::optional<JobRecord> last_success;  // newest succeeded job
  // Sum of the succeeded jobs' result.compressed_size (bytes uploaded).
  int64_t compressed_bytes = 0;
};

int64_t ToMillis(TimePoint t);
TimePoint FromMillis(int64_t ms);

class StateDb {
 public:
  // Opens (creating if needed) the database at `path`; its directory must
  // exist. Jobs left queued or running by a daemon that died are marked
  // failed ("daemon stopped before the job finished"). kIOError if the file
  // cannot be opened, kCorruption if it is not a state database.
  static Result<std::unique_ptr<StateDb>> Open(const std::string& path, TimePoint now);
  ~StateDb();
  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;

  // kAlreadyExists if the id is taken.
  Status InsertJob(const JobRecord& job);
  // Overwrites the job with job.id; kNotFound if absent.
  Status UpdateJob(const JobRecord& job);
  // kNotFound "no job <id>".
  Result<JobRecord> GetJob(const std::string& id);
  // Newest first.
  Result<std::vector<JobRecord>> ListJobs(int limit, int offset);
  Result<int64_t> CountJobs();
  Result<JobStats> Stats(const std::string& database, const std::string& kind);

  // When the scheduler last started a run for `database` (nullopt: never).
  Result<std::optional<TimePoint>> LastRun(const std::string& database);
  Status SetLastRun(const std::string& database, TimePoint t);

 private:
  explicit StateDb(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  sqlite3* db_;
  std::mutex mu_;
};

}  // namespace dbbackup::daemon
