// Time as the Kubernetes API writes it, and an injectable clock.
// Thread safety: free functions are thread-safe; RealClock is stateless.
#pragma once

#include <chrono>
#include <mutex>
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
// Kubernetes' duration.ShortHumanDuration, one unit only: "45s", "5m", "3h", "400d", "3y".
// Like HumanDuration, "<invalid>" below -1s and "0s" for small negative skew.
std::string ShortHumanDuration(std::chrono::system_clock::duration d);

// A duration as Go's time.ParseDuration reads it (the form of kube-apiserver's duration
// flags): a sequence of decimal numbers with units "ns", "us", "µs", "ms", "s", "m", "h",
// e.g. "5m0s", "300s", "1.5h", "1h2m3s"; "0" alone is zero. An optional leading sign.
// nullopt for anything else (a missing unit, an unknown unit, an empty string, overflow).
std::optional<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock for tests: time stands still until Set or Advance moves it.
// Thread safety: all methods may be called concurrently.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint{}) : now_(start) {}

  // Clock
  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }

  void Set(TimePoint t) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = t;
  }
  void Advance(std::chrono::system_clock::duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;  // protected by mu_
};

}  // namespace skiff
