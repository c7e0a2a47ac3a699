#include "base/cron.h"

#include <gtest/gtest.h>

#include <chrono>

namespace skiff {
namespace {

using namespace std::chrono;

system_clock::time_point At(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi);
}

system_clock::time_point NextOf(const std::string& spec, system_clock::time_point after) {
  auto schedule = CronSchedule::Parse(spec);
  EXPECT_TRUE(schedule.has_value()) << spec << ": " << schedule.error().ToString();
  auto next = schedule->Next(after);
  EXPECT_TRUE(next.has_value()) << spec;
  return next.value_or(system_clock::time_point{});
}

TEST(CronTest, EveryMinuteIsTheNextWholeMinute) {
  EXPECT_EQ(NextOf("* * * * *", At(2026, 3, 1, 10, 0) + seconds(30)), At(2026, 3, 1, 10, 1));
  EXPECT_EQ(NextOf("* * * * *", At(2026, 3, 1, 10, 0)), At(2026, 3, 1, 10, 1));
}

TEST(CronTest, Steps) {
  EXPECT_EQ(NextOf("*/15 * * * *", At(2026, 3, 1, 10, 1)), At(2026, 3, 1, 10, 15));
  EXPECT_EQ(NextOf("*/15 * * * *", At(2026, 3, 1, 10, 45)), At(2026, 3, 1, 11, 0));
  EXPECT_EQ(NextOf("0 */12 * * *", At(2026, 3, 1, 0, 0)), At(2026, 3, 1, 12, 0));
  EXPECT_EQ(NextOf("0 */12 * * *", At(2026, 3, 1, 12, 0)), At(2026, 3, 2, 0, 0));
  // A value with a step runs from the value to the field's maximum.
  EXPECT_EQ(NextOf("5/20 * * * *", At(2026, 3, 1, 10, 26)), At(2026, 3, 1, 10, 45));
  EXPECT_EQ(NextOf("10-30/10 * * * *", At(2026, 3, 1, 10, 30)), At(2026, 3, 1, 11, 10));
}

TEST(CronTest, RangesAndLists) {
  EXPECT_EQ(NextOf("0 9-17 * * *", At(2026, 3, 1, 17, 30)), At(2026, 3, 2, 9, 0));
  EXPECT_EQ(NextOf("0,30 1,13 * * *", At(2026, 3, 1, 1, 0)), At(2026, 3, 1, 1, 30));
  EXPECT_EQ(NextOf("0,30 1,13 * * *", At(2026, 3, 1, 1, 30)), At(2026, 3, 1, 13, 0));
  EXPECT_EQ(NextOf("0 0 1,15 * *", At(2026, 3, 2, 0, 0)), At(2026, 3, 15, 0, 0));
}

TEST(CronTest, NamesOfMonthsAndDays) {
  // 2026-03-01 is a Sunday.
  EXPECT_EQ(NextOf("0 0 * * mon", At(2026, 3, 1, 0, 0)), At(2026, 3, 2, 0, 0));
  EXPECT_EQ(NextOf("0 0 * * MON-FRI", At(2026, 3, 6, 12, 0)), At(2026, 3, 9, 0, 0));
  EXPECT_EQ(NextOf("0 0 1 jun *", At(2026, 3, 1, 0, 0)), At(2026, 6, 1, 0, 0));
  EXPECT_EQ(NextOf("0 0 1 Jan,Jul *", At(2026, 3, 1, 0, 0)), At(2026, 7, 1, 0, 0));
  // 7 is Sunday as well as 0.
  EXPECT_EQ(NextOf("0 0 * * 7", At(2026, 3, 2, 0, 0)), At(2026, 3, 8, 0, 0));
  EXPECT_EQ(NextOf("0 0 * * 0", At(2026, 3, 2, 0, 0)), At(2026, 3, 8, 0, 0));
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // The 10th or any Monday: from Sunday 2026-03-01 the first is Monday the 2nd.
  EXPECT_EQ(NextOf("0 0 10 * 1", At(2026, 3, 1, 0, 0)), At(2026, 3, 2, 0, 0));
  EXPECT_EQ(NextOf("0 0 10 * 1", At(2026, 3, 9, 0, 0)), At(2026, 3, 10, 0, 0));
  // With day of week '*', only the day of month counts.
  EXPECT_EQ(NextOf("0 0 10 * *", At(2026, 3, 1, 0, 0)), At(2026, 3, 10, 0, 0));
}

TEST(CronTest, Macros) {
  const auto t = At(2026, 3, 1, 10, 20);
  EXPECT_EQ(NextOf("@hourly", t), At(2026, 3, 1, 11, 0));
  EXPECT_EQ(NextOf("@daily", t), At(2026, 3, 2, 0, 0));
  EXPECT_EQ(NextOf("@midnight", t), At(2026, 3, 2, 0, 0));
  EXPECT_EQ(NextOf("@weekly", t), At(2026, 3, 8, 0, 0));
  EXPECT_EQ(NextOf("@monthly", t), At(2026, 4, 1, 0, 0));
  EXPECT_EQ(NextOf("@yearly", t), At(2027, 1, 1, 0, 0));
  EXPECT_EQ(NextOf("@annually", t), At(2027, 1, 1, 0, 0));
}

TEST(CronTest, LeapDayAndImpossibleDates) {
  EXPECT_EQ(NextOf("0 0 29 2 *", At(2026, 3, 1, 0, 0)), At(2028, 2, 29, 0, 0));
  auto never = CronSchedule::Parse("0 0 30 2 *");
  ASSERT_TRUE(never.has_value());
  EXPECT_FALSE(never->Next(At(2026, 3, 1, 0, 0)).has_value());
}

TEST(CronTest, Matches) {
  auto schedule = CronSchedule::Parse("30 2 * * *");
  ASSERT_TRUE(schedule.has_value());
  EXPECT_TRUE(schedule->Matches(At(2026, 3, 1, 2, 30) + seconds(59)));
  EXPECT_FALSE(schedule->Matches(At(2026, 3, 1, 2, 31)));
}

TEST(CronTest, RejectsMalformedSchedules) {
  struct Case {
    const char* spec;
    const char* message;
  };
  for (const Case& c : {
           Case{"* * * *", "must have five fields"},
           Case{"* * * * * *", "must have five fields"},
           Case{"60 * * * *", "invalid cron minute field \"60\""},
           Case{"* 24 * * *", "invalid cron hour field"},
           Case{"* * 0 * *", "invalid cron day of month field"},
           Case{"* * * 13 *", "invalid cron month field"},
           Case{"* * * * 8", "invalid cron day of week field"},
           Case{"*/0 * * * *", "step must be a positive number"},
           Case{"5-1 * * * *", "range start is after its end"},
           Case{"1,,2 * * * *", "empty list entry"},
           Case{"* * * foo *", "not a number or name"},
           Case{"@often", "unknown cron macro"},
           Case{"", "must have five fields"},
       }) {
    auto parsed = CronSchedule::Parse(c.spec);
    ASSERT_FALSE(parsed.has_value()) << c.spec;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalid) << c.spec;
    EXPECT_NE(parsed.error().message().find(c.message), std::string::npos)
        << c.spec << ": " << parsed.error().message();
  }
}

}  // namespace
}  // namespace skiff
