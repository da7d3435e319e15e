#include "catalog/keys.h"

#include <cstdio>
#include <ctime>
#include <vector>

namespace dbbackup::catalog {
namespace {

std::tm ToUtcTm(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::optional<TimePoint> FromFields(int year, int mon, int day, int hour, int min, int sec) {
  if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
      sec > 60) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(mon),
                                  std::chrono::day(day)};
  if (!ymd.ok()) return std::nullopt;
  auto days = std::chrono::sys_days(ymd);
  return TimePoint(days) + std::chrono::hours(hour) + std::chrono::minutes(min) +
         std::chrono::seconds(sec);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace

std::string FormatKeyTimestamp(TimePoint t) {
  std::tm tm = ToUtcTm(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d_%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<TimePoint> ParseKeyTimestamp(std::string_view s) {
  if (s.size() != 15 || s[8] != '_') return std::nullopt;
  if (!AllDigits(s.substr(0, 8)) || !AllDigits(s.substr(9))) return std::nullopt;
  return FromFields(ToInt(s.substr(0, 4)), ToInt(s.substr(4, 2)), ToInt(s.substr(6, 2)),
                    ToInt(s.substr(9, 2)), ToInt(s.substr(11, 2)), ToInt(s.substr(13, 2)));
}

std::string FormatIsoTimestamp(TimePoint t) {
  std::tm tm = ToUtcTm(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<TimePoint> ParseIsoTimestamp(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS, optionally followed by fractional seconds and Z/+00:00.
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  for (size_t i : {0, 5, 8, 11, 14, 17}) {
    size_t len = i == 0 ? 4 : 2;
    if (!AllDigits(s.substr(i, len))) return std::nullopt;
  }
  return FromFields(ToInt(s.substr(0, 4)), ToInt(s.substr(5, 2)), ToInt(s.substr(8, 2)),
                    ToInt(s.substr(11, 2)), ToInt(s.substr(14, 2)), ToInt(s.substr(17, 2)));
}

Result<std::string> NormalizePrefix(std::string_view prefix) {
  while (!prefix.empty() && prefix.front() == '/') prefix.remove_prefix(1);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty()) return Status::InvalidArgument("BACKUP_PREFIX must not be empty");
  for (std::string_view seg : Split(prefix, '/')) {
    if (seg.empty() || seg == "." || seg == "..") {
      return Status::InvalidArgument("invalid BACKUP_PREFIX '" + std::string(prefix) + "'");
    }
  }
  return std::string(prefix);
}

std::string FullBackupsPrefix(std::string_view prefix) { return std::string(prefix) + "/full/"; }

std::string FullBackupKey(std::string_view prefix, TimePoint t, std::string_view db_file_name,
                          std::string_view extension) {
  return FullBackupsPrefix(prefix) + FormatKeyTimestamp(t) + "/" + std::string(db_file_name) +
         std::string(extension);
}

std::optional<ParsedBackupKey> ParseFullBackupKey(std::string_view prefix, std::string_view key) {
  std::string base = FullBackupsPrefix(prefix);
  if (key.substr(0, base.size()) != base) return std::nullopt;
  std::string_view rest = key.substr(base.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view file = rest.substr(slash + 1);
  if (file.empty() || file.find('/') != std::string_view::npos || file == "." || file == "..") {
    return std::nullopt;
  }
  auto ts = ParseKeyTimestamp(rest.substr(0, slash));
  if (!ts) return std::nullopt;
  return ParsedBackupKey{std::string(key), *ts, std::string(file)};
}

Status ValidateUserKey(std::string_view prefix, std::string_view key) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid backup key '" + std::string(key) +
                                   "': " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.front() == '/') return bad("must not start with '/'");
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20) return bad("contains a control character");
  }
  for (std::string_view seg : Split(key, '/')) {
    if (seg == "..") return bad("'..' escapes the backup prefix");
    if (seg.empty() || seg == ".") return bad("empty or '.' path segment");
  }
  if (!ParseFullBackupKey(prefix, key)) {
    return bad("not a backup under " + FullBackupsPrefix(prefix) + " (expected " +
               FullBackupsPrefix(prefix) + "YYYYMMDD_HHMMSS/<file>)");
  }
  return Status::OK();
}

}  // namespace dbbackup::catalog
