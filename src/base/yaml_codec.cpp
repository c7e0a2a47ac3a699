#include "base/yaml_codec.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <sstream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace skiff {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------
// Scalar resolution (go-yaml v2's resolve(), as Kubernetes sees it).
// ---------------------------------------------------------------------------------------

enum class ScalarKind { kNull, kBool, kInt, kUint, kFloat, kString };

struct Resolved {
  ScalarKind kind = ScalarKind::kString;
  bool boolean = false;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double real = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Go's strconv.ParseUint(s, 0, 64): optional 0x/0o/0b prefix, a leading 0 means octal.
bool GoParseUintBase0(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  unsigned base = 10;
  if (s[0] == '0') {
    if (s.size() >= 3 && (s[1] == 'b' || s[1] == 'B')) {
      base = 2;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && (s[1] == 'o' || s[1] == 'O')) {
      base = 8;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && (s[1] == 'x' || s[1] == 'X')) {
      base = 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  uint64_t value = 0;
  for (char c : s) {
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'z') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'Z') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
    if (digit >= base) return false;
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) return false;
    value = value * base + digit;
  }
  *out = value;
  return true;
}

// Go's strconv.ParseInt(s, 0, 64).
bool GoParseIntBase0(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t magnitude;
  if (!GoParseUintBase0(s, &magnitude)) return false;
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  if (negative) {
    if (magnitude > kLimit) return false;
    *out = magnitude == kLimit ? std::numeric_limits<int64_t>::min()
                               : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude >= kLimit) return false;
    *out = static_cast<int64_t>(magnitude);
  }
  return true;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  } else {
    std::size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && IsDigit(s[i])) ++i;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

// Go's strconv.ParseFloat for text already known to match IsYamlStyleFloat: fails on
// overflow (as Go reports ErrRange), while underflow yields a signed zero.
bool ParseDecimalFloat(std::string_view s, double* out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // Decide between overflow and underflow from the decimal magnitude.
    std::size_t i = 0;
    int64_t magnitude = 0;
    bool seen_nonzero = false;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (s[i] != '0') seen_nonzero = true;
      if (seen_nonzero) ++magnitude;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      for (; i < s.size() && IsDigit(s[i]); ++i) {
        if (seen_nonzero) continue;
        if (s[i] == '0') {
          --magnitude;
        } else {
          seen_nonzero = true;
        }
      }
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      int64_t exponent = 0;
      std::string_view e = s.substr(i + 1);
      bool exp_negative = false;
      if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
        exp_negative = e[0] == '-';
        e.remove_prefix(1);
      }
      for (char c : e) {
        exponent = std::min<int64_t>(exponent * 10 + (c - '0'), 1'000'000'000);
      }
      magnitude += exp_negative ? -exponent : exponent;
    }
    if (magnitude > 0) return false;
    value = 0;
  } else if (ec != std::errc() || ptr != s.data() + s.size()) {
    return false;
  }
  *out = negative ? -value : value;
  return true;
}

char ResolveHint(std::string_view s) {
  if (s.empty()) return 'N';
  switch (s[0]) {
    case '+':
    case '-': return 'S';
    case '.': return '.';
    case 'y':
    case 'Y':
    case 'n':
    case 'N':
    case 't':
    case 'T':
    case 'f':
    case 'F':
    case 'o':
    case 'O':
    case '~': return 'M';
    default: return IsDigit(s[0]) ? 'D' : 0;
  }
}

// The fixed words of go-yaml v2's resolve table.
bool LookupResolveWord(std::string_view s, Resolved* out) {
  static const std::map<std::string_view, Resolved> kWords = [] {
    std::map<std::string_view, Resolved> m;
    auto set_bool = [&m](std::initializer_list<std::string_view> words, bool value) {
      for (auto w : words) m[w] = Resolved{.kind = ScalarKind::kBool, .boolean = value};
    };
    set_bool({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}, true);
    set_bool({"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}, false);
    for (auto w : {"", "~", "null", "Null", "NULL"}) m[w] = Resolved{.kind = ScalarKind::kNull};
    const double inf = std::numeric_limits<double>::infinity();
    for (auto w : {".nan", ".NaN", ".NAN"}) {
      m[w] = Resolved{.kind = ScalarKind::kFloat, .real = std::numeric_limits<double>::quiet_NaN()};
    }
    for (auto w : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}) {
      m[w] = Resolved{.kind = ScalarKind::kFloat, .real = inf};
    }
    for (auto w : {"-.inf", "-.Inf", "-.INF"}) {
      m[w] = Resolved{.kind = ScalarKind::kFloat, .real = -inf};
    }
    return m;
  }();
  auto it = kWords.find(s);
  if (it == kWords.end()) return false;
  *out = it->second;
  return true;
}

// Resolves a plain (unquoted, untagged) scalar. Timestamps stay strings, as they do when
// go-yaml decodes into interface{}.
Resolved ResolvePlain(std::string_view s) {
  Resolved r;
  const char hint = ResolveHint(s);
  if (hint == 0) return r;
  if (LookupResolveWord(s, &r)) return r;
  if (hint == '.') {
    double d;
    if (IsYamlStyleFloat(s) && ParseDecimalFloat(s, &d)) {
      return Resolved{.kind = ScalarKind::kFloat, .real = d};
    }
  } else if (hint == 'D' || hint == 'S') {
    std::string plain;
    plain.reserve(s.size());
    for (char c : s) {
      if (c != '_') plain.push_back(c);
    }
    int64_t i;
    if (GoParseIntBase0(plain, &i)) return Resolved{.kind = ScalarKind::kInt, .integer = i};
    uint64_t u;
    if (GoParseUintBase0(plain, &u)) {
      return Resolved{.kind = ScalarKind::kUint, .unsigned_integer = u};
    }
    double d;
    if (IsYamlStyleFloat(plain) && ParseDecimalFloat(plain, &d)) {
      return Resolved{.kind = ScalarKind::kFloat, .real = d};
    }
  }
  return Resolved{};
}

// Go's time.Parse against go-yaml's timestamp layouts ("2006-1-2T15:4:5.999999999Z07:00",
// the same with 't', "2006-1-2 15:4:5.999999999", "2006-1-2"). Used only to decide quoting.
bool IsGoYamlTimestamp(std::string_view s) {
  if (s.size() < 5) return false;
  for (int i = 0; i < 4; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  if (s[4] != '-') return false;
  std::size_t pos = 5;
  auto get_num = [&](int* out) {
    if (pos >= s.size() || !IsDigit(s[pos])) return false;
    int v = s[pos++] - '0';
    if (pos < s.size() && IsDigit(s[pos])) v = v * 10 + (s[pos++] - '0');
    *out = v;
    return true;
  };
  const int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int month, day;
  if (!get_num(&month) || pos >= s.size() || s[pos++] != '-' || !get_num(&day)) return false;
  if (month < 1 || month > 12) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max_day = month == 2 && leap ? 29 : kDays[month - 1];
  if (day < 1 || day > max_day) return false;
  if (pos == s.size()) return true;  // "2006-1-2"
  const char sep = s[pos++];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  int hour, minute, second;
  if (!get_num(&hour) || pos >= s.size() || s[pos++] != ':' || !get_num(&minute) ||
      pos >= s.size() || s[pos++] != ':' || !get_num(&second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (pos + 1 < s.size() && (s[pos] == '.' || s[pos] == ',') && IsDigit(s[pos + 1])) {
    ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
  }
  if (sep == ' ') return pos == s.size();
  if (pos < s.size() && s[pos] == 'Z') return pos + 1 == s.size();
  if (s.size() - pos != 6) return false;
  if ((s[pos] != '+' && s[pos] != '-') || !IsDigit(s[pos + 1]) || !IsDigit(s[pos + 2]) ||
      s[pos + 3] != ':' || !IsDigit(s[pos + 4]) || !IsDigit(s[pos + 5])) {
    return false;
  }
  const int zh = (s[pos + 1] - '0') * 10 + (s[pos + 2] - '0');
  const int zm = (s[pos + 4] - '0') * 10 + (s[pos + 5] - '0');
  return zh <= 24 && zm <= 60;
}

// ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
bool IsBase60Float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= s.size() || !IsDigit(s[i])) return false;
  ++i;
  while (i < s.size() && (IsDigit(s[i]) || s[i] == '_')) ++i;
  int groups = 0;
  while (i < s.size() && s[i] == ':') {
    ++i;
    if (i + 1 < s.size() && s[i] >= '0' && s[i] <= '5' && IsDigit(s[i + 1])) {
      i += 2;
    } else if (i < s.size() && IsDigit(s[i])) {
      ++i;
    } else {
      return false;
    }
    ++groups;
  }
  if (groups == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && (IsDigit(s[i]) || s[i] == '_')) ++i;
  }
  return i == s.size();
}

// True when a plain scalar with this text would not read back as the same string.
bool NeedsQuotesToStayString(std::string_view s) {
  // A plain "<<" key reads back as a merge key.
  if (s == "<<") return true;
  const char hint = ResolveHint(s);
  if (hint != 0) {
    Resolved r;
    if (LookupResolveWord(s, &r)) return true;
    if ((hint == 'D' || hint == 'S') && IsGoYamlTimestamp(s)) return true;
    if (ResolvePlain(s).kind != ScalarKind::kString) return true;
  }
  return IsBase60Float(s);
}

// ---------------------------------------------------------------------------------------
// Go float formatting.
// ---------------------------------------------------------------------------------------

// strconv.FormatFloat(d, 'g', -1, bits) for finite d.
std::string GoFormatFloatG(double d, bool single_precision) {
  char buf[64];
  std::to_chars_result r =
      single_precision ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(d),
                                       std::chars_format::scientific)
                       : std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
  // sci looks like "-1.2345e+06".
  std::string out;
  std::size_t i = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    i = 1;
  }
  const std::size_t e_pos = sci.find('e');
  std::string digits;
  for (std::size_t k = i; k < e_pos; ++k) {
    if (sci[k] != '.') digits.push_back(sci[k]);
  }
  int exponent = 0;
  std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exponent);
  if (digits == "0") return out + "0";
  // Shortest 'g' switches to exponent form below 1e-4 and from 1e6 (eprec = 6).
  if (exponent < -4 || exponent >= 6) {
    // %e: d.ddde±XX with at least two exponent digits.
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(exponent < 0 ? '-' : '+');
    const int mag = exponent < 0 ? -exponent : exponent;
    if (mag < 10) out.push_back('0');
    out.append(std::to_string(mag));
    return out;
  }
  // %f with the shortest digits.
  if (exponent < 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out.append(digits);
  } else if (static_cast<std::size_t>(exponent) + 1 >= digits.size()) {
    out.append(digits);
    out.append(static_cast<std::size_t>(exponent) + 1 - digits.size(), '0');
  } else {
    out.append(digits, 0, static_cast<std::size_t>(exponent) + 1);
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(exponent) + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding: yaml-cpp events -> JSON values.
// ---------------------------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it is malformed
// (bad lead or continuation byte, overlong form, surrogate, beyond U+10FFFF).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t w;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    w = 2;
    cp = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    w = 3;
    cp = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    w = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + w > s.size()) return 0;
  for (std::size_t k = 1; k < w; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  if ((w == 2 && cp < 0x80) || (w == 3 && cp < 0x800) || (w == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    return 0;
  }
  return w;
}

// Offset of the first malformed UTF-8 byte, or npos.
std::size_t FindInvalidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t w = Utf8SequenceLength(s, i);
    if (w == 0) return i;
    i += w;
  }
  return std::string_view::npos;
}

// yaml-cpp decodes the escapes \N and \_ to the single bytes 0x85 and 0xA0; re-encode any
// stray byte as the code point of the same value so strings stay valid UTF-8.
std::string RepairStrayBytes(const std::string& s) {
  if (FindInvalidUtf8(s) == std::string_view::npos) return s;
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t w = Utf8SequenceLength(s, i);
    if (w == 0) {
      const auto c = static_cast<unsigned char>(s[i]);
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      ++i;
    } else {
      out.append(s, i, w);
      i += w;
    }
  }
  return out;
}

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";
// Upper bound on bytes copied by alias expansion, whatever the alias ratio.
constexpr int64_t kMaxAliasBytes = int64_t{64} << 20;

struct DecodeError {
  Status status;
};

[[noreturn]] void Fail(std::string message) {
  throw DecodeError{Status(StatusCode::kBadRequest, std::move(message))};
}

std::string MarkSuffix(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return " at line " + std::to_string(mark.line + 1) + ", column " +
         std::to_string(mark.column + 1);
}

// Size accounting for a finished node, kept per anchor for the alias guards.
struct NodeStats {
  int64_t nodes = 0;
  int64_t bytes = 0;
  int depth = 0;  // collections nested inside, the node itself included
};

// go-yaml's allowedAliasRatio.
double AllowedAliasRatio(int64_t decode_count) {
  constexpr double kLow = 400000, kHigh = 4000000;
  const auto n = static_cast<double>(decode_count);
  if (n <= kLow) return 0.99;
  if (n >= kHigh) return 0.10;
  return 0.99 - 0.89 * ((n - kLow) / (kHigh - kLow));
}

std::string ShortTag(const std::string& tag) {
  if (tag.compare(0, kTagPrefix.size(), kTagPrefix) == 0) {
    return "!!" + tag.substr(kTagPrefix.size());
  }
  return tag;
}

class JsonBuilder : public YAML::EventHandler {
 public:
  JsonBuilder(int max_depth, std::vector<std::string>* duplicates)
      : max_depth_(max_depth), duplicates_(duplicates) {}

  std::vector<json::value>& documents() { return documents_; }

  // EventHandler
  void OnDocumentStart(const YAML::Mark& mark) override {
    // yaml-cpp can get stuck on some malformed input, starting empty documents at the same
    // place forever; a document that starts where the previous one did made no progress.
    if (mark.pos == last_document_pos_) {
      Fail("malformed YAML: unexpected content" + MarkSuffix(mark));
    }
    last_document_pos_ = mark.pos;
    stack_.clear();
    anchors_.clear();
    has_root_ = false;
    root_ = nullptr;
  }
  void OnDocumentEnd() override {
    if (has_root_ && !root_.is_null()) documents_.push_back(std::move(root_));
    has_root_ = false;
  }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    CountNode();
    Complete(json::value(nullptr), NodeStats{.nodes = 1, .bytes = 8}, anchor, false, mark);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end())
      Fail("alias refers to a node that is not complete" + MarkSuffix(mark));
    const NodeStats stats = it->second.stats;
    decode_count_ += stats.nodes;
    alias_count_ += stats.nodes;
    alias_bytes_ += stats.bytes;
    if ((alias_count_ > 100 && decode_count_ > 1000 &&
         static_cast<double>(alias_count_) / static_cast<double>(decode_count_) >
             AllowedAliasRatio(decode_count_)) ||
        alias_bytes_ > kMaxAliasBytes) {
      Fail("yaml: document contains excessive aliasing");
    }
    if (static_cast<int64_t>(stack_.size()) + stats.depth > max_depth_) FailDepth();
    Complete(json::value(it->second.value), stats, YAML::NullAnchor, false, mark);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    CountNode();
    const bool plain = tag == "?";
    const bool merge_key =
        (plain && value == "<<") || tag == std::string(kTagPrefix) + "merge" || tag == "!!merge";
    Complete(ScalarValue(tag, RepairStrayBytes(value), mark),
             NodeStats{.nodes = 1, .bytes = 8 + static_cast<int64_t>(value.size())}, anchor,
             merge_key, mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    StartCollection(false, anchor, mark);
  }
  void OnSequenceEnd() override { EndCollection(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    StartCollection(true, anchor, mark);
  }
  void OnMapEnd() override { EndCollection(); }

 private:
  struct Frame {
    bool is_map = false;
    json::value value;
    YAML::anchor_t anchor = YAML::NullAnchor;
    NodeStats stats;
    // Mappings: the key waiting for its value, and entries brought in by merge keys.
    bool have_key = false;
    bool key_is_merge = false;
    std::string key;
    json::object merged;
    // Sequences: index of the next element.
    std::size_t index = 0;
  };

  struct Anchored {
    json::value value;
    NodeStats stats;
  };

  [[noreturn]] void FailDepth() {
    Fail("YAML nesting exceeds " + std::to_string(max_depth_) + " levels");
  }

  void CountNode() { ++decode_count_; }

  void StartCollection(bool is_map, YAML::anchor_t anchor, const YAML::Mark& mark) {
    CountNode();
    if (!stack_.empty() && stack_.back().is_map && !stack_.back().have_key) {
      Fail(std::string("unsupported map key: a ") + (is_map ? "mapping" : "sequence") +
           " cannot be a key" + MarkSuffix(mark));
    }
    if (static_cast<int64_t>(stack_.size()) + 1 > max_depth_) FailDepth();
    Frame frame;
    frame.is_map = is_map;
    frame.anchor = anchor;
    if (is_map) {
      frame.value = json::object();
    } else {
      frame.value = json::array();
    }
    frame.stats = NodeStats{.nodes = 1, .bytes = 16, .depth = 1};
    stack_.push_back(std::move(frame));
  }

  void EndCollection() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.is_map && !frame.merged.empty()) {
      json::object& object = frame.value.get_object();
      for (auto& member : frame.merged) {
        if (!object.contains(member.key())) object.emplace(member.key(), std::move(member.value()));
      }
    }
    Complete(std::move(frame.value), frame.stats, frame.anchor, false, YAML::Mark::null_mark());
  }

  json::value ScalarValue(const std::string& tag, const std::string& text, const YAML::Mark& mark) {
    if (tag == "!") return json::string(text);
    if (tag == "?") return FromResolved(ResolvePlain(text), text);
    std::string short_tag = ShortTag(tag);
    if (short_tag == "!!str" || short_tag == "!!timestamp" || short_tag == "!!binary" ||
        short_tag == "!!merge") {
      return json::string(text);
    }
    Resolved r = ResolvePlain(text);
    auto mismatch = [&](const char* got) {
      Fail(std::string("cannot decode ") + got + " `" + text + "` as a " + short_tag +
           MarkSuffix(mark));
    };
    const char* got = "!!str";
    switch (r.kind) {
      case ScalarKind::kNull: got = "!!null"; break;
      case ScalarKind::kBool: got = "!!bool"; break;
      case ScalarKind::kInt:
      case ScalarKind::kUint: got = "!!int"; break;
      case ScalarKind::kFloat: got = "!!float"; break;
      case ScalarKind::kString: got = "!!str"; break;
    }
    if (short_tag == "!!int") {
      if (r.kind != ScalarKind::kInt && r.kind != ScalarKind::kUint) mismatch(got);
    } else if (short_tag == "!!float") {
      if (r.kind == ScalarKind::kInt) {
        r = Resolved{.kind = ScalarKind::kFloat, .real = static_cast<double>(r.integer)};
      } else if (r.kind == ScalarKind::kUint) {
        r = Resolved{.kind = ScalarKind::kFloat, .real = static_cast<double>(r.unsigned_integer)};
      } else if (r.kind != ScalarKind::kFloat) {
        mismatch(got);
      }
    } else if (short_tag == "!!bool") {
      if (r.kind != ScalarKind::kBool) mismatch(got);
    } else if (short_tag == "!!null") {
      if (r.kind != ScalarKind::kNull) mismatch(got);
    } else {
      // Unknown tags leave the text as a string, as go-yaml does.
      return json::string(text);
    }
    return FromResolved(r, text);
  }

  static json::value FromResolved(const Resolved& r, const std::string& text) {
    switch (r.kind) {
      case ScalarKind::kNull: return nullptr;
      case ScalarKind::kBool: return r.boolean;
      case ScalarKind::kInt: return r.integer;
      case ScalarKind::kUint: return r.unsigned_integer;
      case ScalarKind::kFloat: {
        const double d = r.real;
        // Kubernetes carries the result as JSON, where an integral float reads back as an
        // integer.
        if (std::isfinite(d) && std::trunc(d) == d && d >= -9223372036854775808.0 &&
            d < 9223372036854775808.0) {
          return static_cast<int64_t>(d);
        }
        return d;
      }
      case ScalarKind::kString: return json::string(text);
    }
    return nullptr;
  }

  // Converts a decoded scalar to a map key the way sigs.k8s.io/yaml does.
  static std::string KeyFromValue(const json::value& v, const YAML::Mark& mark) {
    switch (v.kind()) {
      case json::kind::string: return std::string(v.get_string());
      case json::kind::int64: return std::to_string(v.get_int64());
      case json::kind::uint64: return std::to_string(v.get_uint64());
      case json::kind::bool_: return v.get_bool() ? "true" : "false";
      case json::kind::double_: {
        const double d = v.get_double();
        if (std::isnan(d)) return ".nan";
        if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
        return GoFormatFloatG(d, /*single_precision=*/true);
      }
      case json::kind::null: Fail("unsupported map key: null" + MarkSuffix(mark));
      case json::kind::array:
        Fail("unsupported map key: a sequence cannot be a key" + MarkSuffix(mark));
      case json::kind::object:
        Fail("unsupported map key: a mapping cannot be a key" + MarkSuffix(mark));
    }
    Fail("unsupported map key");
  }

  std::string CurrentPath(const std::string& key) const {
    std::string path;
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      if (f.is_map) {
        if (!path.empty()) path += '.';
        path += f.key;
      } else {
        path += '[' + std::to_string(f.index) + ']';
      }
    }
    if (!path.empty()) path += '.';
    path += key;
    return path;
  }

  void MergeInto(Frame& frame, const json::value& source, const YAML::Mark& mark) {
    auto merge_one = [&frame](const json::object& object) {
      for (const auto& member : object) {
        if (!frame.merged.contains(member.key()))
          frame.merged.emplace(member.key(), member.value());
      }
    };
    if (source.is_object()) {
      merge_one(source.get_object());
      return;
    }
    if (source.is_array()) {
      for (const json::value& item : source.get_array()) {
        if (!item.is_object()) {
          Fail("map merge requires map or sequence of maps as the value" + MarkSuffix(mark));
        }
        merge_one(item.get_object());
      }
      return;
    }
    Fail("map merge requires map or sequence of maps as the value" + MarkSuffix(mark));
  }

  void Complete(json::value value, const NodeStats& stats, YAML::anchor_t anchor, bool merge_key,
                const YAML::Mark& mark) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = Anchored{value, stats};
    if (stack_.empty()) {
      CheckRepresentable(value, mark);
      root_ = std::move(value);
      has_root_ = true;
      return;
    }
    Frame& top = stack_.back();
    top.stats.nodes += stats.nodes;
    top.stats.bytes += stats.bytes;
    top.stats.depth = std::max(top.stats.depth, stats.depth + 1);
    if (top.is_map && !top.have_key) {
      top.key = KeyFromValue(value, mark);
      top.key_is_merge = merge_key;
      top.have_key = true;
      return;
    }
    if (top.is_map) {
      top.have_key = false;
      if (top.key_is_merge) {
        MergeInto(top, value, mark);
        return;
      }
      CheckRepresentable(value, mark);
      json::object& object = top.value.get_object();
      auto it = object.find(top.key);
      if (it != object.end()) {
        if (duplicates_ != nullptr) duplicates_->push_back(CurrentPath(top.key));
        it->value() = std::move(value);
      } else {
        object.emplace(top.key, std::move(value));
      }
      return;
    }
    CheckRepresentable(value, mark);
    top.value.get_array().push_back(std::move(value));
    ++top.index;
  }

  static void CheckRepresentable(const json::value& v, const YAML::Mark& mark) {
    if (!v.is_double() || std::isfinite(v.get_double())) return;
    const double d = v.get_double();
    Fail(std::string("json: unsupported value: ") +
         (std::isnan(d) ? "NaN"
          : d > 0       ? "+Inf"
                        : "-Inf") +
         MarkSuffix(mark));
  }

  const int max_depth_;
  std::vector<std::string>* const duplicates_;
  std::vector<json::value> documents_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  json::value root_;
  bool has_root_ = false;
  int last_document_pos_ = -1;
  int64_t decode_count_ = 0;
  int64_t alias_count_ = 0;
  int64_t alias_bytes_ = 0;
};

// ---------------------------------------------------------------------------------------
// Encoding: a port of the parts of go-yaml v2's emitter that kubectl's output exercises.
// ---------------------------------------------------------------------------------------

int Utf8Width(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 0;
}

// Replaces bytes that are not well-formed UTF-8 by U+FFFD.
std::string SanitizeUtf8(std::string_view s) {
  if (FindInvalidUtf8(s) == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t w = Utf8SequenceLength(s, i);
    if (w == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.substr(i, w));
      i += w;
    }
  }
  return out;
}

bool AtIs(std::string_view s, std::size_t i, char c) { return i < s.size() && s[i] == c; }
bool IsSpaceAt(std::string_view s, std::size_t i) { return AtIs(s, i, ' '); }
bool IsBlankAt(std::string_view s, std::size_t i) { return AtIs(s, i, ' ') || AtIs(s, i, '\t'); }
bool IsBreakAt(std::string_view s, std::size_t i) {
  if (i >= s.size()) return false;
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == '\r' || c == '\n') return true;
  if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) return true;
  if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
       static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
    return true;
  }
  return false;
}
bool IsBlankzAt(std::string_view s, std::size_t i) {
  return i >= s.size() || IsBlankAt(s, i) || IsBreakAt(s, i) || s[i] == '\0';
}
bool IsBomAt(std::string_view s, std::size_t i) {
  return i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xEF &&
         static_cast<unsigned char>(s[i + 1]) == 0xBB &&
         static_cast<unsigned char>(s[i + 2]) == 0xBF;
}
bool IsPrintableAt(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  const unsigned c = b(0);
  return c == 0x0A || (c >= 0x20 && c <= 0x7E) || (c == 0xC2 && b(1) >= 0xA0) ||
         (c > 0xC2 && c < 0xED) || (c == 0xED && b(1) < 0xA0) || c == 0xEE ||
         (c == 0xEF && !(b(1) == 0xBB && b(2) == 0xBF) &&
          !(b(1) == 0xBF && (b(2) == 0xBE || b(2) == 0xBF)));
}

enum class ScalarStyle { kPlain, kSingleQuoted, kDoubleQuoted, kLiteral };

struct ScalarAnalysis {
  bool multiline = false;
  bool flow_plain_allowed = true;
  bool block_plain_allowed = true;
  bool single_quoted_allowed = true;
  bool block_allowed = true;
};

ScalarAnalysis AnalyzeScalar(std::string_view value) {
  ScalarAnalysis a;
  if (value.empty()) {
    a.flow_plain_allowed = false;
    a.block_allowed = false;
    return a;
  }
  bool block_indicators = false, flow_indicators = false, line_breaks = false,
       special_characters = false, leading_space = false, leading_break = false,
       trailing_space = false, trailing_break = false, break_space = false, space_break = false,
       preceded_by_whitespace = true, previous_space = false, previous_break = false;
  if (value.size() >= 3 && (value.substr(0, 3) == "---" || value.substr(0, 3) == "...")) {
    block_indicators = true;
    flow_indicators = true;
  }
  for (std::size_t i = 0; i < value.size();) {
    const std::size_t w =
        static_cast<std::size_t>(std::max(1, Utf8Width(static_cast<unsigned char>(value[i]))));
    const bool followed_by_whitespace = i + w >= value.size() || IsBlankAt(value, i + w);
    const char c = value[i];
    if (i == 0) {
      switch (c) {
        case '#':
        case ',':
        case '[':
        case ']':
        case '{':
        case '}':
        case '&':
        case '*':
        case '!':
        case '|':
        case '>':
        case '\'':
        case '"':
        case '%':
        case '@':
        case '`':
          flow_indicators = true;
          block_indicators = true;
          break;
        case '?':
        case ':':
          flow_indicators = true;
          if (followed_by_whitespace) block_indicators = true;
          break;
        case '-':
          if (followed_by_whitespace) {
            flow_indicators = true;
            block_indicators = true;
          }
          break;
        default: break;
      }
    } else {
      switch (c) {
        case ',':
        case '?':
        case '[':
        case ']':
        case '{':
        case '}': flow_indicators = true; break;
        case ':':
          flow_indicators = true;
          if (followed_by_whitespace) block_indicators = true;
          break;
        case '#':
          if (preceded_by_whitespace) {
            flow_indicators = true;
            block_indicators = true;
          }
          break;
        default: break;
      }
    }
    // Line and paragraph separators are breaks only to YAML 1.1 readers; escaping them
    // keeps the text readable by any parser.
    if (!IsPrintableAt(value, i) || (IsBreakAt(value, i) && c != '\n' && c != '\r')) {
      special_characters = true;
    }
    if (IsSpaceAt(value, i)) {
      if (i == 0) leading_space = true;
      if (i + w == value.size()) trailing_space = true;
      if (previous_break) break_space = true;
      previous_space = true;
      previous_break = false;
    } else if (IsBreakAt(value, i)) {
      line_breaks = true;
      if (i == 0) leading_break = true;
      if (i + w == value.size()) trailing_break = true;
      if (previous_space) space_break = true;
      previous_space = false;
      previous_break = true;
    } else {
      previous_space = false;
      previous_break = false;
    }
    preceded_by_whitespace = IsBlankzAt(value, i);
    i += w;
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
  }
  if (trailing_space) a.block_allowed = false;
  if (break_space) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
  }
  if (space_break || special_characters) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
    a.block_allowed = false;
  }
  if (line_breaks) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
  }
  if (flow_indicators) a.flow_plain_allowed = false;
  if (block_indicators) a.block_plain_allowed = false;
  return a;
}

bool IsLetterRune(uint32_t r) {
  return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80;
}
bool IsDigitRune(uint32_t r) { return r >= '0' && r <= '9'; }

std::vector<uint32_t> ToRunes(std::string_view s) {
  std::vector<uint32_t> runes;
  runes.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int w = std::max(1, Utf8Width(c));
    uint32_t cp = w == 1 ? c : w == 2 ? (c & 0x1Fu) : w == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int k = 1; k < w && i + static_cast<std::size_t>(k) < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3Fu);
    }
    runes.push_back(cp);
    i += static_cast<std::size_t>(w);
  }
  return runes;
}

// go-yaml's key order: letters after other characters, digit runs compared numerically.
bool KeyLess(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    const bool al = IsLetterRune(a[i]);
    const bool bl = IsLetterRune(b[i]);
    if (al && bl) return a[i] < b[i];
    if (al || bl) return bl;
    int64_t an = 0, bn = 0;
    if (a[i] == '0' || b[i] == '0') {
      for (std::size_t j = i; j-- > 0 && IsDigitRune(a[j]);) {
        if (a[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    std::size_t ai = i, bi = i;
    for (; ai < a.size() && IsDigitRune(a[ai]); ++ai) {
      an = an * 10 + static_cast<int64_t>(a[ai] - '0');
    }
    for (; bi < b.size() && IsDigitRune(b[bi]); ++bi) {
      bn = bn * 10 + static_cast<int64_t>(b[bi] - '0');
    }
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

// A merge sort: stays in bounds whatever the comparator does.
template <typename T, typename Less>
void MergeSort(std::vector<T>& items, Less less) {
  if (items.size() < 2) return;
  std::vector<T> buffer(items.size());
  for (std::size_t width = 1; width < items.size(); width *= 2) {
    for (std::size_t lo = 0; lo < items.size(); lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, items.size());
      const std::size_t hi = std::min(lo + 2 * width, items.size());
      std::size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) buffer[k++] = less(items[j], items[i]) ? items[j++] : items[i++];
      while (i < mid) buffer[k++] = items[i++];
      while (j < hi) buffer[k++] = items[j++];
    }
    items.swap(buffer);
  }
}

class YamlEmitter {
 public:
  std::string Emit(const json::value& root) {
    EmitNode(root, /*mapping_context=*/false, /*simple_key_context=*/false);
    WriteIndent();  // document end
    return std::move(out_);
  }

 private:
  static constexpr int kBestIndent = 2;
  static constexpr int kBestWidth = 80;

  void Put(char c) {
    out_.push_back(c);
    ++column_;
  }
  void PutBreak() {
    out_.push_back('\n');
    column_ = 0;
  }
  // Copies one (UTF-8) character of `s` at `*i`.
  void Write(std::string_view s, std::size_t* i) {
    const std::size_t w =
        static_cast<std::size_t>(std::max(1, Utf8Width(static_cast<unsigned char>(s[*i]))));
    out_.append(s.substr(*i, w));
    *i += w;
    ++column_;
  }
  void WriteBreak(std::string_view s, std::size_t* i) {
    if (s[*i] == '\n') {
      PutBreak();
      ++*i;
    } else {
      Write(s, i);
      column_ = 0;
    }
  }
  void WriteIndent() {
    const int indent = std::max(indent_, 0);
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) PutBreak();
    while (column_ < indent) Put(' ');
    whitespace_ = true;
    indention_ = true;
  }
  void WriteIndicator(std::string_view indicator, bool need_whitespace, bool is_whitespace,
                      bool is_indention) {
    if (need_whitespace && !whitespace_) Put(' ');
    for (std::size_t i = 0; i < indicator.size();) Write(indicator, &i);
    whitespace_ = is_whitespace;
    indention_ = indention_ && is_indention;
  }
  void IncreaseIndent(bool flow, bool indentless) {
    indents_.push_back(indent_);
    if (indent_ < 0) {
      indent_ = flow ? kBestIndent : 0;
    } else if (!indentless) {
      indent_ += kBestIndent;
    }
  }
  void PopIndent() {
    indent_ = indents_.back();
    indents_.pop_back();
  }

  void EmitNode(const json::value& v, bool mapping_context, bool simple_key_context) {
    switch (v.kind()) {
      case json::kind::object:
        if (v.get_object().empty()) {
          EmitEmptyFlow("{", "}");
        } else {
          EmitBlockMapping(v.get_object());
        }
        return;
      case json::kind::array:
        if (v.get_array().empty()) {
          EmitEmptyFlow("[", "]");
        } else {
          EmitBlockSequence(v.get_array(), mapping_context);
        }
        return;
      case json::kind::string:
        EmitString(std::string_view(v.get_string()), simple_key_context);
        return;
      case json::kind::int64:
        EmitScalar(std::to_string(v.get_int64()), ScalarStyle::kPlain, simple_key_context);
        return;
      case json::kind::uint64:
        EmitScalar(std::to_string(v.get_uint64()), ScalarStyle::kPlain, simple_key_context);
        return;
      case json::kind::double_:
        EmitScalar(FormatDouble(v.get_double()), ScalarStyle::kPlain, simple_key_context);
        return;
      case json::kind::bool_:
        EmitScalar(v.get_bool() ? "true" : "false", ScalarStyle::kPlain, simple_key_context);
        return;
      case json::kind::null: EmitScalar("null", ScalarStyle::kPlain, simple_key_context); return;
    }
  }

  // A double as it reads after a trip through JSON text and go-yaml: integral values are
  // integers, others use strconv's 'g' format.
  static std::string FormatDouble(double d) {
    if (std::isnan(d)) return ".nan";
    if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
    if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
        std::fabs(d) < 1e21) {
      return std::to_string(static_cast<int64_t>(d));
    }
    return GoFormatFloatG(d, /*single_precision=*/false);
  }

  void EmitEmptyFlow(std::string_view open, std::string_view close) {
    WriteIndicator(open, true, true, false);
    IncreaseIndent(true, false);
    PopIndent();
    WriteIndicator(close, false, false, false);
  }

  void EmitBlockMapping(const json::object& object) {
    struct Entry {
      std::vector<uint32_t> runes;
      const json::key_value_pair* member;
    };
    std::vector<Entry> entries;
    entries.reserve(object.size());
    for (const auto& member : object) {
      entries.push_back(Entry{ToRunes(std::string_view(member.key())), &member});
    }
    MergeSort(entries, [](const Entry& a, const Entry& b) { return KeyLess(a.runes, b.runes); });

    IncreaseIndent(false, false);
    for (const Entry& entry : entries) {
      WriteIndent();
      const std::string key = SanitizeUtf8(std::string_view(entry.member->key()));
      const ScalarAnalysis analysis = AnalyzeScalar(key);
      if (!analysis.multiline && key.size() <= 128) {
        EmitString(key, /*simple_key_context=*/true);
        WriteIndicator(":", false, false, false);
      } else {
        WriteIndicator("?", true, false, true);
        EmitString(key, /*simple_key_context=*/false);
        WriteIndent();
        WriteIndicator(":", true, false, true);
      }
      EmitNode(entry.member->value(), /*mapping_context=*/true, /*simple_key_context=*/false);
    }
    PopIndent();
  }

  void EmitBlockSequence(const json::array& array, bool mapping_context) {
    IncreaseIndent(false, mapping_context && !indention_);
    for (const json::value& item : array) {
      WriteIndent();
      WriteIndicator("-", true, false, true);
      EmitNode(item, /*mapping_context=*/false, /*simple_key_context=*/false);
    }
    PopIndent();
  }

  void EmitString(std::string_view raw, bool simple_key_context) {
    const std::string s = SanitizeUtf8(raw);
    ScalarStyle style = ScalarStyle::kPlain;
    if (NeedsQuotesToStayString(s)) {
      style = ScalarStyle::kDoubleQuoted;
    } else if (s.find('\n') != std::string::npos) {
      style = ScalarStyle::kLiteral;
    }
    EmitScalar(s, style, simple_key_context);
  }

  void EmitScalar(std::string_view value, ScalarStyle style, bool simple_key_context) {
    const ScalarAnalysis a = AnalyzeScalar(value);
    if (simple_key_context && a.multiline) style = ScalarStyle::kDoubleQuoted;
    if (style == ScalarStyle::kPlain) {
      if (!a.block_plain_allowed) style = ScalarStyle::kSingleQuoted;
      if (value.empty() && simple_key_context) style = ScalarStyle::kSingleQuoted;
    }
    if (style == ScalarStyle::kSingleQuoted && !a.single_quoted_allowed) {
      style = ScalarStyle::kDoubleQuoted;
    }
    if (style == ScalarStyle::kLiteral && (!a.block_allowed || simple_key_context)) {
      style = ScalarStyle::kDoubleQuoted;
    }
    IncreaseIndent(true, false);
    const bool allow_breaks = !simple_key_context;
    switch (style) {
      case ScalarStyle::kPlain: WritePlain(value, allow_breaks); break;
      case ScalarStyle::kSingleQuoted: WriteSingleQuoted(value, allow_breaks); break;
      case ScalarStyle::kDoubleQuoted: WriteDoubleQuoted(value, allow_breaks); break;
      case ScalarStyle::kLiteral: WriteLiteral(value); break;
    }
    PopIndent();
  }

  void WritePlain(std::string_view value, bool allow_breaks) {
    if (!whitespace_) Put(' ');
    bool spaces = false;
    bool breaks = false;
    for (std::size_t i = 0; i < value.size();) {
      if (IsSpaceAt(value, i)) {
        if (allow_breaks && !spaces && column_ > kBestWidth && !IsSpaceAt(value, i + 1)) {
          WriteIndent();
          ++i;
        } else {
          Write(value, &i);
        }
        spaces = true;
      } else if (IsBreakAt(value, i)) {
        if (!breaks && value[i] == '\n') PutBreak();
        WriteBreak(value, &i);
        indention_ = true;
        breaks = true;
      } else {
        if (breaks) WriteIndent();
        Write(value, &i);
        indention_ = false;
        spaces = false;
        breaks = false;
      }
    }
    whitespace_ = false;
    indention_ = false;
  }

  void WriteSingleQuoted(std::string_view value, bool allow_breaks) {
    WriteIndicator("'", true, false, false);
    bool spaces = false;
    bool breaks = false;
    for (std::size_t i = 0; i < value.size();) {
      if (IsSpaceAt(value, i)) {
        if (allow_breaks && !spaces && column_ > kBestWidth && i > 0 && i < value.size() - 1 &&
            !IsSpaceAt(value, i + 1)) {
          WriteIndent();
          ++i;
        } else {
          Write(value, &i);
        }
        spaces = true;
      } else if (IsBreakAt(value, i)) {
        if (!breaks && value[i] == '\n') PutBreak();
        WriteBreak(value, &i);
        indention_ = true;
        breaks = true;
      } else {
        if (breaks) WriteIndent();
        if (value[i] == '\'') Put('\'');
        Write(value, &i);
        indention_ = false;
        spaces = false;
        breaks = false;
      }
    }
    WriteIndicator("'", false, false, false);
    whitespace_ = false;
    indention_ = false;
  }

  void WriteDoubleQuoted(std::string_view value, bool allow_breaks) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    bool spaces = false;
    WriteIndicator("\"", true, false, false);
    for (std::size_t i = 0; i < value.size();) {
      const auto octet = static_cast<unsigned char>(value[i]);
      if (!IsPrintableAt(value, i) || IsBomAt(value, i) || IsBreakAt(value, i) || value[i] == '"' ||
          value[i] == '\\') {
        const int w = std::max(1, Utf8Width(octet));
        uint32_t v = w == 1   ? (octet & 0x7Fu)
                     : w == 2 ? (octet & 0x1Fu)
                     : w == 3 ? (octet & 0x0Fu)
                              : (octet & 0x07u);
        for (int k = 1; k < w && i + static_cast<std::size_t>(k) < value.size(); ++k) {
          v = (v << 6) +
              (static_cast<unsigned char>(value[i + static_cast<std::size_t>(k)]) & 0x3Fu);
        }
        i += static_cast<std::size_t>(w);
        Put('\\');
        switch (v) {
          case 0x00: Put('0'); break;
          case 0x07: Put('a'); break;
          case 0x08: Put('b'); break;
          case 0x09: Put('t'); break;
          case 0x0A: Put('n'); break;
          case 0x0B: Put('v'); break;
          case 0x0C: Put('f'); break;
          case 0x0D: Put('r'); break;
          case 0x1B: Put('e'); break;
          case 0x22: Put('"'); break;
          case 0x5C: Put('\\'); break;
          case 0x85: Put('N'); break;
          case 0xA0: Put('_'); break;
          case 0x2028: Put('L'); break;
          case 0x2029: Put('P'); break;
          default: {
            int digits;
            if (v <= 0xFF) {
              Put('x');
              digits = 2;
            } else if (v <= 0xFFFF) {
              Put('u');
              digits = 4;
            } else {
              Put('U');
              digits = 8;
            }
            for (int k = (digits - 1) * 4; k >= 0; k -= 4) Put(kHex[(v >> k) & 0x0F]);
          }
        }
        spaces = false;
      } else if (IsSpaceAt(value, i)) {
        if (allow_breaks && !spaces && column_ > kBestWidth && i > 0 && i < value.size() - 1) {
          WriteIndent();
          if (IsSpaceAt(value, i + 1)) Put('\\');
          ++i;
        } else {
          Write(value, &i);
        }
        spaces = true;
      } else {
        Write(value, &i);
        spaces = false;
      }
    }
    WriteIndicator("\"", false, false, false);
    whitespace_ = false;
    indention_ = false;
  }

  void WriteLiteral(std::string_view value) {
    WriteIndicator("|", true, false, false);
    // Block scalar hints: an explicit indentation when the text starts with a space or a
    // break, and the chomping indicator.
    if (IsSpaceAt(value, 0) || IsBreakAt(value, 0)) {
      const char hint[2] = {static_cast<char>('0' + kBestIndent), '\0'};
      WriteIndicator(hint, false, false, false);
    }
    std::size_t last = value.size() - 1;
    while (last > 0 && (static_cast<unsigned char>(value[last]) & 0xC0) == 0x80) --last;
    if (!IsBreakAt(value, last)) {
      WriteIndicator("-", false, false, false);
    } else if (last == 0) {
      WriteIndicator("+", false, false, false);
    } else {
      std::size_t prev = last - 1;
      while (prev > 0 && (static_cast<unsigned char>(value[prev]) & 0xC0) == 0x80) --prev;
      if (IsBreakAt(value, prev)) WriteIndicator("+", false, false, false);
    }
    PutBreak();
    indention_ = true;
    whitespace_ = true;
    bool breaks = true;
    for (std::size_t i = 0; i < value.size();) {
      if (IsBreakAt(value, i)) {
        WriteBreak(value, &i);
        indention_ = true;
        breaks = true;
      } else {
        if (breaks) WriteIndent();
        Write(value, &i);
        indention_ = false;
        breaks = false;
      }
    }
  }

  std::string out_;
  int column_ = 0;
  int indent_ = -1;
  std::vector<int> indents_;
  bool whitespace_ = true;
  bool indention_ = true;
};

}  // namespace

Result<std::vector<json::value>> ParseYamlDocuments(std::string_view text, int max_depth,
                                                    std::vector<std::string>* duplicate_fields) {
  if (duplicate_fields != nullptr) duplicate_fields->clear();
  if (const std::size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Err(StatusCode::kBadRequest,
               "malformed YAML: invalid UTF-8 at offset " + std::to_string(bad));
  }
  JsonBuilder builder(max_depth < 1 ? 1 : max_depth, duplicate_fields);
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const DecodeError& e) {
    return Err(e.status);
  } catch (const YAML::Exception& e) {
    return Err(StatusCode::kBadRequest, "malformed YAML: " + e.msg + MarkSuffix(e.mark));
  } catch (const std::bad_alloc&) {
    return Err(StatusCode::kRequestEntityTooLarge, "YAML document too large to decode");
  } catch (const std::exception& e) {
    return Err(StatusCode::kBadRequest, std::string("malformed YAML: ") + e.what());
  }
  return std::move(builder.documents());
}

Result<json::value> ParseYaml(std::string_view text, int max_depth) {
  auto documents = ParseYamlDocuments(text, max_depth);
  if (!documents) return Err(documents.error());
  if (documents->empty()) return json::value(nullptr);
  if (documents->size() > 1) {
    return Err(StatusCode::kBadRequest,
               "expected a single YAML document, found " + std::to_string(documents->size()));
  }
  return std::move(documents->front());
}

std::string ToYaml(const json::value& value) { return YamlEmitter().Emit(value); }

}  // namespace skiff
