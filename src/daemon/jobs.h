// The job runner: runs backup, verify, prune and restore-drill jobs for the
// configured databases on one worker thread, and a scheduler thread that
// submits each database's scheduled backups (and one catch-up at start-up
// for a run missed while the daemon was down, see schedule.h MissedRun).
//
// Overlap rule: jobs run one at a time, so two runs for the same database
// never overlap. Submitting a job while one of the same kind for the same
// database is queued or running joins it: the existing job is returned.
// Other submissions queue.
//
// Every job's log lines (from this runner and the engine on the worker
// thread) can carry its id: the log sink reads CurrentJobId().
//
// Thread-safety: Submit, NextRun and Shutdown may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/schedule.h"
#include "daemon/state_db.h"
#include "engine/backup.h"
#include "engine/engine.h"

namespace dbbackup::daemon {

// One database the daemon looks after.
struct DatabaseConfig {
  // The name jobs and metrics use (the file's base name). REQUIRES: unique.
  std::string name;
  // db_path, temp_dir, compression, level and retention of its backups.
  engine::BackupOptions backup;
  Schedule schedule;
  // Where this database's backups go; null = the runner's context's store.
  // Must outlive the runner. Databases sharing a store need distinct
  // prefixes (retention applies to a whole prefix).
  store::ObjectStore* store = nullptr;
  // Normalised key prefix; "" = the runner's context's prefix.
  std::string prefix;
};

// Job kinds (persisted: frozen).
inline constexpr char kKindBackup[] = "backup";
inline constexpr char kKindVerify[] = "verify";
inline constexpr char kKindPrune[] = "prune";
inline constexpr char kKindRestoreDrill[] = "restore-drill";

// The id of the job running on the calling thread, or "" outside jobs.
const std::string& CurrentJobId();

// A short random job id: 12 characters of [a-z0-9].
std::string NewJobId();

class JobRunner {
 public:
  // `ctx.store`, `ctx.clock` and `db` must outlive the runner. All
  // databases share ctx's store and prefix.
  JobRunner(engine::EngineContext ctx, StateDb* db, std::vector<DatabaseConfig> databases);
  // Shuts down (grace 0) if still running.
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Starts the worker and (if `schedule`) the scheduler. Submits the
  // catch-up run, if any, before returning.
  Status Start(bool schedule = true);

  // Queues a job, or returns the queued/running job it joins. `database`
  // "" means the only configured database. kInvalidArgument for an unknown
  // kind, kNotFound for an unknown database, kUnavailable once shutting
  // down, the state db's error otherwise.
  Result<JobRecord> Submit(const std::string& kind, const std::string& database,
                           const std::string& trigger);

  // Stops accepting jobs and scheduling; queued jobs are marked failed; waits
  // up to `grace` for the running job. Returns true if nothing is left
  // running (the threads are joined); false if the job outlived the grace
  // period: it is then marked failed, and the caller must end the process
  // (std::_Exit) without destroying the runner. Nothing partial is visible
  // in the store either way (the commit point is the store's atomic Put).
  bool Shutdown(std::chrono::milliseconds grace);

  // The next scheduled run of `database` (nullopt when not scheduling).
  std::optional<TimePoint> NextRun(const std::string& database);

  const std::vector<DatabaseConfig>& databases() const { return databases_; }

  // The engine context of `database`'s jobs: the runner's, with the
  // database's store and prefix when it has its own.
  engine::EngineContext ContextFor(const DatabaseConfig& database) const;

  // `database`'s newest backup key among the backups of its prefix (keys
  // end in its file name); kNotFound if it has none.
  Result<std::string> LatestKeyOf(const DatabaseConfig& database) const;

 private:
  void WorkerLoop();
  void SchedulerLoop();
  void Execute(JobRecord job);
  // The job's result JSON, or an error.
  Result<std::string> RunJob(const JobRecord& job, const DatabaseConfig& database);
  const DatabaseConfig* FindDatabase(const std::string& name) const;

  engine::EngineContext ctx_;
  StateDb* db_;
  std::vector<DatabaseConfig> databases_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // queue_ changed or stopping_
  std::condition_variable sched_cv_;  // stopping_
  std::condition_variable done_cv_;   // running_ cleared
  std::deque<JobRecord> queue_;
  std::optional<JobRecord> running_;
  std::map<std::string, TimePoint> next_runs_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread worker_;
  std::thread scheduler_;
};

}  // namespace dbbackup::daemon
