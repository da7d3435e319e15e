// Object key naming for backups. Every key and file name the engine uses
// comes from here; the layout is frozen (docs/format.md) because the Python
// system it replaces, its users' scripts and their IAM policies depend on it:
//
//   <prefix>/full/YYYYMMDD_HHMMSS/<database file name><extension>
//   e.g. backups/full/20240113_120000/database.db.gz
//
// Timestamps are UTC with one-second resolution.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dbbackup::catalog {

using TimePoint = std::chrono::system_clock::time_point;

// "20240113_120000" (UTC), the directory name of a full backup.
std::string FormatKeyTimestamp(TimePoint t);
// Inverse of FormatKeyTimestamp; nullopt unless exactly that shape and a valid date.
std::optional<TimePoint> ParseKeyTimestamp(std::string_view s);
// "2024-01-13T12:00:00Z", the timestamp stored in metadata and printed.
std::string FormatIsoTimestamp(TimePoint t);
std::optional<TimePoint> ParseIsoTimestamp(std::string_view s);

// Normalises a user-supplied prefix: strips surrounding '/', refuses "..".
Result<std::string> NormalizePrefix(std::string_view prefix);

// "<prefix>/full/" — where full backups live.
std::string FullBackupsPrefix(std::string_view prefix);

// "<prefix>/full/<YYYYMMDD_HHMMSS>/<db_file_name><extension>".
std::string FullBackupKey(std::string_view prefix, TimePoint t, std::string_view db_file_name,
                          std::string_view extension);

struct ParsedBackupKey {
  std::string key;
  TimePoint timestamp;
  std::string file_name;  // e.g. "database.db.gz"
};

// Parses a key of the full-backup layout under `prefix`; nullopt for any
// other object (those are never touched by list, restore or prune).
std::optional<ParsedBackupKey> ParseFullBackupKey(std::string_view prefix, std::string_view key);

// Checks a key given by a user (restore/verify KEY): it must be a full-backup
// key under `prefix`, with no "..", "." or empty segments and no leading '/'.
// Returns kInvalidArgument with a message naming the key otherwise.
Status ValidateUserKey(std::string_view prefix, std::string_view key);

}  // namespace dbbackup::catalog
