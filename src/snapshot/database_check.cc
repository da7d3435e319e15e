#include "snapshot/database_check.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "snapshot/sqlite_util.h"

namespace dbbackup::snapshot {
namespace {

using internal::DbHandle;

constexpr char kSqliteHeader[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                    'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
// integrity_check reports up to 100 problems; a few tell the story.
constexpr int kMaxIntegrityMessages = 5;

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

Status IntegrityCheck(const std::string& db_path, int busy_timeout_ms) {
  Status check = CheckDatabaseFile(db_path);
  if (check.code() == StatusCode::kInvalidArgument) {
    return Status::Corruption("not a SQLite database: " + db_path);
  }
  DBB_RETURN_IF_ERROR(check);
  DBB_ASSIGN_OR_RETURN(DbHandle db,
                       internal::OpenDb(db_path, SQLITE_OPEN_READONLY, busy_timeout_ms));
  const std::string what = "integrity check of " + db_path;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db.get(), "PRAGMA integrity_check", -1, &stmt, nullptr);
  // A header that passes but a schema SQLite cannot parse maps to
  // kCorruption here too (SQLITE_CORRUPT / SQLITE_NOTADB).
  if (rc != SQLITE_OK) return internal::SqliteStatus(db.get(), rc, what);
  std::vector<std::string> messages;
  int rows = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    ++rows;
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (static_cast<int>(messages.size()) < kMaxIntegrityMessages) {
      messages.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return internal::SqliteStatus(db.get(), rc, what);
  if (rows == 1 && messages[0] == "ok") return Status::OK();
  std::string msg = what + " failed";
  for (size_t i = 0; i < messages.size(); ++i) msg += (i == 0 ? ": " : "; ") + messages[i];
  if (rows > kMaxIntegrityMessages) {
    msg += "; ... (" + std::to_string(rows - kMaxIntegrityMessages) + " more)";
  }
  return Status::Corruption(std::move(msg));
}

}  // namespace dbbackup::snapshot
