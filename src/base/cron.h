// CronSchedule: a standard five-field cron expression (minute hour day-of-month month
// day-of-week), as used by Kubernetes CronJobs and k3s' --etcd-snapshot-schedule-cron.
//
// Each field is `*`, a value, a range `a-b`, any of these with a step `/n` (`*/15`,
// `1-30/2`, `5/10` = from 5 to the field's maximum), or a comma-separated list of them.
// Months take `jan`..`dec` and days of week `sun`..`sat` (case-insensitive); day of week
// 7 is Sunday, like 0. The macros `@yearly` (`@annually`), `@monthly`, `@weekly`,
// `@daily` (`@midnight`) and `@hourly` stand for their usual expressions.
//
// When both day-of-month and day-of-week are restricted (neither starts with `*`), a day
// matches if either matches, as in Vixie cron and Kubernetes.
//
// Times are evaluated in UTC.
//
// Thread safety: an immutable value; safe to share.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace skiff {

class CronSchedule {
 public:
  // Parses `spec`. Errors: kInvalid with a message naming the offending field.
  static Result<CronSchedule> Parse(std::string_view spec);

  // The first matching minute strictly after `after` (seconds are dropped), or nullopt if
  // none exists within the next five years (e.g. "0 0 30 2 *").
  std::optional<std::chrono::system_clock::time_point> Next(
      std::chrono::system_clock::time_point after) const;

  // True if the minute containing `t` matches.
  bool Matches(std::chrono::system_clock::time_point t) const;

 private:
  CronSchedule() = default;
  bool DayMatches(int day_of_month, int month, int day_of_week) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool day_of_month_star_ = false;
  bool day_of_week_star_ = false;
};

}  // namespace skiff
