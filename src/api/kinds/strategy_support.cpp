#include "api/kinds/strategy_support.h"

#include "base/label_selector.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <map>

#include "base/k8s_names.h"
#include "base/k8s_time.h"

namespace skiff::api::kinds {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Reading

const json::value* Find(const json::object& obj, JsonPath path) {
  const json::object* cur = &obj;
  const json::value* found = nullptr;
  size_t step = 0;
  for (std::string_view key : path) {
    if (!cur) return nullptr;
    found = cur->if_contains(key);
    if (!found) return nullptr;
    ++step;
    cur = step < path.size() ? found->if_object() : nullptr;
  }
  return found;
}

const json::object* FindObj(const json::object& obj, JsonPath path) {
  const json::value* v = Find(obj, path);
  return v ? v->if_object() : nullptr;
}

const json::array* FindArr(const json::object& obj, JsonPath path) {
  const json::value* v = Find(obj, path);
  return v ? v->if_array() : nullptr;
}

std::string_view FindStr(const json::object& obj, JsonPath path) {
  const json::value* v = Find(obj, path);
  if (!v) return {};
  const json::string* s = v->if_string();
  return s ? std::string_view(*s) : std::string_view();
}

std::optional<int64_t> FindInt(const json::object& obj, JsonPath path) {
  const json::value* v = Find(obj, path);
  if (!v) return std::nullopt;
  if (const int64_t* i = v->if_int64()) return *i;
  if (const uint64_t* u = v->if_uint64()) {
    return *u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(*u);
  }
  if (const double* d = v->if_double()) {
    if (*d >= -9.2e18 && *d <= 9.2e18) return static_cast<int64_t>(*d);
  }
  return std::nullopt;
}

bool FindBool(const json::object& obj, JsonPath path) {
  const json::value* v = Find(obj, path);
  if (!v) return false;
  const bool* b = v->if_bool();
  return b && *b;
}

size_t CountAt(const json::object& obj, JsonPath path) {
  const json::value* v = Find(obj, path);
  if (!v) return 0;
  if (const json::object* o = v->if_object()) return o->size();
  if (const json::array* a = v->if_array()) return a->size();
  return 0;
}

// ---------------------------------------------------------------------------
// Writing

json::object* FindMutObj(json::object& obj, JsonPath path) {
  return const_cast<json::object*>(FindObj(obj, path));
}

json::array* FindMutArr(json::object& obj, JsonPath path) {
  return const_cast<json::array*>(FindArr(obj, path));
}

json::object& EnsureObj(json::object& obj, JsonPath path) {
  json::object* cur = &obj;
  for (std::string_view key : path) {
    json::value& v = (*cur)[key];
    if (!v.is_object()) v = json::object();
    cur = &v.get_object();
  }
  return *cur;
}

void SetIfAbsent(json::object& obj, std::string_view key, const json::value& value) {
  const json::value* existing = obj.if_contains(key);
  if (existing && !existing->is_null()) return;
  obj[key] = value;
}

bool IsUnsetString(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (!v || v->is_null()) return true;
  const json::string* s = v->if_string();
  return s && s->empty();
}

namespace {

bool IsZero(const json::value* v) {
  if (!v) return true;
  switch (v->kind()) {
    case json::kind::null: return true;
    case json::kind::bool_: return !v->get_bool();
    case json::kind::int64: return v->get_int64() == 0;
    case json::kind::uint64: return v->get_uint64() == 0;
    case json::kind::double_: return v->get_double() == 0;
    case json::kind::string: return v->get_string().empty();
    case json::kind::array: return v->get_array().empty();
    case json::kind::object: return v->get_object().empty();
  }
  return false;
}

bool NumbersEqual(const json::value& a, const json::value& b) {
  if (a.is_double() || b.is_double()) {
    auto as_double = [](const json::value& v) {
      if (v.is_int64()) return static_cast<double>(v.get_int64());
      if (v.is_uint64()) return static_cast<double>(v.get_uint64());
      return v.get_double();
    };
    return as_double(a) == as_double(b);
  }
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const json::value& s = a.is_int64() ? a : b;
  const json::value& u = a.is_int64() ? b : a;
  return s.get_int64() >= 0 && static_cast<uint64_t>(s.get_int64()) == u.get_uint64();
}

}  // namespace

bool SemanticEqualMember(const json::value* a, const json::value* b) {
  bool za = IsZero(a);
  bool zb = IsZero(b);
  if (za || zb) return za && zb;
  return SemanticEqual(*a, *b);
}

bool SemanticEqual(const json::value& a, const json::value& b) {
  if (IsZero(&a) || IsZero(&b)) return IsZero(&a) && IsZero(&b);
  if (a.is_number() && b.is_number()) return NumbersEqual(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::string: return a.get_string() == b.get_string();
    case json::kind::bool_: return a.get_bool() == b.get_bool();
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!SemanticEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      for (const auto& kv : x) {
        if (!SemanticEqualMember(&kv.value(), y.if_contains(kv.key()))) return false;
      }
      for (const auto& kv : y) {
        if (!x.contains(kv.key()) && !IsZero(&kv.value())) return false;
      }
      return true;
    }
    default: return true;
  }
}

// ---------------------------------------------------------------------------
// Field paths

std::string Child(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string out(path);
  out += '.';
  out += name;
  return out;
}

std::string Index(std::string_view path, size_t i) {
  std::string out(path);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

std::string KeyOf(std::string_view path, std::string_view key) {
  std::string out(path);
  out += '[';
  out += key;
  out += ']';
  return out;
}

// ---------------------------------------------------------------------------
// Go value rendering

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

std::string HexByte(unsigned char c) {
  char buf[5];
  std::snprintf(buf, sizeof(buf), "\\x%02x", c);
  return buf;
}

}  // namespace

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out += HexByte(c);
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += HexByte(c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string GoStringMap(const json::object* map) {
  if (!map) return "map[string]string(nil)";
  std::map<std::string, std::string> sorted;
  for (const auto& kv : *map) {
    const json::string* v = kv.value().if_string();
    sorted.emplace(std::string(kv.key()), v ? std::string(*v) : std::string());
  }
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : sorted) {
    if (!first) out += ", ";
    first = false;
    out += GoQuote(k) + ":" + GoQuote(v);
  }
  return out + "}";
}

std::string GoStringSlice(const json::array* items) {
  if (!items) return "[]string(nil)";
  std::string out = "[]string{";
  bool first = true;
  for (const json::value& v : *items) {
    if (!first) out += ", ";
    first = false;
    const json::string* s = v.if_string();
    out += GoQuote(s ? std::string_view(*s) : std::string_view());
  }
  return out + "}";
}

std::string GoLabelSelector(const json::object* selector) {
  if (!selector) return "null";
  std::string out =
      "v1.LabelSelector{MatchLabels:" + GoStringMap(FindObj(*selector, {"matchLabels"})) +
      ", MatchExpressions:";
  const json::array* exprs = FindArr(*selector, {"matchExpressions"});
  if (!exprs) {
    out += "[]v1.LabelSelectorRequirement(nil)";
  } else {
    out += "[]v1.LabelSelectorRequirement{";
    bool first = true;
    for (const json::value& e : *exprs) {
      if (!first) out += ", ";
      first = false;
      const json::object* req = e.if_object();
      static const json::object kEmpty;
      const json::object& r = req ? *req : kEmpty;
      out += "v1.LabelSelectorRequirement{Key:" + GoQuote(FindStr(r, {"key"})) +
             ", Operator:" + GoQuote(FindStr(r, {"operator"})) +
             ", Values:" + GoStringSlice(FindArr(r, {"values"})) + "}";
    }
    out += "}";
  }
  return out + "}";
}

std::string GoIntOrString(const json::value* v) {
  if (v && v->is_string()) {
    return "intstr.IntOrString{Type:1, IntVal:0, StrVal:" + GoQuote(v->get_string()) + "}";
  }
  int64_t n = 0;
  if (v && v->is_int64()) n = v->get_int64();
  if (v && v->is_uint64()) n = static_cast<int64_t>(v->get_uint64());
  return "intstr.IntOrString{Type:0, IntVal:" + std::to_string(n) + ", StrVal:\"\"}";
}

// ---------------------------------------------------------------------------
// FieldErrors

void FieldErrors::Add(std::string type, std::string path, std::string message) {
  out_.push_back(StatusCause{std::move(type), std::move(message), std::move(path)});
}

void FieldErrors::Required(std::string path, std::string_view detail) {
  std::string msg = "Required value";
  if (!detail.empty()) {
    msg += ": ";
    msg += detail;
  }
  Add("FieldValueRequired", std::move(path), std::move(msg));
}

void FieldErrors::Invalid(std::string path, std::string_view shown, std::string_view detail) {
  std::string msg = "Invalid value: ";
  msg += shown;
  if (!detail.empty()) {
    msg += ": ";
    msg += detail;
  }
  Add("FieldValueInvalid", std::move(path), std::move(msg));
}

void FieldErrors::InvalidString(std::string path, std::string_view value, std::string_view detail) {
  Invalid(std::move(path), GoQuote(value), detail);
}

void FieldErrors::InvalidInt(std::string path, int64_t value, std::string_view detail) {
  Invalid(std::move(path), std::to_string(value), detail);
}

void FieldErrors::NotSupported(std::string path, std::string_view value,
                               std::initializer_list<std::string_view> supported) {
  std::vector<std::string> list(supported.begin(), supported.end());
  NotSupported(std::move(path), value, list);
}

void FieldErrors::NotSupported(std::string path, std::string_view value,
                               const std::vector<std::string>& supported) {
  std::string msg = "Unsupported value: " + GoQuote(value);
  if (!supported.empty()) {
    msg += ": supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i) msg += ", ";
      msg += GoQuote(supported[i]);
    }
  }
  Add("FieldValueNotSupported", std::move(path), std::move(msg));
}

void FieldErrors::Duplicate(std::string path, std::string_view shown) {
  Add("FieldValueDuplicate", std::move(path), "Duplicate value: " + std::string(shown));
}

void FieldErrors::Forbidden(std::string path, std::string_view detail) {
  std::string msg = "Forbidden";
  if (!detail.empty()) {
    msg += ": ";
    msg += detail;
  }
  Add("FieldValueForbidden", std::move(path), std::move(msg));
}

void FieldErrors::TooLong(std::string path, int64_t max_bytes) {
  Add("FieldValueTooLong", std::move(path),
      "Too long: may not be more than " + std::to_string(max_bytes) + " bytes");
}

void FieldErrors::TooMany(std::string path, int64_t actual, int64_t max_items) {
  Add("FieldValueTooMany", std::move(path),
      "Too many: " + std::to_string(actual) + ": must have at most " + std::to_string(max_items) +
          " items");
}

void FieldErrors::NotFound(std::string path, std::string_view shown) {
  Add("FieldValueNotFound", std::move(path), "Not found: " + std::string(shown));
}

void FieldErrors::InvalidEach(const std::string& path, std::string_view value,
                              const std::vector<std::string>& messages) {
  for (const std::string& m : messages) InvalidString(path, value, m);
}

// ---------------------------------------------------------------------------
// Small validators

std::vector<std::string> PortNumErrors(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {"must be between 1 and 65535, inclusive"};
}

std::vector<std::string> PortNameErrors(std::string_view name) {
  std::vector<std::string> errs;
  if (name.size() > 15) errs.push_back("must be no more than 15 characters");
  bool charset_ok = !name.empty();
  bool has_letter = false;
  for (char c : name) {
    bool lower = c >= 'a' && c <= 'z';
    if (lower) has_letter = true;
    if (!lower && !(c >= '0' && c <= '9') && c != '-') charset_ok = false;
  }
  if (!charset_ok) {
    errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (!has_letter) errs.push_back("must contain at least one letter (a-z)");
  if (name.find("--") != std::string_view::npos) {
    errs.push_back("must not contain consecutive hyphens");
  }
  if (!name.empty() && (name.front() == '-' || name.back() == '-')) {
    errs.push_back("must not begin or end with a hyphen");
  }
  return errs;
}

std::vector<std::string> ConfigMapKeyErrors(std::string_view key) { return IsConfigMapKey(key); }

std::vector<std::string> Dns1123LabelErrors(std::string_view value) {
  return IsDns1123Label(value);
}

std::vector<std::string> Dns1123SubdomainErrors(std::string_view value) {
  return IsDns1123Subdomain(value);
}

std::vector<std::string> QualifiedNameErrors(std::string_view value) {
  return IsQualifiedName(value);
}

std::vector<std::string> LabelValueErrors(std::string_view value) {
  return IsValidLabelValue(value);
}

bool IsIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool IsIpv6Address(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::vector<std::string> NonSpecialIpErrors(std::string_view ip) {
  std::string s(ip);
  unsigned char b[16] = {};
  std::vector<std::string> errs;
  if (inet_pton(AF_INET, s.c_str(), b) == 1) {
    if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) {
      errs.push_back("may not be unspecified (" + s + ")");
    }
    if (b[0] == 127) errs.push_back("may not be in the loopback range (127.0.0.0/8, ::1/128)");
    if (b[0] == 169 && b[1] == 254) {
      errs.push_back("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    }
    if (b[0] == 224 && b[1] == 0 && b[2] == 0) {
      errs.push_back("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    }
    return errs;
  }
  if (inet_pton(AF_INET6, s.c_str(), b) != 1) return {"must be a valid IP address"};
  bool zero = true;
  for (int i = 0; i < 15; ++i) zero = zero && b[i] == 0;
  if (zero && b[15] == 0) errs.push_back("may not be unspecified (" + s + ")");
  if (zero && b[15] == 1) errs.push_back("may not be in the loopback range (127.0.0.0/8, ::1/128)");
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
    errs.push_back("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
  }
  if (b[0] == 0xff && (b[1] & 0x0f) == 0x02) {
    errs.push_back("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
  }
  return errs;
}

void ValidateIpAddress(const std::string& path, std::string_view ip, FieldErrors& errs) {
  if (!IsIpAddress(ip)) {
    errs.InvalidString(path, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  }
}

// ---------------------------------------------------------------------------
// Time

std::optional<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view rfc3339) {
  return ParseRfc3339(rfc3339);
}

std::string HumanDurationSince(std::chrono::system_clock::time_point t,
                               std::chrono::system_clock::time_point now) {
  return HumanDuration(now - t);
}

std::string TimestampSince(std::string_view rfc3339, std::chrono::system_clock::time_point now) {
  if (rfc3339.empty()) return "<unknown>";
  auto t = ParseRfc3339(rfc3339);
  return t ? HumanDuration(now - *t) : "<unknown>";
}

// ---------------------------------------------------------------------------
// Label selectors (metav1.LabelSelector as JSON)

std::string LabelSelectorString(const json::object* selector) {
  if (!selector) return "";
  auto parsed = LabelSelector::FromJson(json::value(*selector));
  return parsed ? parsed->ToString() : std::string();
}

bool LabelSelectorMatches(const json::object* selector, const json::object* labels) {
  if (!selector) return false;
  auto parsed = LabelSelector::FromJson(json::value(*selector));
  if (!parsed) return false;
  json::value label_value = labels ? json::value(*labels) : json::value(json::object());
  return parsed->Matches(&label_value);
}

void ValidateLabelMap(const json::object& labels, const std::string& path, FieldErrors& errs) {
  for (const auto& kv : labels) {
    errs.InvalidEach(path, kv.key(), QualifiedNameErrors(kv.key()));
    const json::string* v = kv.value().if_string();
    std::string_view value = v ? std::string_view(*v) : std::string_view();
    errs.InvalidEach(path, value, LabelValueErrors(value));
  }
}

void ValidateLabelSelector(const json::object& selector, const std::string& path,
                           FieldErrors& errs) {
  if (const json::object* match = FindObj(selector, {"matchLabels"})) {
    ValidateLabelMap(*match, Child(path, "matchLabels"), errs);
  }
  const json::array* exprs = FindArr(selector, {"matchExpressions"});
  if (!exprs) return;
  for (size_t i = 0; i < exprs->size(); ++i) {
    const json::object* e = (*exprs)[i].if_object();
    if (!e) continue;
    std::string ep = Index(Child(path, "matchExpressions"), i);
    std::string_view op = FindStr(*e, {"operator"});
    size_t n_values = CountAt(*e, {"values"});
    if (op == "In" || op == "NotIn") {
      if (n_values == 0) {
        errs.Required(Child(ep, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (n_values > 0) {
        errs.Forbidden(Child(ep, "values"),
                       "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
    } else {
      errs.InvalidString(Child(ep, "operator"), op, "not a valid selector operator");
    }
    std::string_view key = FindStr(*e, {"key"});
    errs.InvalidEach(Child(ep, "key"), key, QualifiedNameErrors(key));
    if (const json::array* values = FindArr(*e, {"values"})) {
      for (size_t k = 0; k < values->size(); ++k) {
        const json::string* s = (*values)[k].if_string();
        std::string_view value = s ? std::string_view(*s) : std::string_view();
        errs.InvalidEach(Index(Child(ep, "values"), k), value, LabelValueErrors(value));
      }
    }
  }
}

}  // namespace skiff::api::kinds
