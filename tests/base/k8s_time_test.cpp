#include "base/k8s_time.h"

#include <gtest/gtest.h>

#include "base/uuid.h"

namespace skiff {
namespace {

using namespace std::chrono;

TEST(K8sTimeTest, FormatAndParse) {
  TimePoint t =
      sys_days(year(2024) / 1 / 2) + hours(3) + minutes(4) + seconds(5) + microseconds(123456);
  EXPECT_EQ(FormatRfc3339(t), "2024-01-02T03:04:05Z");
  EXPECT_EQ(FormatRfc3339Micro(t), "2024-01-02T03:04:05.123456Z");
  auto back = ParseRfc3339("2024-01-02T03:04:05.123456Z");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(duration_cast<microseconds>(*back - t).count(), 0);
  auto offset = ParseRfc3339("2024-01-02T05:04:05+02:00");
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(FormatRfc3339(*offset), "2024-01-02T03:04:05Z");
  EXPECT_FALSE(ParseRfc3339("2024-13-02T03:04:05Z").has_value());
  EXPECT_FALSE(ParseRfc3339("yesterday").has_value());
}

TEST(K8sTimeTest, HumanDurationMatchesKubectl) {
  EXPECT_EQ(HumanDuration(seconds(0)), "0s");
  EXPECT_EQ(HumanDuration(seconds(45)), "45s");
  EXPECT_EQ(HumanDuration(seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(seconds(310)), "5m10s");
  EXPECT_EQ(HumanDuration(minutes(5)), "5m");
  EXPECT_EQ(HumanDuration(minutes(45)), "45m");
  EXPECT_EQ(HumanDuration(hours(3)), "3h");
  EXPECT_EQ(HumanDuration(hours(3) + minutes(5)), "3h5m");
  EXPECT_EQ(HumanDuration(hours(30)), "30h");
  EXPECT_EQ(HumanDuration(hours(52)), "2d4h");
  EXPECT_EQ(HumanDuration(hours(24 * 400)), "400d");
  EXPECT_EQ(HumanDuration(hours(24 * (365 * 3 + 2))), "3y2d");
  EXPECT_EQ(HumanDuration(seconds(-5)), "<invalid>");
}

TEST(K8sTimeTest, ShortHumanDuration) {
  EXPECT_EQ(ShortHumanDuration(seconds(59)), "59s");
  EXPECT_EQ(ShortHumanDuration(seconds(61)), "1m");
  EXPECT_EQ(ShortHumanDuration(minutes(90)), "1h");
  EXPECT_EQ(ShortHumanDuration(hours(49)), "2d");
  EXPECT_EQ(ShortHumanDuration(hours(24 * 800)), "2y");
  EXPECT_EQ(ShortHumanDuration(milliseconds(-1500)), "0s");
  EXPECT_EQ(ShortHumanDuration(seconds(-2)), "<invalid>");
}

TEST(K8sTimeTest, ParseRejectsOutOfRangeFields) {
  EXPECT_FALSE(ParseRfc3339("2024-01-02T03:04:60Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2024-01-02T03:04:05").has_value());
  EXPECT_FALSE(ParseRfc3339("2024-01-02T03:04:05.Z").has_value());
}

TEST(K8sTimeTest, FakeClock) {
  FakeClock clock(sys_days(year(2024) / 1 / 2));
  const Clock& c = clock;
  EXPECT_EQ(FormatRfc3339(c.Now()), "2024-01-02T00:00:00Z");
  clock.Advance(minutes(5) + seconds(10));
  EXPECT_EQ(HumanDuration(c.Now() - sys_days(year(2024) / 1 / 2)), "5m10s");
  clock.Set(sys_days(year(2025) / 6 / 1));
  EXPECT_EQ(FormatRfc3339(c.Now()), "2025-06-01T00:00:00Z");
}

TEST(UuidTest, FormatAndUniqueness) {
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
  EXPECT_EQ(GenerateName("web-").size(), 9u);
  EXPECT_EQ(GenerateName("web-").rfind("web-", 0), 0u);
  EXPECT_EQ(GenerateName(std::string(100, 'a')).size(), 63u);
  std::string s = GenerateNameSuffix();
  EXPECT_EQ(s.size(), 5u);
  EXPECT_EQ(s.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
}

TEST(GoDurationTest, ParsesKubeApiserverDurationFlags) {
  using namespace std::chrono;
  EXPECT_EQ(ParseGoDuration("5m0s"), nanoseconds(minutes(5)));
  EXPECT_EQ(ParseGoDuration("300s"), nanoseconds(seconds(300)));
  EXPECT_EQ(ParseGoDuration("0"), nanoseconds(0));
  EXPECT_EQ(ParseGoDuration("0s"), nanoseconds(0));
  EXPECT_EQ(ParseGoDuration("1h2m3s"), nanoseconds(hours(1) + minutes(2) + seconds(3)));
  EXPECT_EQ(ParseGoDuration("1.5h"), nanoseconds(minutes(90)));
  EXPECT_EQ(ParseGoDuration("250ms"), nanoseconds(milliseconds(250)));
  EXPECT_EQ(ParseGoDuration("-2s"), nanoseconds(seconds(-2)));
  EXPECT_FALSE(ParseGoDuration("").has_value());
  EXPECT_FALSE(ParseGoDuration("5").has_value());
  EXPECT_FALSE(ParseGoDuration("5 m").has_value());
  EXPECT_FALSE(ParseGoDuration("5d").has_value());
  EXPECT_FALSE(ParseGoDuration("m").has_value());
  EXPECT_FALSE(ParseGoDuration("99999999999h").has_value());
}

}  // namespace
}  // namespace skiff
