#include "api/custom_resource.h"

#include <cctype>
#include <cmath>
#include <optional>
#include <regex>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/base64.h"
#include "base/k8s_time.h"

namespace skiff::api {

namespace json = boost::json;
using kinds::FieldErrors;
using kinds::Find;
using kinds::FindArr;
using kinds::FindBool;
using kinds::FindObj;
using kinds::FindStr;

// ---------------------------------------------------------------------------------------
// Simple JSON paths

namespace {

// Splits ".a.b[0]['c']" into steps; a step is a field name or an index. False on syntax
// Kubernetes' simple paths do not allow.
struct PathStep {
  std::string field;
  std::optional<size_t> index;
};

bool ParsePath(std::string_view path, std::vector<PathStep>& steps) {
  if (path.starts_with("{") && path.ends_with("}")) path = path.substr(1, path.size() - 2);
  if (path.empty() || path[0] != '.') return false;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j == i + 1) return false;
      steps.push_back({std::string(path.substr(i + 1, j - i - 1)), std::nullopt});
      i = j;
    } else if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return false;
      std::string_view inner = path.substr(i + 1, close - i - 1);
      if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') &&
          inner.back() == inner.front()) {
        steps.push_back({std::string(inner.substr(1, inner.size() - 2)), std::nullopt});
      } else {
        if (inner.empty()) return false;
        size_t n = 0;
        for (char c : inner) {
          if (c < '0' || c > '9') return false;
          n = n * 10 + static_cast<size_t>(c - '0');
        }
        steps.push_back({std::string(), n});
      }
      i = close + 1;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

const json::value* EvaluateJsonPath(const json::value& obj, std::string_view path) {
  std::vector<PathStep> steps;
  if (!ParsePath(path, steps)) return nullptr;
  const json::value* cur = &obj;
  for (const PathStep& step : steps) {
    if (step.index) {
      const json::array* a = cur->if_array();
      if (!a || *step.index >= a->size()) return nullptr;
      cur = &(*a)[*step.index];
    } else {
      const json::object* o = cur->if_object();
      if (!o) return nullptr;
      cur = o->if_contains(step.field);
      if (!cur) return nullptr;
    }
  }
  return cur;
}

bool SetJsonPath(json::object& obj, std::string_view path, json::value value) {
  std::vector<PathStep> steps;
  if (!ParsePath(path, steps) || steps.empty()) return false;
  json::object* cur = &obj;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].index) return false;
    if (i + 1 == steps.size()) {
      (*cur)[steps[i].field] = std::move(value);
      return true;
    }
    json::value& next = (*cur)[steps[i].field];
    if (!next.is_object()) next = json::object();
    cur = &next.as_object();
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// openAPIV3Schema -> Schema nodes

namespace {

constexpr const char* kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
constexpr int kMaxSchemaDepth = 64;

class SchemaBuilder {
 public:
  SchemaBuilder(SchemaRegistry& out, const SchemaRegistry& builtin)
      : out_(out), builtin_(builtin) {}

  Result<Schema*> Build(const json::object& props, int depth) {
    if (depth > kMaxSchemaDepth) return Err(StatusCode::kInvalid, "schema nesting is too deep");
    Schema* s = out_.NewNode();
    s->description = std::string(FindStr(props, {"description"}));
    s->format = std::string(FindStr(props, {"format"}));
    std::string_view type = FindStr(props, {"type"});
    bool preserve = FindBool(props, {"x-kubernetes-preserve-unknown-fields"});
    auto c = std::make_shared<Schema::Constraints>();
    ReadConstraints(props, *c);
    if (FindBool(props, {"x-kubernetes-int-or-string"})) {
      s->type = SchemaType::kIntOrString;
    } else if (type == "object" || (type.empty() && (props.contains("properties") ||
                                                     props.contains("additionalProperties")))) {
      const json::value* additional = props.if_contains("additionalProperties");
      if (additional && additional->is_object() && !props.contains("properties")) {
        s->type = SchemaType::kMap;
        auto items = Build(additional->as_object(), depth + 1);
        if (!items) return items;
        s->items = *items;
      } else {
        s->type = SchemaType::kObject;
        s->preserve_unknown_fields =
            preserve || (additional && additional->is_bool() && additional->as_bool());
        if (c->embedded_resource) AddEmbeddedResourceFields(*s);
        std::vector<std::string_view> required;
        if (const json::array* req = FindArr(props, {"required"})) {
          for (const json::value& r : *req) {
            if (r.is_string()) required.push_back(r.as_string());
          }
        }
        if (const json::object* properties = FindObj(props, {"properties"})) {
          for (const auto& kv : *properties) {
            if (!kv.value().is_object()) continue;
            if (s->FindProperty(kv.key())) continue;
            auto child = Build(kv.value().as_object(), depth + 1);
            if (!child) return child;
            Property p;
            p.name = std::string(kv.key());
            p.description = (*child)->description;
            p.schema = *child;
            p.required = std::ranges::find(required, std::string_view(kv.key())) != required.end();
            if (const json::value* d = kv.value().as_object().if_contains("default")) {
              p.default_json = json::serialize(*d);
            }
            s->properties.push_back(std::move(p));
          }
        }
        // Required fields the schema does not describe still have to be present.
        for (std::string_view name : required) {
          if (s->FindProperty(name)) continue;
          Property p;
          p.name = std::string(name);
          p.schema = AnyNode();
          p.required = true;
          s->properties.push_back(std::move(p));
        }
        s->map_type = std::string(FindStr(props, {"x-kubernetes-map-type"}));
      }
    } else if (type == "array") {
      s->type = SchemaType::kArray;
      const json::value* items = props.if_contains("items");
      if (items && items->is_object()) {
        auto child = Build(items->as_object(), depth + 1);
        if (!child) return child;
        s->items = *child;
      } else {
        s->items = AnyNode();
      }
      s->list_type = std::string(FindStr(props, {"x-kubernetes-list-type"}));
      if (const json::array* keys = FindArr(props, {"x-kubernetes-list-map-keys"})) {
        for (const json::value& k : *keys) {
          if (k.is_string()) s->list_map_keys.emplace_back(k.as_string());
        }
      }
    } else if (type == "string") {
      s->type = SchemaType::kString;
      for (const std::string& e : c->enum_json) {
        json::error_code ec;
        json::value v = json::parse(e, ec);
        if (!ec && v.is_string()) s->enum_values.emplace_back(v.as_string());
      }
    } else if (type == "integer") {
      s->type = SchemaType::kInteger;
      if (s->format.empty()) s->format = "int64";
    } else if (type == "number") {
      s->type = SchemaType::kNumber;
    } else if (type == "boolean") {
      s->type = SchemaType::kBoolean;
    } else {
      s->type = SchemaType::kAny;
    }
    s->constraints = std::move(c);
    return s;
  }

  // The root of a version's schema: a named kind with apiVersion, kind and metadata.
  Result<Schema*> BuildRoot(const json::object& props, const std::string& name,
                            const std::string& group, const std::string& version,
                            const std::string& kind) {
    auto root = Build(props, 0);
    if (!root) return root;
    Schema* s = *root;
    s->name = name;
    s->gvk_group = group;
    s->gvk_version = version;
    s->gvk_kind = kind;
    s->type = SchemaType::kObject;
    AddEmbeddedResourceFields(*s);
    return s;
  }

 private:
  static void ReadConstraints(const json::object& props, Schema::Constraints& c) {
    auto number = [&](std::string_view key) -> std::optional<double> {
      const json::value* v = props.if_contains(key);
      if (!v) return std::nullopt;
      if (v->is_int64()) return static_cast<double>(v->as_int64());
      if (v->is_uint64()) return static_cast<double>(v->as_uint64());
      if (v->is_double()) return v->as_double();
      return std::nullopt;
    };
    auto integer = [&](std::string_view key) -> std::optional<int64_t> {
      auto d = number(key);
      if (!d) return std::nullopt;
      return static_cast<int64_t>(*d);
    };
    c.minimum = number("minimum");
    c.maximum = number("maximum");
    c.exclusive_minimum = FindBool(props, {"exclusiveMinimum"});
    c.exclusive_maximum = FindBool(props, {"exclusiveMaximum"});
    c.multiple_of = number("multipleOf");
    c.min_length = integer("minLength");
    c.max_length = integer("maxLength");
    c.pattern = std::string(FindStr(props, {"pattern"}));
    c.min_items = integer("minItems");
    c.max_items = integer("maxItems");
    c.unique_items = FindBool(props, {"uniqueItems"});
    c.min_properties = integer("minProperties");
    c.max_properties = integer("maxProperties");
    if (const json::array* e = FindArr(props, {"enum"})) {
      for (const json::value& v : *e) c.enum_json.push_back(json::serialize(v));
    }
    c.nullable = FindBool(props, {"nullable"});
    c.embedded_resource = FindBool(props, {"x-kubernetes-embedded-resource"});
  }

  void AddEmbeddedResourceFields(Schema& s) {
    auto add = [&](const char* name, const Schema* type, const char* description) {
      if (s.FindProperty(name)) return;
      Property p;
      p.name = name;
      p.description = description;
      p.schema = type;
      s.properties.insert(s.properties.begin(), std::move(p));
    };
    const Schema* meta = builtin_.Find(kObjectMeta);
    if (meta) add("metadata", meta, "Standard object metadata.");
    add("kind", StringNode(), "The REST resource kind this object represents, in CamelCase.");
    add("apiVersion", StringNode(),
        "Versioned schema of this object, as group/version; the server may convert to its "
        "preferred version.");
  }

  const Schema* StringNode() {
    if (!string_) {
      Schema* s = out_.NewNode();
      s->type = SchemaType::kString;
      string_ = s;
    }
    return string_;
  }

  const Schema* AnyNode() {
    if (!any_) {
      Schema* s = out_.NewNode();
      s->type = SchemaType::kAny;
      any_ = s;
    }
    return any_;
  }

  SchemaRegistry& out_;
  const SchemaRegistry& builtin_;
  const Schema* string_ = nullptr;
  const Schema* any_ = nullptr;
};

// --- structural validation -------------------------------------------------------------

std::string JsonTypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "string";
    case json::kind::int64:
    case json::kind::uint64: return "integer";
    case json::kind::double_: return "number";
    case json::kind::bool_: return "boolean";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
    case json::kind::null: return "null";
  }
  return "null";
}

bool IsInteger(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::trunc(v.as_double()) == v.as_double();
}

double AsNumber(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return v.is_double() ? v.as_double() : 0;
}

std::string Shown(const json::value& v) {
  if (v.is_string()) return kinds::GoQuote(v.as_string());
  return json::serialize(v);
}

std::string FormatNumber(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  std::string s = std::to_string(d);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

class StructuralValidator {
 public:
  explicit StructuralValidator(FieldErrors& errs) : errs_(errs) {}

  void Validate(const json::value& v, const Schema& s, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) return;
    const Schema::Constraints* c = s.constraints.get();
    if (v.is_null()) {
      if (!(c && c->nullable) && s.type != SchemaType::kAny) TypeError(v, s, path);
      return;
    }
    switch (s.type) {
      case SchemaType::kObject: {
        if (!v.is_object()) return TypeError(v, s, path);
        const json::object& o = v.as_object();
        for (const Property& p : s.properties) {
          const json::value* child = o.if_contains(p.name);
          if (!child) {
            if (p.required) errs_.Required(Sub(path, p.name));
            continue;
          }
          if (depth == 0 && (p.name == "metadata" || p.name == "apiVersion" || p.name == "kind")) {
            continue;  // checked by the generic object rules
          }
          if (p.schema) Validate(*child, *p.schema, Sub(path, p.name), depth + 1);
        }
        CheckProperties(o, c, path);
        break;
      }
      case SchemaType::kMap: {
        if (!v.is_object()) return TypeError(v, s, path);
        const json::object& o = v.as_object();
        for (const auto& kv : o) {
          if (s.items) Validate(kv.value(), *s.items, Sub(path, kv.key()), depth + 1);
        }
        CheckProperties(o, c, path);
        break;
      }
      case SchemaType::kArray: {
        if (!v.is_array()) return TypeError(v, s, path);
        const json::array& a = v.as_array();
        if (c && c->min_items && static_cast<int64_t>(a.size()) < *c->min_items) {
          errs_.Invalid(path, std::to_string(a.size()),
                        Name(path) + " in body should have at least " +
                            std::to_string(*c->min_items) + " items");
        }
        if (c && c->max_items && static_cast<int64_t>(a.size()) > *c->max_items) {
          errs_.TooMany(path, static_cast<int64_t>(a.size()), *c->max_items);
        }
        if ((c && c->unique_items) || s.list_type == "set") {
          for (size_t i = 0; i < a.size(); ++i) {
            for (size_t j = 0; j < i; ++j) {
              if (a[i] == a[j]) {
                errs_.Duplicate(kinds::Index(path, i), Shown(a[i]));
                break;
              }
            }
          }
        }
        if (s.list_type == "map" && !s.list_map_keys.empty()) {
          for (size_t i = 0; i < a.size(); ++i) {
            for (size_t j = 0; j < i; ++j) {
              if (SameKeys(a[i], a[j], s.list_map_keys)) {
                errs_.Duplicate(kinds::Index(path, i), KeysShown(a[i], s.list_map_keys));
                break;
              }
            }
          }
        }
        for (size_t i = 0; i < a.size(); ++i) {
          if (s.items) Validate(a[i], *s.items, kinds::Index(path, i), depth + 1);
        }
        break;
      }
      case SchemaType::kString:
        if (!v.is_string()) return TypeError(v, s, path);
        CheckString(v.as_string(), c, path);
        CheckFormat(v.as_string(), s.format, path);
        break;
      case SchemaType::kInteger:
        if (!IsInteger(v)) return TypeError(v, s, path);
        CheckNumber(v, c, path);
        break;
      case SchemaType::kNumber:
        if (!v.is_number()) return TypeError(v, s, path);
        CheckNumber(v, c, path);
        break;
      case SchemaType::kBoolean:
        if (!v.is_bool()) return TypeError(v, s, path);
        break;
      case SchemaType::kIntOrString:
        if (!v.is_string() && !IsInteger(v)) {
          errs_.Invalid(path, kinds::GoQuote(JsonTypeName(v)),
                        Name(path) + " in body must be of type integer,string: " +
                            kinds::GoQuote(JsonTypeName(v)));
          return;
        }
        break;
      case SchemaType::kQuantity:
      case SchemaType::kAny: break;
    }
    CheckEnum(v, c, path);
  }

 private:
  static std::string Sub(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
  }
  static std::string Name(const std::string& path) { return path.empty() ? "body" : path; }

  void TypeError(const json::value& v, const Schema& s, const std::string& path) {
    std::string want;
    switch (s.type) {
      case SchemaType::kObject:
      case SchemaType::kMap: want = "object"; break;
      case SchemaType::kArray: want = "array"; break;
      case SchemaType::kString: want = "string"; break;
      case SchemaType::kInteger: want = "integer"; break;
      case SchemaType::kNumber: want = "number"; break;
      case SchemaType::kBoolean: want = "boolean"; break;
      default: want = "any"; break;
    }
    std::string actual = JsonTypeName(v);
    errs_.Invalid(path, kinds::GoQuote(actual),
                  Name(path) + " in body must be of type " + want + ": " + kinds::GoQuote(actual));
  }

  void CheckProperties(const json::object& o, const Schema::Constraints* c,
                       const std::string& path) {
    if (!c) return;
    if (c->min_properties && static_cast<int64_t>(o.size()) < *c->min_properties) {
      errs_.Invalid(path, std::to_string(o.size()),
                    Name(path) + " in body should have at least " +
                        std::to_string(*c->min_properties) + " properties");
    }
    if (c->max_properties && static_cast<int64_t>(o.size()) > *c->max_properties) {
      errs_.TooMany(path, static_cast<int64_t>(o.size()), *c->max_properties);
    }
  }

  void CheckString(std::string_view value, const Schema::Constraints* c, const std::string& path) {
    if (!c) return;
    size_t length = Utf8Length(value);
    if (c->min_length && static_cast<int64_t>(length) < *c->min_length) {
      errs_.Invalid(path, kinds::GoQuote(value),
                    Name(path) + " in body should be at least " + std::to_string(*c->min_length) +
                        " chars long");
    }
    if (c->max_length && static_cast<int64_t>(length) > *c->max_length) {
      errs_.TooLong(path, *c->max_length);
    }
    if (!c->pattern.empty()) {
      try {
        std::regex re(c->pattern, std::regex::ECMAScript);
        if (!std::regex_search(value.begin(), value.end(), re)) {
          errs_.Invalid(path, kinds::GoQuote(value),
                        Name(path) + " in body should match '" + c->pattern + "'");
        }
      } catch (const std::regex_error&) {
        errs_.Invalid(path, kinds::GoQuote(value),
                      "the schema's pattern is not a valid regular expression");
      }
    }
  }

  // The string formats that are cheap to check; others are accepted as they are.
  void CheckFormat(std::string_view value, const std::string& format, const std::string& path) {
    if (format.empty()) return;
    bool ok = true;
    if (format == "date-time") {
      ok = ParseRfc3339(value).has_value();
    } else if (format == "date") {
      static const std::regex kDate("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
      ok = std::regex_match(value.begin(), value.end(), kDate);
    } else if (format == "byte") {
      ok = Base64Decode(value).has_value();
    } else if (format == "uuid") {
      static const std::regex kUuid(
          "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
      ok = std::regex_match(value.begin(), value.end(), kUuid);
    } else if (format == "ipv4") {
      ok = kinds::IsIpAddress(value) && !kinds::IsIpv6Address(value);
    } else if (format == "ipv6") {
      ok = kinds::IsIpv6Address(value);
    } else if (format == "hostname") {
      ok = kinds::Dns1123SubdomainErrors(value).empty();
    } else {
      return;
    }
    if (!ok) {
      errs_.Invalid(
          path, kinds::GoQuote(value),
          Name(path) + " in body must be of type " + format + ": " + kinds::GoQuote(value));
    }
  }

  void CheckNumber(const json::value& v, const Schema::Constraints* c, const std::string& path) {
    if (!c) return;
    double d = AsNumber(v);
    if (c->minimum) {
      bool bad = c->exclusive_minimum ? d <= *c->minimum : d < *c->minimum;
      if (bad) {
        errs_.Invalid(path, Shown(v),
                      Name(path) + " in body should be greater than " +
                          (c->exclusive_minimum ? "" : "or equal to ") + FormatNumber(*c->minimum));
      }
    }
    if (c->maximum) {
      bool bad = c->exclusive_maximum ? d >= *c->maximum : d > *c->maximum;
      if (bad) {
        errs_.Invalid(path, Shown(v),
                      Name(path) + " in body should be less than " +
                          (c->exclusive_maximum ? "" : "or equal to ") + FormatNumber(*c->maximum));
      }
    }
    if (c->multiple_of && *c->multiple_of != 0) {
      double q = d / *c->multiple_of;
      if (std::fabs(q - std::round(q)) > 1e-9) {
        errs_.Invalid(
            path, Shown(v),
            Name(path) + " in body should be a multiple of " + FormatNumber(*c->multiple_of));
      }
    }
  }

  void CheckEnum(const json::value& v, const Schema::Constraints* c, const std::string& path) {
    if (!c || c->enum_json.empty()) return;
    std::string serialized = json::serialize(v);
    if (std::ranges::find(c->enum_json, serialized) != c->enum_json.end()) return;
    std::vector<std::string> supported;
    for (const std::string& e : c->enum_json) {
      json::error_code ec;
      json::value ev = json::parse(e, ec);
      supported.push_back(!ec && ev.is_string() ? std::string(ev.as_string()) : e);
    }
    std::string shown = v.is_string() ? std::string(v.as_string()) : serialized;
    errs_.NotSupported(path, shown, supported);
  }

  static bool SameKeys(const json::value& a, const json::value& b,
                       const std::vector<std::string>& keys) {
    if (!a.is_object() || !b.is_object()) return false;
    for (const std::string& k : keys) {
      const json::value* x = a.as_object().if_contains(k);
      const json::value* y = b.as_object().if_contains(k);
      if ((x == nullptr) != (y == nullptr)) return false;
      if (x && *x != *y) return false;
    }
    return true;
  }

  static std::string KeysShown(const json::value& item, const std::vector<std::string>& keys) {
    std::string out = "map[string]interface {}{";
    bool first = true;
    for (const std::string& k : keys) {
      const json::value* x = item.is_object() ? item.as_object().if_contains(k) : nullptr;
      if (!x) continue;
      if (!first) out += ", ";
      first = false;
      out += kinds::GoQuote(k) + ":" + Shown(*x);
    }
    return out + "}";
  }

  FieldErrors& errs_;
};

// --- the strategy of one custom resource version ---------------------------------------

struct PrinterColumn {
  TableColumn column;
  std::string json_path;
};

class CustomResourceStrategy final : public KindStrategy {
 public:
  CustomResourceStrategy(const Schema* root, bool status, std::vector<PrinterColumn> columns)
      : root_(root), status_(status), columns_(std::move(columns)) {}

  // KindStrategy
  bool HasStatusSubresource() const override { return status_; }
  bool TracksGeneration() const override { return true; }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    StructuralValidator validator(errs);
    validator.Validate(json::value(obj), *root_, "", 0);
  }

  std::vector<TableColumn> Columns() const override {
    std::vector<TableColumn> out{kinds::NameColumn()};
    if (columns_.empty()) {
      TableColumn age = kinds::AgeColumn();
      age.type = "date";
      out.push_back(age);
      return out;
    }
    for (const PrinterColumn& c : columns_) out.push_back(c.column);
    return out;
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    if (columns_.empty()) {
      cells.emplace_back(AgeCell(obj, ctx));
      return;
    }
    json::value whole(obj);
    for (const PrinterColumn& c : columns_) {
      const json::value* v = EvaluateJsonPath(whole, c.json_path);
      if (!v || v->is_null()) {
        cells.emplace_back(nullptr);
        continue;
      }
      const std::string& type = c.column.type;
      if (type == "date") {
        cells.emplace_back(v->is_string() ? kinds::TimestampSince(v->as_string(), ctx.now)
                                          : std::string("<invalid>"));
      } else if (type == "integer") {
        if (IsInteger(*v)) {
          cells.emplace_back(static_cast<int64_t>(AsNumber(*v)));
        } else {
          cells.emplace_back(nullptr);
        }
      } else if (type == "number") {
        if (v->is_number()) {
          cells.emplace_back(*v);
        } else {
          cells.emplace_back(nullptr);
        }
      } else if (type == "boolean") {
        if (v->is_bool()) {
          cells.emplace_back(*v);
        } else {
          cells.emplace_back(nullptr);
        }
      } else {
        cells.emplace_back(v->is_string() ? std::string(v->as_string()) : json::serialize(*v));
      }
    }
  }

 private:
  const Schema* root_;
  bool status_;
  std::vector<PrinterColumn> columns_;
};

std::string ReversedGroup(std::string_view group) {
  std::string out;
  while (!group.empty()) {
    size_t dot = group.rfind('.');
    std::string_view label = dot == std::string_view::npos ? group : group.substr(dot + 1);
    if (!out.empty()) out += '.';
    out += label;
    group = dot == std::string_view::npos ? std::string_view() : group.substr(0, dot);
  }
  return out;
}

std::vector<std::string> StringList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const json::array* a = FindArr(o, {key})) {
    for (const json::value& v : *a) {
      if (v.is_string()) out.emplace_back(v.as_string());
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<CustomResourceSet>> BuildCustomResourceSet(const json::object& definition,
                                                                  const SchemaRegistry& builtin) {
  const json::object* spec = FindObj(definition, {"spec"});
  if (!spec) return Err(StatusCode::kInvalid, "the definition has no spec");
  auto set = std::make_unique<CustomResourceSet>();
  set->definition_name = std::string(FindStr(definition, {"metadata", "name"}));
  set->uid = std::string(FindStr(definition, {"metadata", "uid"}));
  set->group = std::string(FindStr(*spec, {"group"}));
  const json::object* names = FindObj(*spec, {"names"});
  if (!names) return Err(StatusCode::kInvalid, "the definition has no names");
  set->plural = std::string(FindStr(*names, {"plural"}));
  std::string kind(FindStr(*names, {"kind"}));
  std::string singular(FindStr(*names, {"singular"}));
  std::string list_kind(FindStr(*names, {"listKind"}));
  if (list_kind.empty()) list_kind = kind + "List";
  if (singular.empty()) {
    singular = kind;
    for (char& ch : singular) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  bool namespaced = FindStr(*spec, {"scope"}) != "Cluster";
  set->schemas = std::make_unique<SchemaRegistry>();
  const json::array* versions = FindArr(*spec, {"versions"});
  if (!versions || versions->empty())
    return Err(StatusCode::kInvalid, "the definition has no versions");

  std::vector<ResourceInfo*> all;
  ResourceInfo* storage = nullptr;
  for (const json::value& vv : *versions) {
    const json::object* v = vv.if_object();
    if (!v) continue;
    std::string version(FindStr(*v, {"name"}));
    bool served = FindBool(*v, {"served"});
    bool is_storage = FindBool(*v, {"storage"});
    if (!served && !is_storage) continue;
    SchemaBuilder builder(*set->schemas, builtin);
    static const json::object kEmptySchema{{"type", "object"},
                                           {"x-kubernetes-preserve-unknown-fields", true}};
    const json::object* props = FindObj(*v, {"schema", "openAPIV3Schema"});
    auto root = builder.BuildRoot(props ? *props : kEmptySchema,
                                  ReversedGroup(set->group) + "." + version + "." + kind,
                                  set->group, version, kind);
    if (!root) return std::unexpected(root.error());

    auto decl = std::make_unique<ResourceDecl>();
    decl->group = set->group;
    decl->version = version;
    decl->plural = set->plural;
    decl->singular = singular;
    decl->kind = kind;
    decl->namespaced = namespaced;
    decl->short_names = StringList(*names, "shortNames");
    decl->categories = StringList(*names, "categories");
    decl->verbs = {"delete", "deletecollection", "get",    "list",
                   "patch",  "create",           "update", "watch"};
    decl->schema = *root;
    const json::object* subresources = FindObj(*v, {"subresources"});
    bool status = subresources && subresources->contains("status");
    const json::object* scale = subresources ? FindObj(*subresources, {"scale"}) : nullptr;
    if (status) decl->subresources.push_back("status");
    if (scale) decl->subresources.push_back("scale");

    std::vector<PrinterColumn> columns;
    if (const json::array* cols = FindArr(*v, {"additionalPrinterColumns"})) {
      for (const json::value& cv : *cols) {
        const json::object* c = cv.if_object();
        if (!c) continue;
        PrinterColumn pc;
        pc.column.name = std::string(FindStr(*c, {"name"}));
        pc.column.type = std::string(FindStr(*c, {"type"}));
        pc.column.format = std::string(FindStr(*c, {"format"}));
        pc.column.description = std::string(FindStr(*c, {"description"}));
        pc.column.priority = static_cast<int>(kinds::FindInt(*c, {"priority"}).value_or(0));
        pc.json_path = std::string(FindStr(*c, {"jsonPath"}));
        columns.push_back(std::move(pc));
      }
    }
    auto strategy = std::make_unique<CustomResourceStrategy>(*root, status, std::move(columns));

    auto info = std::make_unique<ResourceInfo>();
    info->decl = decl.get();
    info->group_version = set->group + "/" + version;
    info->list_kind = list_kind;
    info->strategy = strategy.get();
    info->key_prefix = "/registry/" + set->group + "/" + set->plural + "/";
    info->custom = true;
    if (scale) {
      info->scale_spec_replicas_path = std::string(FindStr(*scale, {"specReplicasPath"}));
      info->scale_status_replicas_path = std::string(FindStr(*scale, {"statusReplicasPath"}));
      info->scale_label_selector_path = std::string(FindStr(*scale, {"labelSelectorPath"}));
    }
    set->decls.push_back(std::move(decl));
    set->strategies.push_back(std::move(strategy));
    ResourceInfo* raw = info.get();
    if (is_storage) storage = raw;
    if (served) {
      set->served.push_back(std::move(info));
    } else {
      set->unserved_storage = std::move(info);
    }
    all.push_back(raw);
  }
  if (!storage) return Err(StatusCode::kInvalid, "the definition has no storage version");
  for (ResourceInfo* r : all) r->storage = storage;
  set->storage = storage;
  return set;
}

}  // namespace skiff::api
