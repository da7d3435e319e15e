#include "snapshot/database_check.h"

#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "snapshot/growing_file.h"
#include "snapshot/sqlite_util.h"

namespace dbbackup::snapshot {
namespace {

using internal::DbHandle;

constexpr char kSqliteHeader[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                    'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
// integrity_check reports up to 100 problems; a few tell the story.
constexpr int kMaxIntegrityMessages = 5;
// More connections than this gain little: one large table bounds the split.
constexpr int kMaxCheckThreads = 4;

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = what + ": " + path + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM) return Status::PermissionDenied(std::move(msg));
  return Status::IOError(std::move(msg));
}

// Opens read-only after CheckDatabaseFile, so SQLite never sees a path that
// does not already hold a database.
Result<DbHandle> OpenReadOnly(const std::string& path, int busy_timeout_ms) {
  DBB_RETURN_IF_ERROR(CheckDatabaseFile(path));
  return internal::OpenDb(path, SQLITE_OPEN_READONLY, busy_timeout_ms);
}

// The CPUs this process may run on (taskset, cpusets), not the machine's.
int UsableCpus() {
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
    return CPU_COUNT(&set);
  }
#endif
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// What one check pragma said: `ok` if it answered the single row "ok",
// otherwise every row it returned; `status` if it could not run to the end.
struct PragmaOutcome {
  Status status;
  bool ok = false;
  std::vector<std::string> problems;
};

PragmaOutcome RunCheckPragma(sqlite3* db, const std::string& sql, const std::string& what) {
  PragmaOutcome out;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  // A header that passes but a schema SQLite cannot parse maps to
  // kCorruption here too (SQLITE_CORRUPT / SQLITE_NOTADB).
  if (rc != SQLITE_OK) {
    out.status = internal::SqliteStatus(db, rc, what);
    return out;
  }
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    out.problems.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
  }
  if (rc != SQLITE_DONE) out.status = internal::SqliteStatus(db, rc, what);
  sqlite3_finalize(stmt);
  if (out.status.ok() && out.problems.size() == 1 && out.problems[0] == "ok") {
    out.ok = true;
    out.problems.clear();
  }
  return out;
}

// "integrity check of PATH failed: MSG; MSG; ... (N more)".
Status CorruptionReport(const std::string& what, const std::vector<std::string>& problems) {
  std::string msg = what + " failed";
  const size_t shown = std::min(problems.size(), static_cast<size_t>(kMaxIntegrityMessages));
  for (size_t i = 0; i < shown; ++i) msg += (i == 0 ? ": " : "; ") + problems[i];
  if (problems.size() > shown) {
    msg += "; ... (" + std::to_string(problems.size() - shown) + " more)";
  }
  return Status::Corruption(std::move(msg));
}

}  // namespace

Status CheckDatabaseFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("database not found: " + path);
    return ErrnoStatus("cannot read database", path, errno);
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("not a regular file: " + path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("database not found: " + path);
    return ErrnoStatus("cannot read database", path, errno);
  }
  char header[sizeof(kSqliteHeader)];
  size_t got = 0;
  int err = 0;
  while (got < sizeof(header)) {
    ssize_t k = ::read(fd, header + got, sizeof(header) - got);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) err = errno;
    if (k <= 0) break;
    got += static_cast<size_t>(k);
  }
  ::close(fd);
  if (err != 0) return ErrnoStatus("cannot read database", path, err);
  if (got < sizeof(header) || std::memcmp(header, kSqliteHeader, sizeof(header)) != 0) {
    return Status::InvalidArgument("not a SQLite database: " + path);
  }
  return Status::OK();
}

Result<DbStats> CountTablesAndRecords(const std::string& db_path, int busy_timeout_ms) {
  DBB_ASSIGN_OR_RETURN(DbHandle db, OpenReadOnly(db_path, busy_timeout_ms));
  const std::string what = "cannot count records of " + db_path;
  // One read transaction: the table list and every count see the same state.
  DBB_RETURN_IF_ERROR(internal::Exec(db.get(), "BEGIN", what));
  std::vector<std::string> tables;
  {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db.get(),
                                "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                                -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return internal::SqliteStatus(db.get(), rc, what);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const unsigned char* name = sqlite3_column_text(stmt, 0);
      tables.emplace_back(name ? reinterpret_cast<const char*>(name) : "");
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return internal::SqliteStatus(db.get(), rc, what);
  }
  DbStats stats;
  stats.tables = tables.size();
  for (const std::string& table : tables) {
    DBB_ASSIGN_OR_RETURN(
        std::string count,
        internal::QueryText(db.get(), "SELECT count(*) FROM " + internal::QuoteIdentifier(table),
                            what + ": table " + table));
    stats.records += std::stoull(count.empty() ? "0" : count);
  }
  DBB_RETURN_IF_ERROR(internal::Exec(db.get(), "COMMIT", what));
  return stats;
}

namespace internal {

Result<std::vector<IntegrityCheckPart>> PlanIntegrityCheck(const std::string& db_path,
                                                           int busy_timeout_ms, bool estimate,
                                                           const char* vfs) {
  DBB_ASSIGN_OR_RETURN(DbHandle db,
                       internal::OpenDb(db_path, SQLITE_OPEN_READONLY, busy_timeout_ms, vfs));
  const std::string what = "integrity check of " + db_path;
  // One read transaction: the table list and the estimates agree.
  DBB_RETURN_IF_ERROR(Exec(db.get(), "BEGIN", what));
  // Tables with a b-tree of their own. rootpage 0 marks a virtual table
  // (see IntegrityCheck); its shadow tables, if any, are ordinary tables.
  struct Table {
    std::string name;
    uint64_t indexes = 0;
  };
  std::vector<Table> tables;
  {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db.get(),
                                "SELECT t.name, (SELECT count(*) FROM sqlite_schema AS i "
                                "WHERE i.type = 'index' AND i.tbl_name = t.name) "
                                "FROM sqlite_schema AS t WHERE t.type = 'table' AND t.rootpage > 0",
                                -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(db.get(), rc, what);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const unsigned char* name = sqlite3_column_text(stmt, 0);
      tables.push_back({name ? reinterpret_cast<const char*>(name) : "",
                        static_cast<uint64_t>(sqlite3_column_int64(stmt, 1))});
    }
    Status st = rc == SQLITE_DONE ? Status::OK() : SqliteStatus(db.get(), rc, what);
    sqlite3_finalize(stmt);
    DBB_RETURN_IF_ERROR(st);
  }
  std::vector<IntegrityCheckPart> parts;
  parts.push_back({"PRAGMA quick_check", 0});
  uint64_t total = 0;
  for (const Table& table : tables) {
    const std::string quoted = QuoteIdentifier(table.name);
    if (!estimate) {
      parts.push_back({"PRAGMA integrity_check(" + quoted + ")", 1});
      continue;
    }
    // Rows, for the cost estimate: max(rowid) is one b-tree descent. A
    // WITHOUT ROWID table has no rowid; count(*) walks its b-tree reading
    // only page headers (no cells), a small fraction of checking it. An
    // estimate that fails counts as one row: the check itself will say why.
    auto rows = QueryText(db.get(), "SELECT max(rowid) FROM " + quoted, what);
    if (!rows.ok()) rows = QueryText(db.get(), "SELECT count(*) FROM " + quoted, what);
    uint64_t n = 1;
    if (rows.ok() && !rows->empty() && std::isdigit(static_cast<unsigned char>((*rows)[0]))) {
      n = std::max<uint64_t>(1, std::strtoull(rows->c_str(), nullptr, 10));
    }
    // Checking a table walks its b-tree and looks every row up in each index.
    const uint64_t cost = n * (1 + table.indexes);
    parts.push_back({"PRAGMA integrity_check(" + quoted + ")", cost});
    total += cost;
  }
  // quick_check walks every b-tree once without the index look-ups: on the
  // 100 MB bench database 0.22 s against 0.65 s for the full check.
  parts[0].cost = estimate ? std::max<uint64_t>(1, total / 3) : 1;
  DBB_RETURN_IF_ERROR(Exec(db.get(), "COMMIT", what));
  return parts;
}

}  // namespace internal

Status IntegrityCheck(const std::string& db_path, const IntegrityCheckOptions& opts) {
  // The header must be there before CheckDatabaseFile looks at it.
  if (opts.growing != nullptr && !opts.growing->WaitFor(100)) {
    return Status::IOError("integrity check of " + db_path + ": the file ended early");
  }
  const char* vfs = opts.growing != nullptr ? opts.growing->Vfs() : nullptr;
  Status check = CheckDatabaseFile(db_path);
  if (check.code() == StatusCode::kInvalidArgument) {
    return Status::Corruption("not a SQLite database: " + db_path);
  }
  DBB_RETURN_IF_ERROR(check);
  const std::string what = "integrity check of " + db_path;
  const int threads = opts.threads > 0 ? opts.threads : std::min(UsableCpus(), kMaxCheckThreads);
  std::vector<internal::IntegrityCheckPart> parts;
  if (threads > 1) {
    // A schema SQLite cannot parse fails here as it would in the pragma.
    DBB_ASSIGN_OR_RETURN(parts, internal::PlanIntegrityCheck(db_path, opts.busy_timeout_ms,
                                                             opts.growing == nullptr, vfs));
  }
  // quick_check plus one table is no split at all.
  if (parts.size() <= 2) parts = {{"PRAGMA integrity_check", 1}};

  // Why the split is the same check (https://sqlite.org/pragma.html
  // #pragma_integrity_check, and pragma.c): the full check is (1) a b-tree
  // check of every table and index that also accounts for every page
  // (freelist, pages used twice or never), then, per table, (2) NOT NULL
  // and CHECK constraints and (3) record headers, each row found in every
  // index, UNIQUE indexes, index entry counts. PRAGMA quick_check runs (1)
  // and (2) for the whole file and skips (3). integrity_check(T) runs (2)
  // and (3) for T and its indexes, with (1) restricted to their b-trees: a
  // partial check, which is why quick_check must run beside it. Virtual
  // tables have no b-tree and are left out of the plan: SQLite >= 3.44 hands
  // them to their module's xIntegrity in quick_check too (FTS5 ignores the
  // quick flag); older versions check them in neither pragma.
  const size_t workers = std::min(parts.size(), static_cast<size_t>(std::max(1, threads)));
  std::vector<DbHandle> connections;
  for (size_t i = 0; i < workers; ++i) {
    DBB_ASSIGN_OR_RETURN(
        DbHandle db, internal::OpenDb(db_path, SQLITE_OPEN_READONLY, opts.busy_timeout_ms, vfs));
    connections.push_back(std::move(db));
  }
  // Longest first, each worker taking the next part when it is free (LPT).
  std::vector<size_t> order(parts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return parts[a].cost > parts[b].cost; });
  std::vector<PragmaOutcome> outcomes(parts.size());
  std::atomic<size_t> next{0};
  auto work = [&](sqlite3* db) {
    for (size_t i; (i = next.fetch_add(1)) < order.size();) {
      outcomes[order[i]] = RunCheckPragma(db, parts[order[i]].pragma, what);
    }
  };
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < workers; ++i) {
    try {
      helpers.emplace_back(work, connections[i].get());
    } catch (const std::system_error&) {
      break;  // Fewer threads: the others take the parts.
    }
  }
  work(connections[0].get());
  for (std::thread& t : helpers) t.join();

  // Problems in plan order (quick_check first), each once: a damaged page
  // may be reported by quick_check and by its table's check.
  std::vector<std::string> problems;
  std::set<std::string> seen;
  bool failed = false;
  for (const PragmaOutcome& outcome : outcomes) {
    failed = failed || (outcome.status.ok() && !outcome.ok);
    for (const std::string& p : outcome.problems) {
      if (seen.insert(p).second) problems.push_back(p);
    }
  }
  if (failed || !problems.empty()) return CorruptionReport(what, problems);
  for (const PragmaOutcome& outcome : outcomes) {
    if (outcome.status.code() == StatusCode::kCorruption) return outcome.status;
  }
  for (const PragmaOutcome& outcome : outcomes) {
    if (!outcome.status.ok()) return outcome.status;
  }
  return Status::OK();
}

}  // namespace dbbackup::snapshot
