// Cron schedules and time zones as the CronJob validation checks them.
#include "api/kinds/cron_schedule.h"

#include <gtest/gtest.h>

namespace skiff::api::kinds {
namespace {

TEST(CronSchedule, AcceptsStandardSchedulesAndDescriptors) {
  for (const char* s :
       {"* * * * *", "*/5 * * * *", "0 0 1 1 *", "0 9-17 * * mon-fri", "15,45 */2 1-31/3 JAN,jul 0",
        "0 0 * * SUN", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly",
        "@annually", "@every 1h30m", "? * * * *"}) {
    EXPECT_EQ(CronScheduleError(s), "") << s;
  }
}

TEST(CronSchedule, RejectsWithTheParsersMessages) {
  EXPECT_EQ(CronScheduleError(""), "empty spec string");
  EXPECT_EQ(CronScheduleError("* * *"), "expected exactly 5 fields, found 3: [* * *]");
  EXPECT_EQ(CronScheduleError("* * * * * *"), "expected exactly 5 fields, found 6: [* * * * * *]");
  EXPECT_EQ(CronScheduleError("61 * * * *"), "end of range (61) above maximum (59): 61");
  EXPECT_EQ(CronScheduleError("* 24 * * *"), "end of range (24) above maximum (23): 24");
  EXPECT_EQ(CronScheduleError("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
  EXPECT_EQ(CronScheduleError("5-1 * * * *"),
            "beginning of range (5) beyond end of range (1): 5-1");
  EXPECT_EQ(CronScheduleError("*/0 * * * *"), "step of range should be a positive number: */0");
  EXPECT_EQ(CronScheduleError("1-2-3 * * * *"), "too many hyphens: 1-2-3");
  EXPECT_EQ(CronScheduleError("*/2/3 * * * *"), "too many slashes: */2/3");
  EXPECT_EQ(CronScheduleError("x * * * *"),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(CronScheduleError("* * * foo *"),
            "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax");
  EXPECT_EQ(CronScheduleError("@often"), "unrecognized descriptor: @often");
  EXPECT_EQ(CronScheduleError("@every soon"),
            "failed to parse duration @every soon: time: invalid duration \"soon\"");
}

TEST(TimeZone, KnownAndUnknownZones) {
  EXPECT_EQ(TimeZoneError("UTC"), "");
  EXPECT_EQ(TimeZoneError("Etc/UTC"), "");
  EXPECT_EQ(TimeZoneError("Mars/Olympus_Mons"), "unknown time zone Mars/Olympus_Mons");
  EXPECT_EQ(TimeZoneError("../etc/passwd"), "unknown time zone ../etc/passwd");
}

}  // namespace
}  // namespace skiff::api::kinds
