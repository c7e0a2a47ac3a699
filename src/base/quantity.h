// resource.Quantity: Kubernetes' fixed-point amounts ("100m", "1Gi", "1e3").
//
// Values are held exactly to nano precision (finer input is rounded up, as Kubernetes
// does) with the format the text used, and print in Kubernetes' canonical form:
// "1000m" -> "1", "0.1" -> "100m", "1536Mi" stays, "1.5Gi" -> "1536Mi", "2000" -> "2k".
// Thread safety: a value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace skiff {

class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;

  // Parses Kubernetes quantity syntax. Errors: kInvalid with Kubernetes' message
  // "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".
  static Result<Quantity> Parse(std::string_view text);
  static Quantity FromMilli(int64_t milli, Format format = Format::kDecimalSI);
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI);

  // Canonical text.
  std::string ToString() const;
  // The value in thousandths, rounded up (e.g. CPU millicores).
  int64_t MilliValue() const;
  // The value rounded up to an integer (e.g. bytes).
  int64_t Value() const;
  bool IsZero() const { return nanos_ == 0; }
  Format format() const { return format_; }

  Quantity& operator+=(const Quantity& other) {
    nanos_ += other.nanos_;
    return *this;
  }
  Quantity& operator-=(const Quantity& other) {
    nanos_ -= other.nanos_;
    return *this;
  }
  std::strong_ordering operator<=>(const Quantity& other) const { return nanos_ <=> other.nanos_; }
  bool operator==(const Quantity& other) const { return nanos_ == other.nanos_; }

 private:
  __int128 nanos_ = 0;  // value * 10^9
  Format format_ = Format::kDecimalSI;
};

}  // namespace skiff
