#include "api/object_codec.h"

#include <boost/json.hpp>

#include "base/quantity.h"

namespace skiff::api {

namespace json = boost::json;

namespace {

const char* JsonKindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "bool";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "value";
}

std::string GoTypeName(const Schema& s) {
  switch (s.type) {
    case SchemaType::kString: return "string";
    case SchemaType::kInteger: return s.format == "int32" ? "int32" : "int64";
    case SchemaType::kNumber: return "float64";
    case SchemaType::kBoolean: return "bool";
    case SchemaType::kArray:
      return "[]" + (s.items ? GoTypeName(*s.items) : std::string("interface {}"));
    case SchemaType::kMap:
      return "map[string]" + (s.items ? GoTypeName(*s.items) : std::string("interface {}"));
    case SchemaType::kIntOrString: return "intstr.IntOrString";
    case SchemaType::kQuantity: return "resource.Quantity";
    case SchemaType::kAny: return "interface {}";
    case SchemaType::kObject: {
      auto dot = s.name.rfind('.');
      return "v1." + (dot == std::string::npos ? s.name : s.name.substr(dot + 1));
    }
  }
  return "value";
}

struct Walker {
  DecodeReport& report;
  // Go-style field path for type errors: "spec.containers.ports.containerPort".
  std::string go_path;
  std::string struct_name = "Object";

  void TypeError(const json::value& v, const Schema& s) {
    report.type_errors.push_back(std::string("json: cannot unmarshal ") + JsonKindName(v) +
                                 " into Go struct field " + struct_name + "." + go_path +
                                 " of type " + GoTypeName(s));
  }

  void Walk(json::value& v, const Schema& s, const std::string& path) {
    switch (s.type) {
      case SchemaType::kAny: return;
      case SchemaType::kString:
        if (!v.is_string()) TypeError(v, s);
        return;
      case SchemaType::kBoolean:
        if (!v.is_bool()) TypeError(v, s);
        return;
      case SchemaType::kInteger: {
        bool ok = v.is_int64() || v.is_uint64();
        if (!ok && v.is_double()) {
          double d = v.as_double();
          if (d == static_cast<double>(static_cast<int64_t>(d))) {
            v = static_cast<int64_t>(d);
            ok = true;
          }
        }
        if (!ok) {
          TypeError(v, s);
        } else if (s.format == "int32") {
          int64_t n = v.is_int64() ? v.as_int64() : static_cast<int64_t>(v.as_uint64());
          if (n < INT32_MIN || n > INT32_MAX) TypeError(v, s);
        }
        return;
      }
      case SchemaType::kNumber:
        if (!v.is_number()) TypeError(v, s);
        return;
      case SchemaType::kIntOrString:
        if (!v.is_string() && !v.is_int64() && !v.is_uint64()) TypeError(v, s);
        return;
      case SchemaType::kQuantity: {
        std::string text;
        if (v.is_string()) {
          text = std::string(v.as_string());
        } else if (v.is_number()) {
          text = json::serialize(v);
        } else {
          TypeError(v, s);
          return;
        }
        auto q = Quantity::Parse(text);
        if (!q) {
          report.type_errors.push_back(
              "quantities must match the regular expression "
              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
          return;
        }
        v = q->ToString();
        return;
      }
      case SchemaType::kArray: {
        if (!v.is_array()) {
          TypeError(v, s);
          return;
        }
        auto& arr = v.as_array();
        for (size_t i = 0; i < arr.size(); ++i) {
          if (s.items) Walk(arr[i], *s.items, path + "[" + std::to_string(i) + "]");
        }
        return;
      }
      case SchemaType::kMap: {
        if (!v.is_object()) {
          TypeError(v, s);
          return;
        }
        auto& obj = v.as_object();
        for (auto it = obj.begin(); it != obj.end();) {
          if (it->value().is_null() && s.items && s.items->type != SchemaType::kAny) {
            it = obj.erase(it);
            continue;
          }
          if (s.items) {
            std::string saved = go_path;
            Walk(it->value(), *s.items, path + "." + std::string(it->key()));
            go_path = saved;
          }
          ++it;
        }
        return;
      }
      case SchemaType::kObject: {
        if (!v.is_object()) {
          TypeError(v, s);
          return;
        }
        auto& obj = v.as_object();
        std::string saved_struct = struct_name;
        std::string saved_go = go_path;
        auto dot = s.name.rfind('.');
        std::string my_struct = dot == std::string::npos ? s.name : s.name.substr(dot + 1);
        for (auto it = obj.begin(); it != obj.end();) {
          std::string key(it->key());
          const Property* p = s.FindProperty(key);
          std::string child_path = path.empty() ? key : path + "." + key;
          if (!p && s.preserve_unknown_fields) {
            ++it;
            continue;
          }
          if (!p) {
            report.unknown_fields.push_back(child_path);
            it = obj.erase(it);
            continue;
          }
          if (it->value().is_null()) {
            it = obj.erase(it);
            continue;
          }
          struct_name = my_struct;
          go_path = saved_go.empty() ? key : saved_go + "." + key;
          if (p->schema) Walk(it->value(), *p->schema, child_path);
          ++it;
        }
        struct_name = saved_struct;
        go_path = saved_go;
        return;
      }
    }
  }
};

}  // namespace

void DecodeAgainstSchema(json::value& value, const Schema& schema, DecodeReport& report) {
  Walker w{report};
  w.Walk(value, schema, "");
}

void ApplySchemaDefaults(json::value& value, const Schema& s) {
  switch (s.type) {
    case SchemaType::kArray:
      if (value.is_array() && s.items) {
        for (auto& item : value.as_array()) ApplySchemaDefaults(item, *s.items);
      }
      return;
    case SchemaType::kMap:
      if (value.is_object() && s.items) {
        for (auto& kv : value.as_object()) ApplySchemaDefaults(kv.value(), *s.items);
      }
      return;
    case SchemaType::kObject: {
      if (!value.is_object()) return;
      auto& obj = value.as_object();
      for (const Property& p : s.properties) {
        auto* existing = obj.if_contains(p.name);
        if (!existing && p.default_json) {
          json::error_code ec;
          json::value d = json::parse(*p.default_json, ec);
          if (!ec) existing = &obj.insert_or_assign(p.name, std::move(d)).first->value();
        }
        if (existing && p.schema) ApplySchemaDefaults(*existing, *p.schema);
      }
      return;
    }
    default: return;
  }
}

}  // namespace skiff::api
