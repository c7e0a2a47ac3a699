#include "api/kinds/cron_schedule.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

namespace skiff::api::kinds {

namespace {

struct Bounds {
  int64_t min;
  int64_t max;
  const std::map<std::string, int64_t>* names;
};

const std::map<std::string, int64_t> kMonthNames = {
    {"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},  {"may", 5},  {"jun", 6},
    {"jul", 7}, {"aug", 8}, {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, int64_t> kDayNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                  {"thu", 4}, {"fri", 5}, {"sat", 6}};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// Go's strings.Fields: runs of ASCII white space separate fields.
std::vector<std::string> Fields(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// strconv.Atoi, with its error text.
std::optional<int64_t> Atoi(const std::string& s, std::string* err) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) {
    *err = "strconv.Atoi: parsing \"" + s + "\": invalid syntax";
    return std::nullopt;
  }
  int64_t n = 0;
  bool overflow = false;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      *err = "strconv.Atoi: parsing \"" + s + "\": invalid syntax";
      return std::nullopt;
    }
    if (n > (INT64_MAX - (c - '0')) / 10) overflow = true;
    if (!overflow) n = n * 10 + (c - '0');
  }
  if (overflow) {
    *err = "strconv.Atoi: parsing \"" + s + "\": value out of range";
    return std::nullopt;
  }
  return negative ? -n : n;
}

std::optional<int64_t> MustParseInt(const std::string& expr, std::string* err) {
  std::string atoi_err;
  auto n = Atoi(expr, &atoi_err);
  if (!n) {
    *err = "failed to parse int from " + expr + ": " + atoi_err;
    return std::nullopt;
  }
  if (*n < 0) {
    *err = "negative number (" + std::to_string(*n) + ") not allowed: " + expr;
    return std::nullopt;
  }
  return n;
}

std::optional<int64_t> ParseIntOrName(const std::string& expr, const Bounds& b, std::string* err) {
  if (b.names) {
    auto it = b.names->find(Lower(expr));
    if (it != b.names->end()) return it->second;
  }
  return MustParseInt(expr, err);
}

// One comma-separated element of a field: "*", "5", "1-5", "*/10", "mon-fri/2".
std::string RangeError(const std::string& expr, const Bounds& b) {
  std::vector<std::string> range_and_step = Split(expr, '/');
  std::vector<std::string> low_and_high = Split(range_and_step[0], '-');
  bool single = low_and_high.size() == 1;
  int64_t start = 0, end = 0, step = 1;
  std::string err;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = b.min;
    end = b.max;
  } else {
    auto s = ParseIntOrName(low_and_high[0], b, &err);
    if (!s) return err;
    start = *s;
    if (low_and_high.size() == 1) {
      end = start;
    } else if (low_and_high.size() == 2) {
      auto e = ParseIntOrName(low_and_high[1], b, &err);
      if (!e) return err;
      end = *e;
    } else {
      return "too many hyphens: " + expr;
    }
  }
  if (range_and_step.size() == 2) {
    auto s = MustParseInt(range_and_step[1], &err);
    if (!s) return err;
    step = *s;
    if (single) end = b.max;
  } else if (range_and_step.size() > 2) {
    return "too many slashes: " + expr;
  }
  if (start < b.min) {
    return "beginning of range (" + std::to_string(start) + ") below minimum (" +
           std::to_string(b.min) + "): " + expr;
  }
  if (end > b.max) {
    return "end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(b.max) +
           "): " + expr;
  }
  if (start > end) {
    return "beginning of range (" + std::to_string(start) + ") beyond end of range (" +
           std::to_string(end) + "): " + expr;
  }
  if (step == 0) return "step of range should be a positive number: " + expr;
  return {};
}

std::string FieldError(const std::string& field, const Bounds& b) {
  for (const std::string& expr : Split(field, ',')) {
    std::string err = RangeError(expr, b);
    if (!err.empty()) return err;
  }
  return {};
}

// Go's time.ParseDuration, for "@every <duration>": true when `s` is a valid duration.
bool IsGoDuration(std::string_view s) {
  if (s.empty()) return false;
  if (s[0] == '+' || s[0] == '-') s.remove_prefix(1);
  if (s == "0") return true;
  if (s.empty()) return false;
  static const char* const kUnits[] = {"ns", "us", "µs", "μs", "ms", "s", "m", "h"};
  while (!s.empty()) {
    size_t i = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
        digits = true;
      }
    }
    if (!digits) return false;
    s.remove_prefix(i);
    size_t unit_len = 0;
    for (const char* u : kUnits) {
      std::string_view unit(u);
      if (s.starts_with(unit) && unit.size() > unit_len) {
        // "m" must not swallow the "ms" unit.
        unit_len = unit.size();
      }
    }
    if (unit_len == 0) return false;
    s.remove_prefix(unit_len);
  }
  return true;
}

std::string GoStringSliceOf(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? " " : "") + items[i];
  return out + "]";
}

}  // namespace

std::string CronScheduleError(std::string_view schedule) {
  if (schedule.empty()) return "empty spec string";
  std::string_view spec = schedule;
  if (spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=")) {
    size_t eq = spec.find('=');
    size_t space = spec.find(' ');
    std::string zone(spec.substr(eq + 1, space == std::string_view::npos ? space : space - eq - 1));
    if (!TimeZoneError(zone).empty()) {
      return "provided bad location " + zone + ": unknown time zone " + zone;
    }
    if (space == std::string_view::npos) {
      spec = {};
    } else {
      spec = spec.substr(space);
      while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
    }
  }
  if (spec.starts_with("@")) {
    static const char* const kDescriptors[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                               "@daily",  "@midnight", "@hourly"};
    for (const char* d : kDescriptors) {
      if (spec == d) return {};
    }
    if (spec.starts_with("@every ")) {
      std::string_view duration = spec.substr(7);
      if (IsGoDuration(duration)) return {};
      return "failed to parse duration " + std::string(spec) + ": time: invalid duration \"" +
             std::string(duration) + "\"";
    }
    return "unrecognized descriptor: " + std::string(spec);
  }
  std::vector<std::string> fields = Fields(spec);
  if (fields.size() != 5) {
    return "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " +
           GoStringSliceOf(fields);
  }
  const Bounds kBounds[] = {{0, 59, nullptr},
                            {0, 23, nullptr},
                            {1, 31, nullptr},
                            {1, 12, &kMonthNames},
                            {0, 6, &kDayNames}};
  for (size_t i = 0; i < 5; ++i) {
    std::string err = FieldError(fields[i], kBounds[i]);
    if (!err.empty()) return err;
  }
  return {};
}

std::string TimeZoneError(std::string_view zone) {
  if (zone == "UTC" || zone.empty()) return {};
  // Go refuses names that could escape the zoneinfo directory.
  for (const std::string& part : Split(zone, '/')) {
    if (part.empty() || part == "." || part == ".." || part.front() == '-') {
      return "unknown time zone " + std::string(zone);
    }
  }
  for (const char* root : {"/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/etc/zoneinfo/"}) {
    std::filesystem::path path = std::string(root) + std::string(zone);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    if (in && std::string_view(magic, 4) == "TZif") return {};
  }
  return "unknown time zone " + std::string(zone);
}

}  // namespace skiff::api::kinds
