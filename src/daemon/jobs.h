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
// thread) can carry its id and database: jobs run inside a log::ScopedJob,
// and the log sink reads log::CurrentJob().
//
// Thread-safety: Submit, NextRun, databases, Reload and Shutdown may be
// called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/schedule.h"
#include "daemon/state_db.h"
#include "daemon/webhook.h"
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
  // Where alarms about its jobs go (webhook.h). Default: nowhere.
  WebhookTarget webhook;
};

// Told about every job the worker finished, after its result is recorded
// (on the worker thread: it must return quickly).
using JobListener = std::function<void(const JobRecord& job, const DatabaseConfig& database)>;

// Job kinds (persisted: frozen).
inline constexpr char kKindBackup[] = "backup";
inline constexpr char kKindVerify[] = "verify";
inline constexpr char kKindPrune[] = "prune";
inline constexpr char kKindRestoreDrill[] = "restore-drill";

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

  // REQUIRES: before Start().
  void SetJobListener(JobListener listener) { listener_ = std::move(listener); }

  // Starts the worker and (if `schedule`) the scheduler. Submits the
  // catch-up run, if any, and plans the next runs before returning.
  Status Start(bool schedule = true);

  // Queues a job, or returns the queued/running job it joins. `database`
  // "" means the only configured database. kInvalidArgument for an unknown
  // kind, kNotFound for an unknown database, kUnavailable once shutting
  // down, the state db's error otherwise.
  Result<JobRecord> Submit(const std::string& kind, const std::string& database,
                           const std::string& trigger);

  // Stops accepting jobs and scheduling; queued jobs are marked failed; waits
  // up to `grace` for the running job, then cancels it (engine/cancel.h: an
  // upload in progress is aborted) and waits up to `cancel_wait` more for it
  // to unwind; it then fails with kCancelled. Returns true if nothing is
  // left running (the threads are joined); false if the job did not even
  // end when cancelled: it is then marked failed, and the caller must end
  // the process (std::_Exit) without destroying the runner. Nothing partial
  // is visible in the store either way (the commit point is the store's
  // atomic Put).
  bool Shutdown(std::chrono::milliseconds grace,
                std::chrono::milliseconds cancel_wait = std::chrono::seconds(30));

  // The next scheduled run of `database` (nullopt when not scheduling).
  std::optional<TimePoint> NextRun(const std::string& database);

  // The configured databases (a copy: Reload may replace them).
  std::vector<DatabaseConfig> databases() const;

  // Replaces the databases (SIGHUP): new ones and new schedules take
  // effect at once (next runs are planned afresh from now, before Reload
  // returns); a running job
  // finishes with the configuration it started with, and queued jobs run
  // with the new one (failing if their database is gone). The stores the
  // old configuration used must stay alive.
  void Reload(std::vector<DatabaseConfig> databases);

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
  // REQUIRES: mu_ held (or the threads not started).
  const DatabaseConfig* FindDatabaseLocked(const std::string& name) const;

  engine::EngineContext ctx_;
  StateDb* db_;
  JobListener listener_;

  mutable std::mutex mu_;
  std::vector<DatabaseConfig> databases_;  // guarded by mu_ once started
  bool replan_ = false;                    // databases_ replaced: scheduler replans
  bool planned_ = false;                   // the scheduler made its first plan
  std::condition_variable work_cv_;        // queue_ changed or stopping_
  std::condition_variable sched_cv_;       // stopping_
  std::condition_variable done_cv_;        // running_ cleared
  std::deque<JobRecord> queue_;
  std::optional<JobRecord> running_;
  std::map<std::string, TimePoint> next_runs_;
  bool stopping_ = false;
  bool started_ = false;
  std::atomic<bool> cancel_{false};  // the engine's EngineContext::cancel
  std::thread worker_;
  std::thread scheduler_;
};

}  // namespace dbbackup::daemon
