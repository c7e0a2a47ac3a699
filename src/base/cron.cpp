#include "base/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace skiff {

namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // names[i] stands for min + i (nullptr: numbers only)
  int name_count;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// Day of week accepts 7 (Sunday) and folds it onto 0 afterwards.
constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr, 0},       {"hour", 0, 23, nullptr, 0},
    {"day of month", 1, 31, nullptr, 0}, {"month", 1, 12, kMonthNames, 12},
    {"day of week", 0, 7, kDayNames, 7},
};

Status FieldError(const FieldSpec& field, std::string_view text, std::string_view why) {
  return Status(StatusCode::kInvalid, "invalid cron " + std::string(field.name) + " field \"" +
                                          std::string(text) + "\": " + std::string(why));
}

// A number or a name of `field`.
std::optional<int> ParseValue(const FieldSpec& field, std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text.front()))) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }
  for (int i = 0; i < field.name_count; ++i) {
    std::string_view name = field.names[i];
    if (text.size() != name.size()) continue;
    bool same = true;
    for (size_t c = 0; c < text.size() && same; ++c) {
      same = std::tolower(static_cast<unsigned char>(text[c])) == name[c];
    }
    if (same) return field.min + i;
  }
  return std::nullopt;
}

// Parses one field into the values it allows (indices min..max of `out`).
Status ParseField(const FieldSpec& field, std::string_view text, std::vector<bool>& out) {
  out.assign(field.max + 1, false);
  if (text.empty()) return FieldError(field, text, "empty");
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    if (item.empty()) return FieldError(field, text, "empty list entry");

    int step = 1;
    bool has_step = false;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = item.substr(slash + 1);
      int parsed = 0;
      auto [end, ec] =
          std::from_chars(step_text.data(), step_text.data() + step_text.size(), parsed);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() ||
          parsed <= 0) {
        return FieldError(field, text, "step must be a positive number");
      }
      step = parsed;
      has_step = true;
      item = item.substr(0, slash);
    }

    int lo = field.min;
    int hi = field.max;
    if (item == "*") {
      // the whole range
    } else if (size_t dash = item.find('-'); dash != std::string_view::npos) {
      auto a = ParseValue(field, item.substr(0, dash));
      auto b = ParseValue(field, item.substr(dash + 1));
      if (!a || !b) return FieldError(field, text, "not a valid range");
      lo = *a;
      hi = *b;
      if (lo > hi) return FieldError(field, text, "range start is after its end");
    } else {
      auto v = ParseValue(field, item);
      if (!v) return FieldError(field, text, "not a number or name");
      lo = *v;
      hi = has_step ? field.max : *v;  // "5/10" runs from 5 to the maximum
    }
    if (lo < field.min || hi > field.max) {
      return FieldError(field, text,
                        "values must be between " + std::to_string(field.min) + " and " +
                            std::to_string(field.max));
    }
    for (int v = lo; v <= hi; v += step) out[v] = true;
    start = comma + 1;
  }
  return Status::Ok();
}

std::string_view ExpandMacro(std::string_view spec) {
  if (spec == "@yearly" || spec == "@annually") return "0 0 1 1 *";
  if (spec == "@monthly") return "0 0 1 * *";
  if (spec == "@weekly") return "0 0 * * 0";
  if (spec == "@daily" || spec == "@midnight") return "0 0 * * *";
  if (spec == "@hourly") return "0 * * * *";
  return {};
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view spec) {
  while (!spec.empty() && std::isspace(static_cast<unsigned char>(spec.front()))) {
    spec.remove_prefix(1);
  }
  while (!spec.empty() && std::isspace(static_cast<unsigned char>(spec.back()))) {
    spec.remove_suffix(1);
  }
  if (spec.starts_with('@')) {
    std::string_view expanded = ExpandMacro(spec);
    if (expanded.empty()) {
      return Err(StatusCode::kInvalid, "unknown cron macro \"" + std::string(spec) +
                                           "\" (known: @yearly, @annually, @monthly, @weekly, "
                                           "@daily, @midnight, @hourly)");
    }
    spec = expanded;
  }
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
    size_t start = i;
    while (i < spec.size() && !std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
    if (i > start) fields.push_back(spec.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return Err(StatusCode::kInvalid,
               "cron schedule \"" + std::string(spec) + "\" must have five fields (minute hour " +
                   "day-of-month month day-of-week), got " + std::to_string(fields.size()));
  }
  CronSchedule schedule;
  std::vector<bool> values;
  for (int f = 0; f < 5; ++f) {
    if (Status st = ParseField(kFields[f], fields[f], values); !st.ok()) return Err(std::move(st));
    for (int v = kFields[f].min; v <= kFields[f].max; ++v) {
      if (!values[v]) continue;
      switch (f) {
        case 0: schedule.minutes_.set(v); break;
        case 1: schedule.hours_.set(v); break;
        case 2: schedule.days_of_month_.set(v); break;
        case 3: schedule.months_.set(v); break;
        case 4: schedule.days_of_week_.set(v % 7); break;
      }
    }
  }
  schedule.day_of_month_star_ = fields[2].starts_with('*');
  schedule.day_of_week_star_ = fields[4].starts_with('*');
  return schedule;
}

bool CronSchedule::DayMatches(int day_of_month, int month, int day_of_week) const {
  if (!months_.test(month)) return false;
  const bool dom = days_of_month_.test(day_of_month);
  const bool dow = days_of_week_.test(day_of_week);
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

bool CronSchedule::Matches(std::chrono::system_clock::time_point t) const {
  using namespace std::chrono;
  const auto minute_start = floor<minutes>(t);
  const auto day = floor<days>(minute_start);
  const year_month_day ymd(day);
  const hh_mm_ss hms(minute_start - day);
  const weekday wd(day);
  return minutes_.test(hms.minutes().count()) && hours_.test(hms.hours().count()) &&
         DayMatches(static_cast<int>(static_cast<unsigned>(ymd.day())),
                    static_cast<int>(static_cast<unsigned>(ymd.month())), wd.c_encoding());
}

std::optional<std::chrono::system_clock::time_point> CronSchedule::Next(
    std::chrono::system_clock::time_point after) const {
  using namespace std::chrono;
  auto t = floor<minutes>(after) + minutes(1);
  const auto limit = t + days(5 * 366);
  while (t < limit) {
    const auto day = floor<days>(t);
    const year_month_day ymd(day);
    if (!DayMatches(static_cast<int>(static_cast<unsigned>(ymd.day())),
                    static_cast<int>(static_cast<unsigned>(ymd.month())),
                    weekday(day).c_encoding())) {
      t = day + days(1);
      continue;
    }
    const hh_mm_ss hms(t - day);
    if (!hours_.test(hms.hours().count())) {
      t = day + hms.hours() + hours(1);
      continue;
    }
    if (!minutes_.test(hms.minutes().count())) {
      t += minutes(1);
      continue;
    }
    return time_point_cast<system_clock::duration>(t);
  }
  return std::nullopt;
}

}  // namespace skiff
