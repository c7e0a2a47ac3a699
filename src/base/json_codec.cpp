#include "base/json_codec.h"

#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <unordered_set>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

namespace skiff {
namespace {

namespace json = boost::json;

// Builds the document through a value_stack and, when asked, records repeated object keys
// with their field paths.
class DocumentBuilder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  explicit DocumentBuilder(std::vector<std::string>* duplicates) : duplicates_(duplicates) {}

  json::value Release() { return stack_.release(); }

  bool on_document_begin(json::error_code&) {
    stack_.reset();
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }

  bool on_array_begin(json::error_code&) {
    if (duplicates_ != nullptr) frames_.push_back(Frame{.is_object = false});
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack_.push_array(n);
    EndContainer();
    return true;
  }
  bool on_object_begin(json::error_code&) {
    if (duplicates_ != nullptr) frames_.push_back(Frame{.is_object = true});
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    stack_.push_object(n);
    EndContainer();
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_string(s);
    EndScalar();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_chars(s);
    if (duplicates_ != nullptr) key_buffer_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_key(s);
    if (duplicates_ != nullptr) {
      key_buffer_.append(s.data(), s.size());
      RecordKey();
      key_buffer_.clear();
    }
    return true;
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    stack_.push_int64(i);
    EndScalar();
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    stack_.push_uint64(u);
    EndScalar();
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    stack_.push_double(d);
    EndScalar();
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack_.push_bool(b);
    EndScalar();
    return true;
  }
  bool on_null(json::error_code&) {
    stack_.push_null();
    EndScalar();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  struct Frame {
    bool is_object = false;
    std::size_t index = 0;  // arrays: index of the element being parsed
    std::string key;        // objects: key of the member being parsed
    std::unordered_set<std::string> seen;
  };

  void EndScalar() {
    if (duplicates_ != nullptr && !frames_.empty() && !frames_.back().is_object) {
      ++frames_.back().index;
    }
  }
  void EndContainer() {
    if (duplicates_ == nullptr) return;
    frames_.pop_back();
    EndScalar();
  }

  void RecordKey() {
    Frame& frame = frames_.back();
    if (!frame.seen.insert(key_buffer_).second) {
      std::string path;
      for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
        const Frame& f = frames_[i];
        if (f.is_object) {
          if (!path.empty()) path += '.';
          path += f.key;
        } else {
          path += '[';
          path += std::to_string(f.index);
          path += ']';
        }
      }
      if (!path.empty()) path += '.';
      path += key_buffer_;
      duplicates_->push_back(std::move(path));
    }
    frame.key = key_buffer_;
  }

  json::value_stack stack_;
  std::vector<std::string>* duplicates_;
  std::vector<Frame> frames_;
  std::string key_buffer_;
};

void AppendEscapedString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    out->push_back('\\');
    switch (c) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '\b': out->push_back('b'); break;
      case '\f': out->push_back('f'); break;
      case '\n': out->push_back('n'); break;
      case '\r': out->push_back('r'); break;
      case '\t': out->push_back('t'); break;
      default:
        out->append("u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.data() + run_start, s.size() - run_start);
  out->push_back('"');
}

void AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buf[64];
  const double magnitude = std::fabs(d);
  const bool exponent_form = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
  auto result =
      std::to_chars(buf, buf + sizeof(buf), d,
                    exponent_form ? std::chars_format::scientific : std::chars_format::fixed);
  std::size_t n = static_cast<std::size_t>(result.ptr - buf);
  // Go trims the leading zero of a two-digit negative exponent: 1e-07 -> 1e-7.
  if (exponent_form && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
    buf[n - 2] = buf[n - 1];
    --n;
  }
  out->append(buf, n);
}

template <typename Value, typename Object>
Value* LookupImpl(Value& root, std::initializer_list<std::string_view> path) {
  Value* current = &root;
  for (std::string_view key : path) {
    Object* object = current->if_object();
    if (object == nullptr) return nullptr;
    auto it = object->find(key);
    if (it == object->end()) return nullptr;
    current = &it->value();
  }
  return current;
}

}  // namespace

Result<json::value> ParseJson(std::string_view text, int max_depth,
                              std::vector<std::string>* duplicate_fields) {
  if (duplicate_fields != nullptr) duplicate_fields->clear();
  json::parse_options options;
  options.max_depth = static_cast<std::size_t>(max_depth < 1 ? 1 : max_depth);
  try {
    json::basic_parser<DocumentBuilder> parser(options, duplicate_fields);
    json::error_code ec;
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (ec == json::error::too_deep) {
      return Err(StatusCode::kBadRequest,
                 "JSON nesting exceeds " + std::to_string(options.max_depth) + " levels");
    }
    if (ec) {
      return Err(StatusCode::kBadRequest,
                 "malformed JSON: " + ec.message() + " at offset " + std::to_string(consumed));
    }
    if (consumed != text.size()) {
      return Err(StatusCode::kBadRequest,
                 "malformed JSON: unexpected data after the top-level value at offset " +
                     std::to_string(consumed));
    }
    return parser.handler().Release();
  } catch (const std::bad_alloc&) {
    return Err(StatusCode::kRequestEntityTooLarge, "JSON document too large to decode");
  } catch (const std::exception& e) {
    return Err(StatusCode::kBadRequest, std::string("malformed JSON: ") + e.what());
  }
}

Result<json::value> ParseJsonStrict(std::string_view text, int max_depth) {
  std::vector<std::string> duplicates;
  auto parsed = ParseJson(text, max_depth, &duplicates);
  if (!parsed) return parsed;
  if (!duplicates.empty()) {
    return Err(StatusCode::kBadRequest, "duplicate field \"" + duplicates.front() + "\"");
  }
  return parsed;
}

void AppendJson(const json::value& value, std::string* out) {
  switch (value.kind()) {
    case json::kind::null: out->append("null"); return;
    case json::kind::bool_: out->append(value.get_bool() ? "true" : "false"); return;
    case json::kind::int64: out->append(std::to_string(value.get_int64())); return;
    case json::kind::uint64: out->append(std::to_string(value.get_uint64())); return;
    case json::kind::double_: AppendDouble(value.get_double(), out); return;
    case json::kind::string: {
      const json::string& s = value.get_string();
      AppendEscapedString(std::string_view(s.data(), s.size()), out);
      return;
    }
    case json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const json::value& item : value.get_array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendEscapedString(std::string_view(member.key().data(), member.key().size()), out);
        out->push_back(':');
        AppendJson(member.value(), out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string SerializeJson(const json::value& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

const json::value* Lookup(const json::value& root, std::initializer_list<std::string_view> path) {
  return LookupImpl<const json::value, const json::object>(root, path);
}

json::value* LookupMutable(json::value& root, std::initializer_list<std::string_view> path) {
  return LookupImpl<json::value, json::object>(root, path);
}

std::string GetString(const json::value& root, std::initializer_list<std::string_view> path,
                      std::string_view fallback) {
  const json::value* v = Lookup(root, path);
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  return std::string(v->get_string().data(), v->get_string().size());
}

int64_t GetInt(const json::value& root, std::initializer_list<std::string_view> path,
               int64_t fallback) {
  const json::value* v = Lookup(root, path);
  if (v == nullptr) return fallback;
  switch (v->kind()) {
    case json::kind::int64: return v->get_int64();
    case json::kind::uint64:
      if (v->get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return static_cast<int64_t>(v->get_uint64());
      }
      return fallback;
    case json::kind::double_: {
      const double d = v->get_double();
      // 2^63 is exactly representable; anything at or above it is out of range.
      if (std::isfinite(d) && std::trunc(d) == d && d >= -9223372036854775808.0 &&
          d < 9223372036854775808.0) {
        return static_cast<int64_t>(d);
      }
      return fallback;
    }
    default: return fallback;
  }
}

bool GetBool(const json::value& root, std::initializer_list<std::string_view> path, bool fallback) {
  const json::value* v = Lookup(root, path);
  if (v == nullptr || !v->is_bool()) return fallback;
  return v->get_bool();
}

namespace {

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

bool NumbersEqual(const json::value& a, const json::value& b) {
  if (a.is_double() || b.is_double()) {
    if (a.is_double() && b.is_double()) return a.get_double() == b.get_double();
    const double d = a.is_double() ? a.get_double() : b.get_double();
    const json::value& integer = a.is_double() ? b : a;
    if (!std::isfinite(d) || std::trunc(d) != d) return false;
    if (integer.is_int64()) {
      if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
      return static_cast<int64_t>(d) == integer.get_int64();
    }
    if (d < 0 || d >= 18446744073709551616.0) return false;
    return static_cast<uint64_t>(d) == integer.get_uint64();
  }
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const int64_t i = a.is_int64() ? a.get_int64() : b.get_int64();
  const uint64_t u = a.is_uint64() ? a.get_uint64() : b.get_uint64();
  return i >= 0 && static_cast<uint64_t>(i) == u;
}

}  // namespace

bool JsonEqual(const json::value& a, const json::value& b) {
  if (IsNumber(a) && IsNumber(b)) return NumbersEqual(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!JsonEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& member : x) {
        auto it = y.find(member.key());
        if (it == y.end() || !JsonEqual(member.value(), it->value())) return false;
      }
      return true;
    }
    default: return a == b;
  }
}

const char* JsonTypeName(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "null";
}

}  // namespace skiff
