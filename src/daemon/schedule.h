// Schedules: when the daemon backs up. BACKUP_SCHEDULE takes
//   - a 5-field cron expression "MIN HOUR DOM MON DOW": numbers, `*`, ranges
//     `a-b`, lists `a,b`, steps `*/n` `a-b/n` `a/n`, month names jan..dec and
//     day names sun..sat (0 and 7 are Sunday). As in Vixie cron, when both DOM
//     and DOW are restricted a day matching either fires;
//   - @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly;
//   - "@every DURATION" ("30s", "6h", "1h30m", "2d"): slots aligned to the Unix
//     epoch (in the schedule's zone), so @every 6h fires at 00, 06, 12, 18.
// The zone is "UTC" (default), "Z", a fixed offset "+HH:MM" / "-HH:MM" /
// "UTC+HH[:MM]", or an IANA name ("Europe/Berlin") from the OS's tzdb
// (Debian's tzdata, read through Howard Hinnant's date/tz library, as GCC 12
// has no std::chrono::tzdb). Cron times are wall-clock times of the zone, so
// "30 2 * * *" stays at 02:30 across daylight-saving changes; on the night
// the clocks spring forward a skipped time runs at the moment of the jump,
// and on the night they fall back a repeated time runs once (the first
// time). @every slots follow the offset in force.
//
// NextRun and MissedRun are pure functions of (schedule, times): the
// scheduler passes the clock's time in. Jitter is not applied here: the
// scheduler adds a random delay in [0, jitter) to each run.
//
// Thread-safety: Schedule is an immutable value type.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace date {
class time_zone;
}

namespace dbbackup::daemon {

using TimePoint = std::chrono::system_clock::time_point;

struct Schedule {
  enum class Kind { kCron, kEvery };
  Kind kind = Kind::kCron;
  std::string text;  // as given, for logs and /metrics
  // kEvery: the interval (> 0).
  std::chrono::seconds every{0};
  // kCron: the allowed values of each field.
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31
  std::bitset<13> months;         // 1..12
  std::bitset<7> days_of_week;    // 0 = Sunday
  bool dom_restricted = false;    // DOM field was not `*`
  bool dow_restricted = false;    // DOW field was not `*`
  // Wall time of the zone = UTC + utc_offset, for UTC and fixed offsets.
  std::chrono::seconds utc_offset{0};
  // An IANA zone (from the process-wide tzdb, never freed); null for UTC
  // and fixed offsets.
  const date::time_zone* tz = nullptr;
  std::string zone = "UTC";
  // Random delay in [0, jitter) added by the scheduler. Default: 0.
  std::chrono::seconds jitter{0};
};

// Parses `expr` (see the top of this file) in `zone`. Returns kInvalidArgument
// with a one-line message naming the bad part, e.g.
// "BACKUP_SCHEDULE: minute field '61' out of range 0-59", or for a cron
// expression that can never fire ("0 0 30 2 *").
Result<Schedule> ParseSchedule(std::string_view expr, std::string_view zone = "UTC",
                               std::chrono::seconds jitter = std::chrono::seconds(0));

// Parses "30s", "6h", "1h30m", "2d" (units s, m, h, d; at least one). Returns
// kInvalidArgument for anything else or a zero duration.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// Parses UTC or a fixed-offset zone into its UTC offset; kInvalidArgument
// for anything else (IANA names have no single offset: ParseSchedule
// resolves them).
Result<std::chrono::seconds> ParseZone(std::string_view zone);

// The first scheduled time strictly after `after` (whole seconds; cron times
// fall on whole minutes).
TimePoint NextRun(const Schedule& schedule, TimePoint after);

// Anacron-like catch-up: the first scheduled time in (last_run, now], if
// any; the scheduler runs one backup for it at start-up, however many were
// missed. With no last run
// (first start) nothing is missed.
std::optional<TimePoint> MissedRun(const Schedule& schedule, std::optional<TimePoint> last_run,
                                   TimePoint now);

// "2026-11-26T12:00:00Z".
std::string FormatTime(TimePoint t);

}  // namespace dbbackup::daemon
