#include "daemon/jobs.h"

#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "catalog/catalog.h"
#include "common/log.h"
#include "engine/prune.h"
#include "engine/restore.h"
#include "engine/verify.h"

namespace dbbackup::daemon {
namespace {

// A line about `job`, from any thread, with the job's fields (log.h).
void Log(log::Level level, const JobRecord& job, const std::string& message) {
  log::ScopedJob scope({job.id, job.database});
  log::Log(level, "job " + job.id + " (" + job.kind + " " + job.database + "): " + message);
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string TempDirOf(const engine::BackupOptions& b) {
  if (!b.temp_dir.empty()) return b.temp_dir;
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

}  // namespace

std::string NewJobId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  std::string id(12, ' ');
  for (char& c : id) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

JobRunner::JobRunner(engine::EngineContext ctx, StateDb* db, std::vector<DatabaseConfig> databases)
    : ctx_(std::move(ctx)), db_(db), databases_(std::move(databases)) {
  ctx_.progress = nullptr;
  ctx_.cancel = &cancel_;
}

JobRunner::~JobRunner() {
  if (started_) Shutdown(std::chrono::milliseconds(0));
}

const DatabaseConfig* JobRunner::FindDatabaseLocked(const std::string& name) const {
  if (name.empty() && databases_.size() == 1) return &databases_[0];
  for (const auto& d : databases_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Status JobRunner::Start(bool schedule) {
  const TimePoint now = ctx_.clock->Now();
  if (schedule) {
    for (const auto& d : databases_) {
      DBB_ASSIGN_OR_RETURN(std::optional<TimePoint> last, db_->LastRun(d.name));
      if (!last.has_value()) {
        // First start: remember it, so a run missed from now on is caught up.
        DBB_RETURN_IF_ERROR(db_->SetLastRun(d.name, now));
        continue;
      }
      if (auto missed = MissedRun(d.schedule, last, now)) {
        log::Info("database " + d.name + ": the run scheduled for " + FormatTime(*missed) +
                  " was missed (last run " + FormatTime(*last) + "); catching up now");
        DBB_RETURN_IF_ERROR(db_->SetLastRun(d.name, now));
        auto job = Submit(kKindBackup, d.name, "catch-up");
        if (!job.ok()) return job.status();
      }
    }
  }
  started_ = true;
  worker_ = std::thread([this] { WorkerLoop(); });
  if (schedule) {
    scheduler_ = std::thread([this] { SchedulerLoop(); });
    // NextRun answers from the moment Start returns.
    std::unique_lock lock(mu_);
    sched_cv_.wait(lock, [this] { return planned_; });
  }
  return Status::OK();
}

Result<JobRecord> JobRunner::Submit(const std::string& kind, const std::string& database,
                                    const std::string& trigger) {
  if (kind != kKindBackup && kind != kKindVerify && kind != kKindPrune &&
      kind != kKindRestoreDrill) {
    return Status::InvalidArgument("unknown job kind '" + kind +
                                   "' (want backup, verify, prune or restore-drill)");
  }
  std::lock_guard lock(mu_);
  const DatabaseConfig* d = FindDatabaseLocked(database);
  if (d == nullptr) return Status::NotFound("no database '" + database + "' is configured");
  if (stopping_) return Status::Unavailable("the daemon is shutting down");
  if (running_ && running_->kind == kind && running_->database == d->name) return *running_;
  for (const auto& q : queue_) {
    if (q.kind == kind && q.database == d->name) return q;
  }
  JobRecord job;
  job.id = NewJobId();
  job.kind = kind;
  job.database = d->name;
  job.state = kJobQueued;
  job.trigger = trigger;
  job.created_ms = ToMillis(ctx_.clock->Now());
  DBB_RETURN_IF_ERROR(db_->InsertJob(job));
  Log(log::Level::kInfo, job, "queued (" + trigger + ")");
  queue_.push_back(job);
  work_cv_.notify_all();
  return job;
}

std::vector<DatabaseConfig> JobRunner::databases() const {
  std::lock_guard lock(mu_);
  return databases_;
}

void JobRunner::Reload(std::vector<DatabaseConfig> databases) {
  std::unique_lock lock(mu_);
  databases_ = std::move(databases);
  // A database that is gone has no next run from now on (the scheduler
  // replans the others).
  std::erase_if(next_runs_,
                [this](const auto& entry) { return FindDatabaseLocked(entry.first) == nullptr; });
  replan_ = true;
  planned_ = false;
  sched_cv_.notify_all();
  // NextRun answers for the new databases once Reload returns.
  if (scheduler_.joinable()) {
    sched_cv_.wait(lock, [this] { return planned_ || stopping_; });
  }
}

std::optional<TimePoint> JobRunner::NextRun(const std::string& database) {
  std::lock_guard lock(mu_);
  auto it = next_runs_.find(database);
  if (it == next_runs_.end()) return std::nullopt;
  return it->second;
}

void JobRunner::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    JobRecord job = queue_.front();
    queue_.pop_front();
    running_ = job;
    lock.unlock();
    Execute(std::move(job));
    lock.lock();
    running_.reset();
    done_cv_.notify_all();
  }
}

void JobRunner::Execute(JobRecord job) {
  log::ScopedJob scope({job.id, job.database});
  // The job runs with the configuration of the moment it starts.
  std::optional<DatabaseConfig> d;
  job.state = kJobRunning;
  job.started_ms = ToMillis(ctx_.clock->Now());
  db_->UpdateJob(job).IgnoreError();
  {
    std::lock_guard lock(mu_);
    running_ = job;
    if (const DatabaseConfig* found = FindDatabaseLocked(job.database)) d = *found;
  }
  Log(log::Level::kInfo, job, "started");
  Result<std::string> result = d ? RunJob(job, *d)
                                 : Result<std::string>(Status::NotFound(
                                       "database " + job.database + " is no longer configured"));
  job.finished_ms = ToMillis(ctx_.clock->Now());
  if (result.ok()) {
    job.state = kJobSucceeded;
    job.result = *result;
    Log(log::Level::kInfo, job, "succeeded");
  } else {
    job.state = kJobFailed;
    job.error = result.status().message();
    job.result = nlohmann::json{{"error", job.error},
                                {"code", std::string(StatusCodeName(result.status().code()))}}
                     .dump();
    Log(log::Level::kError, job, "failed: " + job.error);
  }
  Status s = db_->UpdateJob(job);
  if (!s.ok()) Log(log::Level::kError, job, "cannot record the result: " + s.message());
  if (listener_ && d) listener_(job, *d);
}

engine::EngineContext JobRunner::ContextFor(const DatabaseConfig& d) const {
  engine::EngineContext ctx = ctx_;
  if (d.store != nullptr) ctx.store = d.store;
  if (!d.prefix.empty()) ctx.prefix = d.prefix;
  return ctx;
}

Result<std::string> JobRunner::LatestKeyOf(const DatabaseConfig& d) const {
  engine::EngineContext ctx = ContextFor(d);
  DBB_ASSIGN_OR_RETURN(std::vector<catalog::BackupEntry> all,
                       catalog::ListBackups(*ctx.store, ctx.prefix));
  const std::string file = "/" + std::filesystem::path(d.backup.db_path).filename().string();
  for (const auto& e : all) {  // newest first
    const size_t slash = e.key.rfind('/');
    if (slash != std::string::npos && e.key.compare(slash, file.size(), file) == 0) return e.key;
  }
  return Status::NotFound("no backups of " + d.name + " in " + ctx.store->Describe() + "/" +
                          ctx.prefix + "/full/");
}

Result<std::string> JobRunner::RunJob(const JobRecord& job, const DatabaseConfig& d) {
  const engine::EngineContext ctx = ContextFor(d);
  const auto start = ctx.clock->Monotonic();
  nlohmann::json out;
  if (job.kind == kKindBackup) {
    DBB_ASSIGN_OR_RETURN(engine::BackupReport r, engine::RunBackup(ctx, d.backup));
    out = {{"key", r.key},
           {"timestamp", r.timestamp},
           {"store", r.store},
           {"original_size", r.original_size},
           {"compressed_size", r.compressed_size},
           {"compression", r.compression},
           {"sha256", r.sha256},
           {"tables", r.tables},
           {"records", r.records},
           {"duration_s", r.duration_s},
           {"verified", r.verified},
           {"pruned", r.pruned}};
    if (!r.prune_error.empty()) out["prune_error"] = r.prune_error;
    Log(log::Level::kInfo, job, "backed up " + r.key);
  } else if (job.kind == kKindVerify) {
    engine::VerifyOptions opts;
    opts.deep = true;
    opts.temp_dir = d.backup.temp_dir;
    DBB_ASSIGN_OR_RETURN(opts.key, LatestKeyOf(d));
    DBB_ASSIGN_OR_RETURN(engine::VerifyReport r, engine::RunVerify(ctx, opts));
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : r.checks) {
      checks.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    }
    if (!r.ok)
      return Status::Corruption("backup " + r.key + " failed verification: " + r.FirstFailure());
    out = {{"key", r.key},
           {"ok", r.ok},
           {"deep", r.deep},
           {"checks", checks},
           {"duration_s", r.duration_s}};
  } else if (job.kind == kKindPrune) {
    engine::PruneOptions opts;
    opts.policy = d.backup.retention;
    DBB_ASSIGN_OR_RETURN(engine::PruneReport r, engine::RunPrune(ctx, opts));
    out = {{"deleted", r.deleted}, {"kept", r.kept.size()}};
  } else if (job.kind == kKindRestoreDrill) {
    // Restore the newest backup into a scratch directory, never the live
    // database; the restore checks the sha256 and PRAGMA integrity_check.
    std::string tmpl = TempDirOf(d.backup) + "/dbbackup-drill-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return Status::IOError("cannot create a scratch directory in " + TempDirOf(d.backup));
    }
    engine::RestoreOptions opts;
    opts.target_path = tmpl + "/" + d.name;
    opts.safety_copy = false;
    auto key = LatestKeyOf(d);
    if (key.ok()) opts.key = *key;
    auto r = key.ok() ? engine::RunRestore(ctx, opts) : Result<engine::RestoreReport>(key.status());
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    if (!r.ok()) return r.status().Annotate("restore drill");
    out = {{"key", r->key},
           {"original_size", r->original_size},
           {"compressed_size", r->compressed_size},
           {"checksum_verified", r->checksum_verified},
           {"tables", r->tables},
           {"records", r->records},
           {"restore_duration_s", r->duration_s}};
    Log(log::Level::kInfo, job, "restored " + r->key + " and checked it");
  }
  out["duration_s"] = Seconds(ctx.clock->Monotonic() - start);
  return out.dump();
}

void JobRunner::SchedulerLoop() {
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_lock lock(mu_);
  // Each database's next slot (before jitter) and when to fire it.
  std::map<std::string, std::pair<TimePoint, TimePoint>> plan;
  auto schedule_next = [&](const DatabaseConfig& d, TimePoint after) {
    TimePoint slot = daemon::NextRun(d.schedule, after);
    TimePoint fire = slot;
    if (d.schedule.jitter.count() > 0) {
      fire += std::chrono::milliseconds(rng() % (d.schedule.jitter.count() * 1000));
    }
    plan[d.name] = {slot, fire};
    next_runs_[d.name] = fire;
  };
  // The databases being scheduled (a copy, so Reload can replace
  // databases_ while the loop submits with the lock released).
  std::vector<DatabaseConfig> scheduled;
  auto replan = [&] {
    scheduled = databases_;
    plan.clear();
    next_runs_.clear();
    for (const auto& d : scheduled) schedule_next(d, ctx_.clock->Now());
    replan_ = false;
    planned_ = true;
    sched_cv_.notify_all();
  };
  replan();
  while (!stopping_) {
    if (replan_) replan();
    TimePoint earliest = TimePoint::max();
    for (const auto& [name, p] : plan) earliest = std::min(earliest, p.second);
    const TimePoint now = ctx_.clock->Now();
    if (earliest > now) {
      // Wake at least once a second, so a clock that jumps is noticed.
      auto wait =
          std::min<std::chrono::system_clock::duration>(earliest - now, std::chrono::seconds(1));
      sched_cv_.wait_for(lock, wait, [this] { return stopping_ || replan_; });
      continue;
    }
    for (const auto& d : scheduled) {
      auto& [slot, fire] = plan[d.name];
      if (fire > now) continue;
      lock.unlock();
      db_->SetLastRun(d.name, now).IgnoreError();
      auto job = Submit(kKindBackup, d.name, "schedule");
      if (!job.ok()) {
        log::Warning("database " + d.name +
                     ": cannot submit the scheduled backup: " + job.status().message());
      }
      lock.lock();
      schedule_next(d, std::max(slot, now));
    }
  }
}

bool JobRunner::Shutdown(std::chrono::milliseconds grace, std::chrono::milliseconds cancel_wait) {
  std::unique_lock lock(mu_);
  if (!started_) return true;
  stopping_ = true;
  work_cv_.notify_all();
  sched_cv_.notify_all();
  std::deque<JobRecord> dropped;
  dropped.swap(queue_);
  next_runs_.clear();
  lock.unlock();
  for (JobRecord& job : dropped) {
    job.state = kJobFailed;
    job.finished_ms = ToMillis(ctx_.clock->Now());
    job.error = "cancelled: the daemon shut down before the job started";
    db_->UpdateJob(job).IgnoreError();
  }
  if (scheduler_.joinable()) scheduler_.join();
  lock.lock();
  if (running_) {
    log::Info("waiting up to " + std::to_string(grace.count() / 1000) + " s for job " +
              running_->id + " to finish");
  }
  bool finished = done_cv_.wait_for(lock, grace, [this] { return !running_.has_value(); });
  if (!finished) {
    Log(log::Level::kWarning, *running_,
        "the grace period is over: cancelling it (an upload in progress is aborted)");
    cancel_ = true;
    finished = done_cv_.wait_for(lock, cancel_wait, [this] { return !running_.has_value(); });
  }
  if (!finished) {
    JobRecord job = *running_;
    lock.unlock();
    job.state = kJobFailed;
    job.finished_ms = ToMillis(ctx_.clock->Now());
    job.error = "aborted: the daemon shut down and the job did not end when cancelled";
    db_->UpdateJob(job).IgnoreError();
    Log(log::Level::kError, job, job.error);
    worker_.detach();
    started_ = false;
    return false;
  }
  lock.unlock();
  if (worker_.joinable()) worker_.join();
  started_ = false;
  return true;
}

}  // namespace dbbackup::daemon
