// CustomResourceDefinition (apiextensions.k8s.io/v1): name defaults, the validation
// Kubernetes applies to definitions (names, versions, structural schemas), immutable
// group and scope, and the `kubectl get crd` table.
#include <algorithm>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_names.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void ValidateNames(const json::object* names, const std::string& path, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object& n = names ? *names : kEmpty;
  std::string_view plural = FindStr(n, {"plural"});
  if (plural.empty()) {
    errs.Required(Child(path, "plural"));
  } else {
    errs.InvalidEach(Child(path, "plural"), plural, IsDns1035Label(plural));
  }
  std::string_view singular = FindStr(n, {"singular"});
  if (!singular.empty())
    errs.InvalidEach(Child(path, "singular"), singular, IsDns1035Label(singular));
  std::string_view kind = FindStr(n, {"kind"});
  if (kind.empty()) {
    errs.Required(Child(path, "kind"));
  } else {
    errs.InvalidEach(Child(path, "kind"), kind, IsDns1035Label(Lower(kind)));
  }
  std::string_view list_kind = FindStr(n, {"listKind"});
  if (!list_kind.empty()) {
    errs.InvalidEach(Child(path, "listKind"), list_kind, IsDns1035Label(Lower(list_kind)));
    if (list_kind == kind) {
      errs.InvalidString(Child(path, "listKind"), list_kind,
                         "kind and listKind may not be the same");
    }
  }
  for (const char* key : {"shortNames", "categories"}) {
    const json::array* list = FindArr(n, {key});
    if (!list) continue;
    for (size_t i = 0; i < list->size(); ++i) {
      std::string_view v = (*list)[i].is_string() ? std::string_view((*list)[i].as_string()) : "";
      errs.InvalidEach(Index(Child(path, key), i), v, IsDns1035Label(v));
    }
  }
}

constexpr std::string_view kCelUnsupported =
    "CEL validation rules (x-kubernetes-validations) are not supported by this server";

// Structural-schema rules over one node of openAPIV3Schema, recursively.
void ValidateSchemaNode(const json::object& s, const std::string& path, bool root,
                        FieldErrors& errs, int depth) {
  if (depth > 64) {
    errs.Forbidden(path, "schema nesting is too deep");
    return;
  }
  if (s.contains("x-kubernetes-validations")) {
    errs.Forbidden(Child(path, "x-kubernetes-validations"), kCelUnsupported);
  }
  if (s.contains("$ref")) errs.Forbidden(Child(path, "$ref"), "$ref is not supported");
  std::string_view type = FindStr(s, {"type"});
  bool int_or_string = FindBool(s, {"x-kubernetes-int-or-string"});
  bool preserve = FindBool(s, {"x-kubernetes-preserve-unknown-fields"});
  static const char* const kTypes[] = {"object", "array", "string", "integer", "number", "boolean"};
  if (!type.empty() && std::ranges::none_of(kTypes, [&](const char* t) { return type == t; })) {
    errs.NotSupported(Child(path, "type"), type,
                      {"array", "boolean", "integer", "number", "object", "string"});
  }
  if (root && type != "object") {
    if (type.empty()) {
      errs.Required(Child(path, "type"), "must not be empty at the root");
    } else {
      errs.InvalidString(Child(path, "type"), type, "must be object at the root");
    }
  } else if (!root && type.empty() && !int_or_string && !preserve) {
    errs.Required(Child(path, "type"), "must not be empty for specified object fields");
  }
  if (int_or_string && !type.empty()) {
    errs.Invalid(Child(path, "type"), GoQuote(type),
                 "must be empty if x-kubernetes-int-or-string is true");
  }
  std::string_view list_type = FindStr(s, {"x-kubernetes-list-type"});
  if (!list_type.empty()) {
    if (type != "array") {
      errs.Invalid(Child(path, "x-kubernetes-list-type"), GoQuote(list_type),
                   "must only be used on type=array");
    } else if (list_type != "atomic" && list_type != "set" && list_type != "map") {
      errs.NotSupported(Child(path, "x-kubernetes-list-type"), list_type, {"atomic", "set", "map"});
    }
    const json::array* keys = FindArr(s, {"x-kubernetes-list-map-keys"});
    if (list_type == "map" && (!keys || keys->empty())) {
      errs.Required(Child(path, "x-kubernetes-list-map-keys"),
                    "must not be empty if x-kubernetes-list-type is map");
    }
  }
  if (const json::object* props = FindObj(s, {"properties"})) {
    if (!type.empty() && type != "object") {
      errs.Forbidden(Child(path, "properties"), "must be empty for types other than object");
    }
    for (const auto& kv : *props) {
      if (const json::object* child = kv.value().if_object()) {
        std::string child_path = path + ".properties[" + std::string(kv.key()) + "]";
        if (root && kv.key() == "metadata") {
          // Only name and generateName may be constrained; nothing deeper is checked.
          continue;
        }
        ValidateSchemaNode(*child, child_path, false, errs, depth + 1);
      }
    }
  }
  if (const json::value* items = s.if_contains("items")) {
    if (const json::object* child = items->if_object()) {
      ValidateSchemaNode(*child, Child(path, "items"), false, errs, depth + 1);
    } else if (items->is_array()) {
      errs.Forbidden(Child(path, "items"), "items must be a schema object and not an array");
    }
  } else if (type == "array") {
    errs.Required(Child(path, "items"), "must be specified");
  }
  if (const json::value* ap = s.if_contains("additionalProperties")) {
    if (const json::object* child = ap->if_object()) {
      if (s.contains("properties")) {
        errs.Forbidden(Child(path, "additionalProperties"),
                       "additionalProperties and properties are mutual exclusive");
      }
      ValidateSchemaNode(*child, Child(path, "additionalProperties"), false, errs, depth + 1);
    }
  }
  if (s.contains("default") && root) {
    errs.Forbidden(Child(path, "default"), "must not be set at the root");
  }
}

void ValidateVersions(const json::object& spec, FieldErrors& errs) {
  const json::array* versions = FindArr(spec, {"versions"});
  if (!versions || versions->empty()) {
    errs.Invalid("spec.versions", "[]v1.CustomResourceDefinitionVersion(nil)",
                 "must have exactly one version marked as storage version");
    return;
  }
  int storage = 0;
  std::vector<std::string_view> seen;
  for (size_t i = 0; i < versions->size(); ++i) {
    const json::object* v = (*versions)[i].if_object();
    if (!v) continue;
    std::string path = Index("spec.versions", i);
    std::string_view name = FindStr(*v, {"name"});
    if (name.empty()) {
      errs.Required(Child(path, "name"));
    } else {
      errs.InvalidEach(Child(path, "name"), name, IsDns1035Label(name));
      if (std::ranges::find(seen, name) != seen.end()) {
        errs.Invalid(Child(path, "name"), GoQuote(name), "must be unique");
      }
      seen.push_back(name);
    }
    if (FindBool(*v, {"storage"})) ++storage;
    const json::object* schema = FindObj(*v, {"schema", "openAPIV3Schema"});
    std::string schema_path = Child(path, "schema.openAPIV3Schema");
    if (!schema) {
      errs.Required(schema_path, "schemas are required");
    } else {
      ValidateSchemaNode(*schema, schema_path, true, errs, 0);
    }
    if (const json::object* scale = FindObj(*v, {"subresources", "scale"})) {
      std::string scale_path = Child(path, "subresources.scale");
      std::string_view spec_path = FindStr(*scale, {"specReplicasPath"});
      if (!spec_path.starts_with(".spec.")) {
        errs.Invalid(Child(scale_path, "specReplicasPath"), GoQuote(spec_path),
                     "should be a json path under .spec");
      }
      std::string_view status_path = FindStr(*scale, {"statusReplicasPath"});
      if (!status_path.starts_with(".status.")) {
        errs.Invalid(Child(scale_path, "statusReplicasPath"), GoQuote(status_path),
                     "should be a json path under .status");
      }
    }
    if (const json::array* columns = FindArr(*v, {"additionalPrinterColumns"})) {
      for (size_t c = 0; c < columns->size(); ++c) {
        const json::object* col = (*columns)[c].if_object();
        if (!col) continue;
        std::string col_path = Index(Child(path, "additionalPrinterColumns"), c);
        std::string_view type = FindStr(*col, {"type"});
        static const char* const kColumnTypes[] = {"integer", "number", "string", "boolean",
                                                   "date"};
        if (std::ranges::none_of(kColumnTypes, [&](const char* t) { return type == t; })) {
          errs.NotSupported(Child(col_path, "type"), type,
                            {"boolean", "date", "integer", "number", "string"});
        }
        std::string_view json_path = FindStr(*col, {"jsonPath"});
        if (json_path.empty()) errs.Required(Child(col_path, "JSONPath"));
      }
    }
  }
  if (storage != 1) {
    errs.Invalid("spec.versions", "[]v1.CustomResourceDefinitionVersion{...}",
                 "must have exactly one version marked as storage version");
  }
}

class CrdStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* names = FindMutObj(obj, {"spec", "names"});
    if (!names) return;
    // A copy: inserting into `names` may move the strings it holds.
    const std::string kind(FindStr(*names, {"kind"}));
    if (IsUnsetString(*names, "singular") && !kind.empty()) (*names)["singular"] = Lower(kind);
    if (IsUnsetString(*names, "listKind") && !kind.empty()) {
      (*names)["listKind"] = std::string(kind) + "List";
    }
  }

  void PrepareForCreate(json::object& obj) const override {
    json::object status{{"conditions", json::array()},
                        {"acceptedNames", json::object{{"plural", ""}, {"kind", ""}}},
                        {"storedVersions", json::array()}};
    if (const json::array* versions = FindArr(obj, {"spec", "versions"})) {
      for (const json::value& v : *versions) {
        if (v.is_object() && FindBool(v.as_object(), {"storage"})) {
          status["storedVersions"].as_array().push_back(v.as_object().at("name"));
        }
      }
    }
    obj["status"] = std::move(status);
    json::object& meta = EnsureObj(obj, {"metadata"});
    // Deleting a definition first deletes its custom resources; this finalizer holds it.
    json::value& finalizers = meta["finalizers"];
    if (!finalizers.is_array()) finalizers = json::array();
    const json::value cleanup("customresourcecleanup.apiextensions.k8s.io");
    if (std::ranges::find(finalizers.as_array(), cleanup) == finalizers.as_array().end()) {
      finalizers.as_array().push_back(cleanup);
    }
  }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    (void)old;
    // A new storage version joins the stored versions; none ever leaves on its own.
    json::object& status = EnsureObj(obj, {"status"});
    json::value& stored = status["storedVersions"];
    if (!stored.is_array()) stored = json::array();
    if (const json::array* versions = FindArr(obj, {"spec", "versions"})) {
      for (const json::value& v : *versions) {
        if (!v.is_object() || !FindBool(v.as_object(), {"storage"})) continue;
        const json::value& name = v.as_object().at("name");
        if (std::ranges::find(stored.as_array(), name) == stored.as_array().end()) {
          stored.as_array().push_back(name);
        }
      }
    }
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    std::string_view group = FindStr(spec, {"group"});
    std::string_view plural = FindStr(spec, {"names", "plural"});
    std::string_view name = FindStr(obj, {"metadata", "name"});
    if (!plural.empty() && !group.empty() &&
        name != std::string(plural) + "." + std::string(group)) {
      errs.InvalidString("metadata.name", name, "must be spec.names.plural+\".\"+spec.group");
    }
    if (group.empty()) {
      errs.Required("spec.group");
    } else {
      errs.InvalidEach("spec.group", group, IsDns1123Subdomain(group));
      if (group.find('.') == std::string_view::npos) {
        errs.InvalidString("spec.group", group, "should be a domain with at least one dot");
      }
    }
    std::string_view scope = FindStr(spec, {"scope"});
    if (scope.empty()) {
      errs.Required("spec.scope");
    } else if (scope != "Namespaced" && scope != "Cluster") {
      errs.NotSupported("spec.scope", scope, {"Cluster", "Namespaced"});
    }
    ValidateNames(FindObj(spec, {"names"}), "spec.names", errs);
    ValidateVersions(spec, errs);
    std::string_view strategy = FindStr(spec, {"conversion", "strategy"});
    if (!strategy.empty() && strategy != "None" && strategy != "Webhook") {
      errs.NotSupported("spec.conversion.strategy", strategy, {"None", "Webhook"});
    } else if (strategy == "Webhook") {
      errs.Forbidden("spec.conversion.strategy",
                     "conversion webhooks are not supported by this server");
    }
    if (FindBool(spec, {"preserveUnknownFields"})) {
      errs.Invalid("spec.preserveUnknownFields", "true",
                   "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
                   "openAPIV3Schema instead");
    }
    if (old) {
      std::string_view old_group = FindStr(*old, {"spec", "group"});
      if (group != old_group) errs.InvalidString("spec.group", group, "field is immutable");
      std::string_view old_scope = FindStr(*old, {"spec", "scope"});
      if (scope != old_scope) errs.InvalidString("spec.scope", scope, "field is immutable");
    }
  }

  // Columns and Row: Kubernetes' default table (NAME, CREATED AT), as KindStrategy's.
};

}  // namespace

const KindStrategy& CustomResourceDefinitionStrategy() {
  static const CrdStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
