#include "daemon/schedule.h"

#include <date/tz.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <vector>

#include "common/strings.h"

namespace dbbackup::daemon {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

Status Bad(std::string_view what) {
  return Status::InvalidArgument("BACKUP_SCHEDULE: " + std::string(what));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // may be null
  int names_base;            // value of names[0]
  int names_count;
};

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Result<int> ParseValue(std::string_view s, const FieldSpec& spec, std::string_view field) {
  int v = 0;
  if (ParseInt(s, &v)) {
    if (v < spec.min || v > spec.max) {
      return Bad(std::string(spec.name) + " field '" + std::string(field) + "' out of range " +
                 std::to_string(spec.min) + "-" + std::to_string(spec.max));
    }
    return v;
  }
  if (spec.names != nullptr) {
    std::string l = AsciiLower(s);
    for (int i = 0; i < spec.names_count; ++i) {
      if (l == spec.names[i]) return spec.names_base + i;
    }
  }
  return Bad(std::string(spec.name) + " field '" + std::string(field) + "' is not a number" +
             (spec.names != nullptr ? " or name" : ""));
}

// Parses one field into `bits` (indexed by value).
template <size_t N>
Status ParseField(std::string_view field, const FieldSpec& spec, std::bitset<N>* bits) {
  for (std::string_view part : Split(field, ',')) {
    if (part.empty())
      return Bad(std::string(spec.name) + " field '" + std::string(field) +
                 "' has an empty list item");
    std::string_view range = part;
    int step = 1;
    size_t slash = part.find('/');
    if (slash != std::string_view::npos) {
      range = part.substr(0, slash);
      if (!ParseInt(part.substr(slash + 1), &step) || step <= 0) {
        return Bad(std::string(spec.name) + " field '" + std::string(field) +
                   "' has a bad step (want a positive number)");
      }
    }
    int lo = spec.min;
    int hi = spec.max;
    if (range == "*") {
      // all values
    } else {
      size_t dash = range.find('-');
      if (dash != std::string_view::npos && dash > 0) {
        DBB_ASSIGN_OR_RETURN(lo, ParseValue(range.substr(0, dash), spec, field));
        DBB_ASSIGN_OR_RETURN(hi, ParseValue(range.substr(dash + 1), spec, field));
        if (hi < lo) {
          return Bad(std::string(spec.name) + " field '" + std::string(field) +
                     "' has a range that runs backwards");
        }
      } else {
        DBB_ASSIGN_OR_RETURN(lo, ParseValue(range, spec, field));
        // "a/n" means a through the maximum in steps of n.
        hi = slash != std::string_view::npos ? spec.max : lo;
      }
    }
    for (int v = lo; v <= hi; v += step) bits->set(static_cast<size_t>(v));
  }
  return Status::OK();
}

int64_t Secs(TimePoint t) {
  return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The zone's wall time (seconds since the epoch of its local calendar) at `t`.
int64_t ToWall(const Schedule& s, int64_t t) {
  if (s.tz == nullptr) return t + s.utc_offset.count();
  return t + s.tz->get_info(date::sys_seconds(seconds(t))).offset.count();
}

// The instant of wall time `wall` in the zone. A time the clocks skip
// (spring forward) maps to the moment they jump; a time they pass twice
// (fall back) to its first occurrence.
int64_t ToSys(const Schedule& s, int64_t wall) {
  if (s.tz == nullptr) return wall - s.utc_offset.count();
  const date::local_info info = s.tz->get_info(date::local_seconds(seconds(wall)));
  if (info.result == date::local_info::nonexistent) {
    return info.second.begin.time_since_epoch().count();
  }
  return wall - info.first.offset.count();
}

// An IANA zone from the OS's tzdb (Debian's tzdata), or null.
const date::time_zone* LocateZone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

bool DayMatches(const Schedule& s, const std::chrono::year_month_day& ymd,
                std::chrono::weekday wd) {
  bool dom = s.days_of_month.test(static_cast<unsigned>(ymd.day()));
  bool dow = s.days_of_week.test(wd.c_encoding());
  if (s.dom_restricted && s.dow_restricted) return dom || dow;
  if (s.dom_restricted) return dom;
  if (s.dow_restricted) return dow;
  return true;
}

// The first cron time strictly after `after`, or nullopt if none within
// `horizon_days` (an expression that never fires).
std::optional<TimePoint> NextCron(const Schedule& s, TimePoint after, int horizon_days) {
  // Work in the zone's wall time, in whole minutes.
  const int64_t wall = ToWall(s, Secs(after));
  int64_t minute = FloorDiv(wall, 60) + 1;
  const int64_t limit = minute + int64_t{horizon_days} * 1440;
  while (minute < limit) {
    const int64_t day_index = FloorDiv(minute, 1440);
    const sys_days day{days(day_index)};
    const std::chrono::year_month_day ymd{day};
    const unsigned month = static_cast<unsigned>(ymd.month());
    if (!s.months.test(month)) {
      // First day of the next month.
      auto next =
          std::chrono::year_month_day{ymd.year() / ymd.month() / 1} + std::chrono::months(1);
      minute = int64_t{sys_days(next).time_since_epoch().count()} * 1440;
      continue;
    }
    if (!DayMatches(s, ymd, std::chrono::weekday(day))) {
      minute = (day_index + 1) * 1440;
      continue;
    }
    const int64_t in_day = minute - day_index * 1440;
    const int64_t hour = in_day / 60;
    if (!s.hours.test(static_cast<size_t>(hour))) {
      minute = day_index * 1440 + (hour + 1) * 60;
      continue;
    }
    if (!s.minutes.test(static_cast<size_t>(in_day % 60))) {
      ++minute;
      continue;
    }
    const int64_t at = ToSys(s, minute * 60);
    if (at <= Secs(after)) {
      // The repeated hour after the clocks went back: already passed.
      ++minute;
      continue;
    }
    return TimePoint(seconds(at));
  }
  return std::nullopt;
}

Result<Schedule> ParseCron(std::string_view expr) {
  std::vector<std::string_view> f = SplitSpaces(expr);
  if (f.size() != 5) {
    return Bad("'" + std::string(expr) + "' has " + std::to_string(f.size()) +
               " fields; want 5 (minute hour day-of-month month day-of-week), @daily, @hourly, "
               "@weekly or @every DURATION");
  }
  Schedule s;
  s.kind = Schedule::Kind::kCron;
  DBB_RETURN_IF_ERROR(ParseField(f[0], {"minute", 0, 59, nullptr, 0, 0}, &s.minutes));
  DBB_RETURN_IF_ERROR(ParseField(f[1], {"hour", 0, 23, nullptr, 0, 0}, &s.hours));
  DBB_RETURN_IF_ERROR(ParseField(f[2], {"day-of-month", 1, 31, nullptr, 0, 0}, &s.days_of_month));
  DBB_RETURN_IF_ERROR(ParseField(f[3], {"month", 1, 12, kMonthNames.data(), 1, 12}, &s.months));
  std::bitset<8> dow;
  DBB_RETURN_IF_ERROR(ParseField(f[4], {"day-of-week", 0, 7, kDayNames.data(), 0, 7}, &dow));
  for (size_t i = 0; i < 7; ++i) s.days_of_week[i] = dow[i];
  if (dow[7]) s.days_of_week.set(0);  // 7 is Sunday too
  s.dom_restricted = f[2].substr(0, 1) != "*";
  s.dow_restricted = f[4].substr(0, 1) != "*";
  return s;
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty duration (want e.g. 30s, 6h, 1h30m)");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i == text.size()) {
      return Status::InvalidArgument("bad duration '" + std::string(text) +
                                     "' (want e.g. 30s, 6h, 1h30m, 2d)");
    }
    int64_t n = 0;
    std::from_chars(text.data() + start, text.data() + i, n);
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return Status::InvalidArgument("bad duration '" + std::string(text) +
                                       "' (units: s, m, h, d)");
    }
    ++i;
    if (n > int64_t{100} * 365 * 86400 / unit) {
      return Status::InvalidArgument("duration '" + std::string(text) + "' is too long");
    }
    total += n * unit;
  }
  if (total <= 0) return Status::InvalidArgument("duration '" + std::string(text) + "' is zero");
  return seconds(total);
}

Result<std::chrono::seconds> ParseZone(std::string_view zone) {
  std::string z(zone);
  if (z.empty() || z == "UTC" || z == "Z" || z == "utc" || z == "Etc/UTC") return seconds(0);
  std::string_view rest = z;
  if (rest.starts_with("UTC")) rest.remove_prefix(3);
  const std::string bad =
      "time zone '" + z + "' not supported (use UTC or a fixed offset such as +02:00 or UTC-5)";
  if (rest.empty() || (rest[0] != '+' && rest[0] != '-')) return Status::InvalidArgument(bad);
  const int sign = rest[0] == '-' ? -1 : 1;
  rest.remove_prefix(1);
  int h = 0;
  int m = 0;
  size_t colon = rest.find(':');
  if (colon != std::string_view::npos) {
    if (!ParseInt(rest.substr(0, colon), &h) || !ParseInt(rest.substr(colon + 1), &m)) {
      return Status::InvalidArgument(bad);
    }
  } else if (rest.size() == 4) {
    if (!ParseInt(rest.substr(0, 2), &h) || !ParseInt(rest.substr(2), &m)) {
      return Status::InvalidArgument(bad);
    }
  } else if (!ParseInt(rest, &h)) {
    return Status::InvalidArgument(bad);
  }
  if (h > 14 || m > 59) return Status::InvalidArgument(bad);
  return seconds(sign * (h * 3600 + m * 60));
}

Result<Schedule> ParseSchedule(std::string_view expr, std::string_view zone,
                               std::chrono::seconds jitter) {
  std::vector<std::string_view> words = SplitSpaces(expr);
  if (words.empty()) return Bad("empty expression");
  Schedule s;
  std::string first = AsciiLower(words[0]);
  if (first == "@every") {
    if (words.size() != 2) return Bad("'@every' takes one duration, e.g. @every 6h");
    auto d = ParseDuration(words[1]);
    if (!d.ok()) return Bad(d.status().message());
    s.kind = Schedule::Kind::kEvery;
    s.every = *d;
  } else if (first.starts_with("@")) {
    if (words.size() != 1) return Bad("'" + std::string(expr) + "' has extra words");
    static const std::pair<const char*, const char*> kMacros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}};
    const char* cron = nullptr;
    for (const auto& [name, value] : kMacros) {
      if (first == name) cron = value;
    }
    if (cron == nullptr) {
      return Bad("unknown '" + std::string(words[0]) +
                 "' (want @daily, @hourly, @weekly, @monthly, @yearly or @every DURATION)");
    }
    DBB_ASSIGN_OR_RETURN(s, ParseCron(cron));
  } else {
    DBB_ASSIGN_OR_RETURN(s, ParseCron(expr));
  }
  s.text = std::string(expr);
  auto offset = ParseZone(zone);
  if (offset.ok()) {
    s.utc_offset = *offset;
  } else {
    s.tz = LocateZone(std::string(zone));
    if (s.tz == nullptr) {
      return Bad("unknown time zone '" + std::string(zone) +
                 "' (use UTC, a fixed offset such as +02:00, or an IANA name such as "
                 "Europe/Berlin from the tzdata package)");
    }
  }
  s.zone = zone.empty() ? "UTC" : std::string(zone);
  if (jitter.count() < 0) return Bad("jitter must not be negative");
  s.jitter = jitter;
  if (s.kind == Schedule::Kind::kCron) {
    // Leap days recur within 8 years; anything else within one.
    if (!NextCron(s, TimePoint(seconds(946684800)), 366 * 8 + 2).has_value()) {
      return Bad("'" + std::string(expr) + "' never fires");
    }
  }
  return s;
}

TimePoint NextRun(const Schedule& schedule, TimePoint after) {
  if (schedule.kind == Schedule::Kind::kEvery) {
    // Slots of the offset in force at `after` (the next slot is after it
    // even across a DST change).
    const int64_t step = schedule.every.count();
    const int64_t offset = ToWall(schedule, Secs(after)) - Secs(after);
    const int64_t next = (FloorDiv(Secs(after) + offset, step) + 1) * step;
    return TimePoint(seconds(next - offset));
  }
  auto next = NextCron(schedule, after, 366 * 8 + 2);
  return next.value_or(TimePoint::max());
}

std::optional<TimePoint> MissedRun(const Schedule& schedule, std::optional<TimePoint> last_run,
                                   TimePoint now) {
  if (!last_run.has_value()) return std::nullopt;
  TimePoint next = NextRun(schedule, *last_run);
  if (next <= now) return next;
  return std::nullopt;
}

std::string FormatTime(TimePoint t) {
  const int64_t secs = Secs(t);
  const int64_t day_index = FloorDiv(secs, 86400);
  const std::chrono::year_month_day ymd{sys_days(days(day_index))};
  const int64_t in_day = secs - day_index * 86400;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return buf;
}

}  // namespace dbbackup::daemon
