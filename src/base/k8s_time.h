// Time as the Kubernetes API writes it, and an injectable clock.
// Thread safety: free functions are thread-safe; RealClock is stateless.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace skiff {

using TimePoint = std::chrono::system_clock::time_point;

// metav1.Time: RFC 3339 in UTC with seconds precision, e.g. "2024-01-02T03:04:05Z".
std::string FormatRfc3339(TimePoint t);
// metav1.MicroTime: "2024-01-02T03:04:05.123456Z".
std::string FormatRfc3339Micro(TimePoint t);
// Parses RFC 3339 (fractional seconds and numeric offsets allowed). nullopt if invalid.
std::optional<TimePoint> ParseRfc3339(std::string_view text);

// The age as `kubectl get` prints it (Kubernetes' duration.HumanDuration):
// "45s", "5m10s", "3h", "3h5m", "2d4h", "400d", "3y2d".
std::string HumanDuration(std::chrono::system_clock::duration d);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace skiff
