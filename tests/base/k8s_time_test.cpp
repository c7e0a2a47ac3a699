#include "base/k8s_time.h"

#include <gtest/gtest.h>

#include "base/uuid.h"

namespace skiff {
namespace {

using namespace std::chrono;

TEST(K8sTimeTest, FormatAndParse) {
  TimePoint t = sys_days(year(2024) / 1 / 2) + hours(3) + minutes(4) + seconds(5) + microseconds(123456);
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

TEST(UuidTest, FormatAndUniqueness) {
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
  std::string s = GenerateNameSuffix();
  EXPECT_EQ(s.size(), 5u);
  EXPECT_EQ(s.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
}

}  // namespace
}  // namespace skiff
