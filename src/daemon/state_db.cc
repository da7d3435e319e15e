#include "daemon/state_db.h"

#include <sqlite3.h>

#include <utility>

namespace dbbackup::daemon {
namespace {

constexpr char kSchema[] = R"(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  database TEXT NOT NULL,
  state TEXT NOT NULL,
  trigger TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_ms);
CREATE TABLE IF NOT EXISTS schedule_state (
  database TEXT PRIMARY KEY,
  last_run_ms INTEGER NOT NULL
);
)";

constexpr char kJobColumns[] =
    "id, kind, database, state, trigger, created_ms, started_ms, finished_ms, result, error";

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Status Prepared() const {
    return rc_ == SQLITE_OK ? Status::OK()
                            : Status::IOError(std::string("state db: ") + sqlite3_errmsg(db_));
  }
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int Step() { return sqlite3_step(stmt_); }
  Status Done() {
    int rc = Step();
    if (rc == SQLITE_DONE) return Status::OK();
    if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("state db: duplicate job id");
    return Status::IOError(std::string("state db: ") + sqlite3_errmsg(db_));
  }
  std::string Text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  Status Error() const { return Status::IOError(std::string("state db: ") + sqlite3_errmsg(db_)); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

JobRecord ReadJob(Stmt& s) {
  JobRecord j;
  j.id = s.Text(0);
  j.kind = s.Text(1);
  j.database = s.Text(2);
  j.state = s.Text(3);
  j.trigger = s.Text(4);
  j.created_ms = s.Int(5);
  j.started_ms = s.Int(6);
  j.finished_ms = s.Int(7);
  j.result = s.Text(8);
  j.error = s.Text(9);
  return j;
}

void BindJob(Stmt& s, const JobRecord& j) {
  s.Bind(1, j.id);
  s.Bind(2, j.kind);
  s.Bind(3, j.database);
  s.Bind(4, j.state);
  s.Bind(5, j.trigger);
  s.Bind(6, j.created_ms);
  s.Bind(7, j.started_ms);
  s.Bind(8, j.finished_ms);
  s.Bind(9, j.result);
  s.Bind(10, j.error);
}

}  // namespace

int64_t ToMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint FromMillis(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::string& path, TimePoint now) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return Status::IOError("cannot open state database " + path + ": " + msg);
  }
  std::unique_ptr<StateDb> db(new StateDb(raw));
  sqlite3_busy_timeout(raw, 10000);
  Status s = db->Exec("PRAGMA journal_mode=WAL");
  if (s.ok()) s = db->Exec(kSchema);
  if (!s.ok()) {
    return Status::Corruption("state database " + path + " is unusable: " + s.message());
  }
  Stmt fix(raw,
           "UPDATE jobs SET state='failed', finished_ms=?1, "
           "error='daemon stopped before the job finished' WHERE state IN ('queued','running')");
  DBB_RETURN_IF_ERROR(fix.Prepared());
  fix.Bind(1, ToMillis(now));
  DBB_RETURN_IF_ERROR(fix.Done());
  return db;
}

StateDb::~StateDb() { sqlite3_close(db_); }

Status StateDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("state db: " + msg);
  }
  return Status::OK();
}

Status StateDb::InsertJob(const JobRecord& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("INSERT INTO jobs (") + kJobColumns +
               ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")
                  .c_str());
  DBB_RETURN_IF_ERROR(s.Prepared());
  BindJob(s, job);
  return s.Done();
}

Status StateDb::UpdateJob(const JobRecord& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "UPDATE jobs SET kind=?2, database=?3, state=?4, trigger=?5, created_ms=?6, "
         "started_ms=?7, finished_ms=?8, result=?9, error=?10 WHERE id=?1");
  DBB_RETURN_IF_ERROR(s.Prepared());
  BindJob(s, job);
  DBB_RETURN_IF_ERROR(s.Done());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("no job " + job.id);
  return Status::OK();
}

Result<JobRecord> StateDb::GetJob(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?1").c_str());
  DBB_RETURN_IF_ERROR(s.Prepared());
  s.Bind(1, id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return ReadJob(s);
  if (rc == SQLITE_DONE) return Status::NotFound("no job " + id);
  return s.Error();
}

Result<std::vector<JobRecord>> StateDb::ListJobs(int limit, int offset) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kJobColumns +
               " FROM jobs ORDER BY created_ms DESC, rowid DESC LIMIT ?1 OFFSET ?2")
                  .c_str());
  DBB_RETURN_IF_ERROR(s.Prepared());
  s.Bind(1, int64_t{limit});
  s.Bind(2, int64_t{offset});
  std::vector<JobRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadJob(s));
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Result<int64_t> StateDb::CountJobs() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT COUNT(*) FROM jobs");
  DBB_RETURN_IF_ERROR(s.Prepared());
  if (s.Step() != SQLITE_ROW) return s.Error();
  return s.Int(0);
}

Result<JobStats> StateDb::Stats(const std::string& database, const std::string& kind) {
  std::lock_guard lock(mu_);
  JobStats stats;
  {
    Stmt s(db_,
           "SELECT SUM(state='succeeded'), SUM(state='failed'), "
           "SUM(CASE WHEN state='succeeded' AND json_valid(result) "
           "THEN json_extract(result, '$.compressed_size') END) "
           "FROM jobs WHERE database=?1 AND kind=?2");
    DBB_RETURN_IF_ERROR(s.Prepared());
    s.Bind(1, database);
    s.Bind(2, kind);
    if (s.Step() != SQLITE_ROW) return s.Error();
    stats.succeeded = s.Int(0);
    stats.failed = s.Int(1);
    stats.compressed_bytes = s.Int(2);
  }
  Stmt s(db_, (std::string("SELECT ") + kJobColumns +
               " FROM jobs WHERE database=?1 AND kind=?2 AND state='succeeded' "
               "ORDER BY finished_ms DESC, rowid DESC LIMIT 1")
                  .c_str());
  DBB_RETURN_IF_ERROR(s.Prepared());
  s.Bind(1, database);
  s.Bind(2, kind);
  int rc = s.Step();
  if (rc == SQLITE_ROW) {
    stats.last_success = ReadJob(s);
  } else if (rc != SQLITE_DONE) {
    return s.Error();
  }
  return stats;
}

Result<std::optional<TimePoint>> StateDb::LastRun(const std::string& database) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT last_run_ms FROM schedule_state WHERE database=?1");
  DBB_RETURN_IF_ERROR(s.Prepared());
  s.Bind(1, database);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<TimePoint>(FromMillis(s.Int(0)));
  if (rc == SQLITE_DONE) return std::optional<TimePoint>();
  return s.Error();
}

Status StateDb::SetLastRun(const std::string& database, TimePoint t) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO schedule_state (database, last_run_ms) VALUES (?1, ?2) "
         "ON CONFLICT(database) DO UPDATE SET last_run_ms=excluded.last_run_ms");
  DBB_RETURN_IF_ERROR(s.Prepared());
  s.Bind(1, database);
  s.Bind(2, ToMillis(t));
  return s.Done();
}

}  // namespace dbbackup::daemon
