#include "daemon/schedule.h"

#include <gtest/gtest.h>

namespace dbbackup::daemon {
namespace {

using std::chrono::seconds;

// Parses "YYYY-MM-DD HH:MM:SS" as UTC.
TimePoint T(const char* s) {
  int y, mo, d, h, mi, se;
  EXPECT_EQ(std::sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &se), 6) << s;
  auto day = std::chrono::sys_days(std::chrono::year(y) / mo / d);
  return TimePoint(day) + std::chrono::hours(h) + std::chrono::minutes(mi) + seconds(se);
}

Schedule P(const char* expr, const char* zone = "UTC") {
  auto s = ParseSchedule(expr, zone);
  EXPECT_TRUE(s.ok()) << expr << ": " << s.status().ToString();
  return s.ok() ? *s : Schedule{};
}

std::string Next(const char* expr, const char* after, const char* zone = "UTC") {
  return FormatTime(NextRun(P(expr, zone), T(after)));
}

TEST(ScheduleTest, Macros) {
  EXPECT_EQ(Next("@daily", "2026-11-26 12:00:00"), "2026-11-27T00:00:00Z");
  EXPECT_EQ(Next("@midnight", "2026-11-26 00:00:00"), "2026-11-27T00:00:00Z");
  EXPECT_EQ(Next("@hourly", "2026-11-26 12:00:00"), "2026-11-26T13:00:00Z");
  EXPECT_EQ(Next("@hourly", "2026-11-26 12:59:59"), "2026-11-26T13:00:00Z");
  // 2026-11-26 is a Thursday; @weekly is Sunday midnight.
  EXPECT_EQ(Next("@weekly", "2026-11-26 12:00:00"), "2026-11-29T00:00:00Z");
  EXPECT_EQ(Next("@monthly", "2026-11-26 12:00:00"), "2026-12-01T00:00:00Z");
  EXPECT_EQ(Next("@yearly", "2026-11-26 12:00:00"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(Next("@DAILY", "2026-11-26 12:00:00"), "2026-11-27T00:00:00Z");
}

TEST(ScheduleTest, NextRunIsStrictlyAfter) {
  EXPECT_EQ(Next("30 2 * * *", "2026-11-26 02:30:00"), "2026-11-27T02:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", "2026-11-26 02:29:59"), "2026-11-26T02:30:00Z");
}

TEST(ScheduleTest, StepsRangesLists) {
  EXPECT_EQ(Next("*/15 * * * *", "2026-11-26 12:01:00"), "2026-11-26T12:15:00Z");
  EXPECT_EQ(Next("*/15 * * * *", "2026-11-26 12:45:00"), "2026-11-26T13:00:00Z");
  EXPECT_EQ(Next("10-20/5 * * * *", "2026-11-26 12:16:00"), "2026-11-26T12:20:00Z");
  EXPECT_EQ(Next("10-20/5 * * * *", "2026-11-26 12:20:00"), "2026-11-26T13:10:00Z");
  EXPECT_EQ(Next("5/20 * * * *", "2026-11-26 12:26:00"), "2026-11-26T12:45:00Z");
  EXPECT_EQ(Next("0 1,13 * * *", "2026-11-26 02:00:00"), "2026-11-26T13:00:00Z");
  EXPECT_EQ(Next("0 9-17/4 * * *", "2026-11-26 14:00:00"), "2026-11-26T17:00:00Z");
  EXPECT_EQ(Next("0 0 * * mon-fri", "2026-11-27 12:00:00"), "2026-11-30T00:00:00Z");
  EXPECT_EQ(Next("0 0 * * 7", "2026-11-26 12:00:00"), "2026-11-29T00:00:00Z");
  EXPECT_EQ(Next("0 0 1 jan,JUL *", "2026-11-26 12:00:00"), "2027-01-01T00:00:00Z");
}

TEST(ScheduleTest, MonthEnds) {
  EXPECT_EQ(Next("0 0 31 * *", "2026-11-26 00:00:00"), "2026-12-31T00:00:00Z");
  EXPECT_EQ(Next("0 0 31 * *", "2027-01-31 00:00:00"), "2027-03-31T00:00:00Z");
  EXPECT_EQ(Next("0 0 29 2 *", "2026-01-01 00:00:00"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(Next("59 23 * * *", "2026-12-31 23:59:00"), "2027-01-01T23:59:00Z");
  EXPECT_EQ(Next("0 0 1 * *", "2026-12-15 00:00:00"), "2027-01-01T00:00:00Z");
}

TEST(ScheduleTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // 1st of the month or any Friday (2026-11-27 is a Friday).
  EXPECT_EQ(Next("0 0 1 * fri", "2026-11-26 12:00:00"), "2026-11-27T00:00:00Z");
  EXPECT_EQ(Next("0 0 1 * fri", "2026-11-28 12:00:00"), "2026-12-01T00:00:00Z");
  // Only the day of week restricted: day-of-month `*` does not widen it.
  EXPECT_EQ(Next("0 0 * * fri", "2026-11-28 12:00:00"), "2026-12-04T00:00:00Z");
}

TEST(ScheduleTest, Every) {
  EXPECT_EQ(Next("@every 6h", "2026-11-26 12:00:00"), "2026-11-26T18:00:00Z");
  EXPECT_EQ(Next("@every 6h", "2026-11-26 11:59:59"), "2026-11-26T12:00:00Z");
  EXPECT_EQ(Next("@every 30s", "2026-11-26 12:00:10"), "2026-11-26T12:00:30Z");
  EXPECT_EQ(Next("@every 1h30m", "2026-11-26 00:00:00"), "2026-11-26T01:30:00Z");
  EXPECT_EQ(P("@every 1h30m").every, seconds(5400));
  EXPECT_EQ(P("@every 2d").every, seconds(172800));
}

TEST(ScheduleTest, FixedOffsetZones) {
  // 02:00 at +02:00 is 00:00 UTC.
  EXPECT_EQ(Next("0 2 * * *", "2026-11-26 12:00:00", "+02:00"), "2026-11-27T00:00:00Z");
  EXPECT_EQ(Next("@daily", "2026-11-26 12:00:00", "UTC-5"), "2026-11-27T05:00:00Z");
  EXPECT_EQ(Next("@daily", "2026-11-26 12:00:00", "+0530"), "2026-11-26T18:30:00Z");
  EXPECT_EQ(Next("@daily", "2026-11-26 12:00:00", "Z"), "2026-11-27T00:00:00Z");
  EXPECT_EQ(*ParseZone("UTC+14"), seconds(14 * 3600));
  EXPECT_FALSE(ParseZone("Europe/Berlin").ok());
  EXPECT_FALSE(ParseZone("+15:00").ok());
}

TEST(ScheduleTest, IanaZoneFollowsDaylightSavingTime) {
  // Europe/Berlin: +01:00 in winter, +02:00 in summer; 2026's changes are
  // Sunday 29 March (02:00 -> 03:00) and Sunday 25 October (03:00 -> 02:00).
  EXPECT_EQ(P("@daily", "Europe/Berlin").zone, "Europe/Berlin");
  EXPECT_EQ(Next("0 12 * * *", "2026-07-01 00:00:00", "Europe/Berlin"), "2026-07-01T10:00:00Z");
  EXPECT_EQ(Next("0 12 * * *", "2026-12-01 00:00:00", "Europe/Berlin"), "2026-12-01T11:00:00Z");
  EXPECT_EQ(Next("@daily", "2026-07-01 00:00:00", "Europe/Berlin"), "2026-07-01T22:00:00Z");
  EXPECT_EQ(Next("@every 6h", "2026-07-01 00:00:00", "Europe/Berlin"), "2026-07-01T04:00:00Z");
  // Other zones from the same tzdb, south and west.
  EXPECT_EQ(Next("0 9 * * *", "2026-07-01 00:00:00", "America/New_York"), "2026-07-01T13:00:00Z");
  EXPECT_EQ(Next("0 9 * * *", "2026-07-01 00:00:00", "Australia/Sydney"), "2026-07-01T23:00:00Z");
}

TEST(ScheduleTest, IanaZoneSpringForwardRunsSkippedTimeAtTheJump) {
  // 02:30 does not exist on 29 March in Berlin: that night's run happens at
  // the jump (01:00 UTC = 03:00 CEST), the nights around at 02:30 local.
  EXPECT_EQ(Next("30 2 * * *", "2026-03-27 12:00:00", "Europe/Berlin"), "2026-03-28T01:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", "2026-03-28 01:30:00", "Europe/Berlin"), "2026-03-29T01:00:00Z");
  EXPECT_EQ(Next("30 2 * * *", "2026-03-29 01:00:00", "Europe/Berlin"), "2026-03-30T00:30:00Z");
  // Hourly keeps going through the change: 01:00 CET, then 03:00 CEST.
  EXPECT_EQ(Next("0 * * * *", "2026-03-29 00:00:00", "Europe/Berlin"), "2026-03-29T01:00:00Z");
  EXPECT_EQ(Next("0 * * * *", "2026-03-29 01:00:00", "Europe/Berlin"), "2026-03-29T02:00:00Z");
}

TEST(ScheduleTest, IanaZoneFallBackRunsRepeatedTimeOnce) {
  // 02:30 happens twice on 25 October in Berlin (00:30 and 01:30 UTC): one run.
  EXPECT_EQ(Next("30 2 * * *", "2026-10-24 12:00:00", "Europe/Berlin"), "2026-10-25T00:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", "2026-10-25 00:30:00", "Europe/Berlin"), "2026-10-26T01:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", "2026-10-25 01:00:00", "Europe/Berlin"), "2026-10-26T01:30:00Z");
  // A catch-up across the change finds the one run.
  auto missed = MissedRun(P("30 2 * * *", "Europe/Berlin"), T("2026-10-24 12:00:00"),
                          T("2026-10-25 12:00:00"));
  ASSERT_TRUE(missed.has_value());
  EXPECT_EQ(FormatTime(*missed), "2026-10-25T00:30:00Z");
}

TEST(ScheduleTest, UnknownZoneIsOneClearError) {
  auto s = ParseSchedule("@daily", "Mars/Olympus_Mons");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            "BACKUP_SCHEDULE: unknown time zone 'Mars/Olympus_Mons' (use UTC, a fixed offset "
            "such as +02:00, or an IANA name such as Europe/Berlin from the tzdata package)");
  EXPECT_FALSE(ParseSchedule("@daily", "+15:00").ok());
}

TEST(ScheduleTest, MissedRun) {
  Schedule daily = P("@daily");
  // Never ran: nothing missed.
  EXPECT_FALSE(MissedRun(daily, std::nullopt, T("2026-11-26 12:00:00")).has_value());
  // Ran yesterday at midnight, now is noon today: today's midnight was missed.
  auto missed = MissedRun(daily, T("2026-11-25 00:00:00"), T("2026-11-26 12:00:00"));
  ASSERT_TRUE(missed.has_value());
  EXPECT_EQ(FormatTime(*missed), "2026-11-26T00:00:00Z");
  // Several missed: one catch-up, the first.
  missed = MissedRun(daily, T("2026-11-20 00:00:00"), T("2026-11-26 12:00:00"));
  ASSERT_TRUE(missed.has_value());
  EXPECT_EQ(FormatTime(*missed), "2026-11-21T00:00:00Z");
  // Ran at today's midnight: nothing missed.
  EXPECT_FALSE(MissedRun(daily, T("2026-11-26 00:00:00"), T("2026-11-26 12:00:00")).has_value());
  // Exactly at the next time counts as missed.
  EXPECT_TRUE(MissedRun(daily, T("2026-11-26 00:00:00"), T("2026-11-27 00:00:00")).has_value());
}

TEST(ScheduleTest, JitterKept) {
  auto s = ParseSchedule("@daily", "UTC", seconds(300));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->jitter, seconds(300));
  EXPECT_FALSE(ParseSchedule("@daily", "UTC", seconds(-1)).ok());
}

void ExpectBad(const char* expr, const char* fragment) {
  auto s = ParseSchedule(expr);
  ASSERT_FALSE(s.ok()) << expr;
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << expr;
  EXPECT_NE(s.status().message().find(fragment), std::string::npos)
      << expr << " -> " << s.status().message();
  EXPECT_EQ(s.status().message().find('\n'), std::string::npos);
  EXPECT_TRUE(s.status().message().starts_with("BACKUP_SCHEDULE: ")) << s.status().message();
}

TEST(ScheduleTest, BadExpressions) {
  ExpectBad("", "empty");
  ExpectBad("* * * *", "has 4 fields");
  ExpectBad("* * * * * *", "has 6 fields");
  ExpectBad("61 * * * *", "minute field '61' out of range 0-59");
  ExpectBad("* 24 * * *", "hour field '24' out of range 0-23");
  ExpectBad("* * 0 * *", "day-of-month field '0' out of range 1-31");
  ExpectBad("* * * 13 *", "month field '13' out of range 1-12");
  ExpectBad("* * * * 8", "day-of-week field '8' out of range 0-7");
  ExpectBad("*/0 * * * *", "bad step");
  ExpectBad("*/x * * * *", "bad step");
  ExpectBad("30-10 * * * *", "runs backwards");
  ExpectBad("1,,2 * * * *", "empty list item");
  ExpectBad("a * * * *", "not a number");
  ExpectBad("* * * foo *", "not a number or name");
  ExpectBad("0 0 30 2 *", "never fires");
  ExpectBad("@sometimes", "unknown '@sometimes'");
  ExpectBad("@daily now", "extra words");
  ExpectBad("@every", "takes one duration");
  ExpectBad("@every 5x", "units");
  ExpectBad("@every 0s", "zero");
  ExpectBad("@every h", "bad duration");
  ExpectBad("@every 10", "bad duration");
  auto z = ParseSchedule("@daily", "Mars/Olympus");
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("unknown time zone 'Mars/Olympus'"), std::string::npos);
}

}  // namespace
}  // namespace dbbackup::daemon
