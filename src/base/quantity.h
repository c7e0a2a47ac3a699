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

  // Canonical text. A parsed quantity already in canonical shape prints as written, as in
  // Kubernetes ("+1", "01" and "1E3" stay; "1000m" becomes "1").
  std::string ToString() const;
  // The value in thousandths (e.g. CPU millicores), rounded away from zero as Kubernetes'
  // ScaledValue does, and clamped to the int64 range.
  int64_t MilliValue() const;
  // The value as an integer (e.g. bytes), rounded away from zero and clamped like MilliValue.
  int64_t Value() const;
  bool IsZero() const { return nanos_ == 0; }
  Format format() const { return format_; }

  // Arithmetic keeps this quantity's format, except that a zero quantity takes the other's
  // (so summing "1Gi" values into Quantity() prints as "...Gi"), as Kubernetes does.
  Quantity& operator+=(const Quantity& other) {
    original_.clear();
    if (nanos_ == 0) format_ = other.format_;
    nanos_ += other.nanos_;
    return *this;
  }
  Quantity& operator-=(const Quantity& other) {
    original_.clear();
    if (nanos_ == 0) format_ = other.format_;
    nanos_ -= other.nanos_;
    return *this;
  }
  // -1, 0 or 1.
  int Sign() const { return nanos_ < 0 ? -1 : nanos_ > 0 ? 1 : 0; }
  std::strong_ordering operator<=>(const Quantity& other) const { return nanos_ <=> other.nanos_; }
  bool operator==(const Quantity& other) const { return nanos_ == other.nanos_; }

 private:
  __int128 nanos_ = 0;  // value * 10^9
  Format format_ = Format::kDecimalSI;
  // The parsed text when Kubernetes would print it back unchanged (see Parse), else "".
  std::string original_;
};

}  // namespace skiff
