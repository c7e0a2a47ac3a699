#include "base/quantity.h"

#include <algorithm>

namespace skiff {

namespace {

constexpr std::string_view kQuantityError =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

// Largest magnitude we accept: about 9.2e18 (int64 range of the integer value).
constexpr __int128 kNano = 1000000000;
constexpr __int128 kMaxNanos = static_cast<__int128>(INT64_MAX) * kNano;

__int128 Pow10(int e) {
  __int128 v = 1;
  for (int i = 0; i < e; ++i) v *= 10;
  return v;
}

std::string ToDecimal(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s += static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  if (neg) s += '-';
  std::reverse(s.begin(), s.end());
  return s;
}

const char* DecimalSuffix(int exp) {
  switch (exp) {
    case -9: return "n";
    case -6: return "u";
    case -3: return "m";
    case 0: return "";
    case 3: return "k";
    case 6: return "M";
    case 9: return "G";
    case 12: return "T";
    case 15: return "P";
    case 18: return "E";
  }
  return "";
}

// Kubernetes keeps the text of a quantity parsed on its fast path when that text is already
// in canonical shape, and prints it back verbatim: "+1", "01" and "1E3" stay as written.
// REQUIRES: `text` parsed successfully with `format`.
bool KeepsOriginalText(std::string_view text, Quantity::Format format) {
  if (text == "0") return true;
  size_t pos = 0;
  if (text[pos] == '+' || text[pos] == '-') ++pos;
  while (pos < text.size() && text[pos] == '0') ++pos;
  const size_t num_start = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  std::string num(text.substr(num_start, pos - num_start));
  if (num.empty()) num = "0";
  std::string denom;
  if (pos < text.size() && text[pos] == '.') {
    const size_t denom_start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    denom = std::string(text.substr(denom_start, pos - denom_start));
  }
  const std::string_view suffix = text.substr(pos);
  const std::string shifted = num + denom;
  int exponent = 0;
  if (format == Quantity::Format::kBinarySI) {
    static constexpr std::string_view kBinary = "KMGTPE";
    exponent = 10 * (static_cast<int>(kBinary.find(suffix[0])) + 1);
    if (!denom.empty()) return false;
    const int precision =
        15 - static_cast<int>(num.size()) - static_cast<int>(exponent * 3 / 10) - 1;
    if (precision < 0) return false;
    const __int128 value = std::stoll(shifted);
    if ((value << exponent) > INT64_MAX) return false;
    return exponent % 10 == 0 && (value & 7) != 0;
  }
  if (!suffix.empty()) {
    switch (suffix[0]) {
      case 'n': exponent = -9; break;
      case 'u': exponent = -6; break;
      case 'm': exponent = -3; break;
      case 'k': exponent = 3; break;
      case 'M': exponent = 6; break;
      case 'G': exponent = 9; break;
      case 'T': exponent = 12; break;
      case 'P': exponent = 15; break;
      default:
        if (suffix.size() == 1) {
          exponent = 18;  // "E"
        } else {
          exponent = std::stoi(std::string(suffix.substr(suffix[1] == '+' ? 2 : 1)));
        }
    }
  }
  if (18 - static_cast<int>(num.size() + denom.size()) < 0) return false;
  const int scale = exponent - static_cast<int>(denom.size());
  if (scale < -9) return false;
  return scale % 3 == 0 && !shifted.ends_with("000") && shifted[0] != '0';
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  Status bad(StatusCode::kInvalid, std::string(kQuantityError));
  if (text.empty()) return Err(bad);
  size_t pos = 0;
  bool negative = false;
  if (text[pos] == '+' || text[pos] == '-') {
    negative = text[pos] == '-';
    ++pos;
  }
  // Mantissa digits with an optional decimal point.
  __int128 digits = 0;
  int frac_digits = 0;
  bool seen_point = false, seen_digit = false;
  int significant = 0;
  while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) {
    if (text[pos] == '.') {
      if (seen_point) return Err(bad);
      seen_point = true;
    } else {
      seen_digit = true;
      if (significant < 30) {
        digits = digits * 10 + (text[pos] - '0');
        if (digits != 0) ++significant;
        if (seen_point) ++frac_digits;
      } else if (!seen_point) {
        return Err(bad);  // far too large
      }
    }
    ++pos;
  }
  if (!seen_digit) return Err(bad);
  std::string_view suffix = text.substr(pos);
  Quantity q;
  int exp10 = 0;
  __int128 multiplier = 1;
  if (suffix.empty()) {
    q.format_ = Format::kDecimalSI;
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    q.format_ = Format::kBinarySI;
    int k = 0;
    switch (suffix[0]) {
      case 'K': k = 1; break;
      case 'M': k = 2; break;
      case 'G': k = 3; break;
      case 'T': k = 4; break;
      case 'P': k = 5; break;
      case 'E': k = 6; break;
      default: return Err(bad);
    }
    for (int i = 0; i < k; ++i) multiplier *= 1024;
  } else if (suffix.size() == 1 &&
             std::string_view("numkMGTPE").find(suffix[0]) != std::string_view::npos) {
    q.format_ = Format::kDecimalSI;
    switch (suffix[0]) {
      case 'n': exp10 = -9; break;
      case 'u': exp10 = -6; break;
      case 'm': exp10 = -3; break;
      case 'k': exp10 = 3; break;
      case 'M': exp10 = 6; break;
      case 'G': exp10 = 9; break;
      case 'T': exp10 = 12; break;
      case 'P': exp10 = 15; break;
      case 'E': exp10 = 18; break;
    }
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    q.format_ = Format::kDecimalExponent;
    std::string_view e = suffix.substr(1);
    bool eneg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      eneg = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 3) return Err(bad);
    int v = 0;
    for (char c : e) {
      if (c < '0' || c > '9') return Err(bad);
      v = v * 10 + (c - '0');
    }
    exp10 = eneg ? -v : v;
  } else {
    return Err(bad);
  }
  // value = digits * 10^(exp10 - frac_digits) * multiplier; nanos = value * 10^9, rounded up.
  int shift = exp10 - frac_digits + 9;
  __int128 nanos = digits * multiplier;
  if (shift >= 0) {
    if (shift > 30) {
      if (nanos != 0) return Err(bad);
    } else {
      nanos *= Pow10(shift);
    }
  } else {
    int down = -shift;
    if (down > 38) {
      nanos = nanos != 0 ? 1 : 0;
    } else {
      __int128 div = Pow10(down);
      __int128 rem = nanos % div;
      nanos /= div;
      if (rem != 0) nanos += 1;  // round up to the nearest nano, as Kubernetes does
    }
  }
  if (nanos > kMaxNanos) return Err(bad);
  q.nanos_ = negative ? -nanos : nanos;
  if (KeepsOriginalText(text, q.format_)) q.original_ = std::string(text);
  return q;
}

Quantity Quantity::FromMilli(int64_t milli, Format format) {
  Quantity q;
  q.nanos_ = static_cast<__int128>(milli) * 1000000;
  q.format_ = format;
  return q;
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  Quantity q;
  q.nanos_ = static_cast<__int128>(value) * kNano;
  q.format_ = format;
  return q;
}

namespace {

// nanos / divisor, rounded away from zero, clamped to int64.
int64_t ScaleRoundingAway(__int128 nanos, __int128 divisor) {
  __int128 v = nanos / divisor;
  if (nanos % divisor != 0) v += nanos > 0 ? 1 : -1;
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

}  // namespace

int64_t Quantity::MilliValue() const { return ScaleRoundingAway(nanos_, 1000000); }

int64_t Quantity::Value() const { return ScaleRoundingAway(nanos_, kNano); }

std::string Quantity::ToString() const {
  if (!original_.empty()) return original_;
  if (nanos_ == 0) return "0";
  __int128 mag = nanos_ < 0 ? -nanos_ : nanos_;
  std::string sign = nanos_ < 0 ? "-" : "";
  Format format = format_;
  if (format == Format::kBinarySI) {
    bool integral = mag % kNano == 0;
    if (mag < 1024 * kNano || !integral) format = Format::kDecimalSI;
  }
  if (format == Format::kBinarySI) {
    static const char* const kSuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    __int128 v = mag / kNano;
    int k = 0;
    while (k < 6 && v % 1024 == 0) {
      v /= 1024;
      ++k;
    }
    return sign + ToDecimal(v) + kSuffix[k];
  }
  // Largest exponent (a multiple of 3, -9..18) that keeps the mantissa an integer.
  int exp = -9;
  __int128 mant = mag;
  while (exp < 18 && mant % 1000 == 0) {
    mant /= 1000;
    exp += 3;
  }
  if (format == Format::kDecimalExponent) {
    if (exp == 0) return sign + ToDecimal(mant);
    return sign + ToDecimal(mant) + "e" + std::to_string(exp);
  }
  return sign + ToDecimal(mant) + DecimalSuffix(exp);
}

}  // namespace skiff
