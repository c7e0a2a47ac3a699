#include "apiserver/object_meta.h"

#include <algorithm>

#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/kind_strategy.h"
#include "base/k8s_names.h"
#include "base/k8s_time.h"
#include "base/uuid.h"

namespace skiff {

namespace json = boost::json;

namespace {

json::object& Meta(json::object& obj) {
  json::value& m = obj["metadata"];
  if (!m.is_object()) m = json::object();
  return m.as_object();
}

bool TracksGeneration(const api::ResourceInfo& r) {
  return r.strategy && r.strategy->TracksGeneration();
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void AddInvalid(std::vector<StatusCause>& errors, std::string field, std::string_view value,
                const std::string& detail) {
  errors.push_back(
      {"FieldValueInvalid", "Invalid value: " + Quote(value) + ": " + detail, std::move(field)});
}

}  // namespace

std::string NameRuleFor(const api::ResourceInfo& r) {
  if (r.group().empty()) {
    if (r.plural() == "namespaces") return "label";
    if (r.plural() == "services") return "dns1035";
  }
  // RBAC objects are named like "system:controller:foo": any valid URL path segment.
  if (r.group() == "rbac.authorization.k8s.io") return "path";
  return "subdomain";
}

void PrepareMetaForCreate(json::object& obj, const api::ResourceInfo& r,
                          std::chrono::system_clock::time_point now) {
  json::object& m = Meta(obj);
  auto* name = m.if_contains("name");
  bool has_name = name && name->is_string() && !name->as_string().empty();
  if (!has_name) {
    if (auto* gen = m.if_contains("generateName");
        gen && gen->is_string() && !gen->as_string().empty()) {
      std::string base(gen->as_string());
      // Kubernetes trims the prefix so the generated name stays within 63 characters.
      if (base.size() > 58) base.resize(58);
      m["name"] = base + GenerateNameSuffix();
    }
  }
  m["uid"] = NewUuid();
  m["creationTimestamp"] = FormatRfc3339(now);
  m.erase("resourceVersion");
  m.erase("deletionTimestamp");
  m.erase("deletionGracePeriodSeconds");
  m.erase("selfLink");
  m.erase("managedFields");
  if (TracksGeneration(r)) {
    m["generation"] = 1;
  } else {
    m.erase("generation");
  }
}

void PrepareMetaForUpdate(json::object& obj, const json::object& old, const api::ResourceInfo& r) {
  json::object& m = Meta(obj);
  const json::object* om = nullptr;
  if (auto* v = old.if_contains("metadata"); v && v->is_object()) om = &v->as_object();
  static const char* const kServerOwned[] = {
      "uid",  "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
      "name", "generateName"};
  for (const char* key : kServerOwned) {
    const json::value* ov = om ? om->if_contains(key) : nullptr;
    if (ov) {
      m[key] = *ov;
    } else {
      m.erase(key);
    }
  }
  if (r.namespaced() && om) {
    if (auto* ns = om->if_contains("namespace")) m["namespace"] = *ns;
  }
  m.erase("selfLink");
  m.erase("managedFields");
  if (TracksGeneration(r)) {
    int64_t gen = 1;
    if (auto* g = m.if_contains("generation"); g && g->is_int64()) gen = g->as_int64();
    bool changed = false;
    for (const auto& kv : obj) {
      if (kv.key() == "metadata" || kv.key() == "status") continue;
      auto* other = old.if_contains(kv.key());
      if (!other || *other != kv.value()) changed = true;
    }
    for (const auto& kv : old) {
      if (kv.key() == "metadata" || kv.key() == "status") continue;
      if (!obj.contains(kv.key())) changed = true;
    }
    m["generation"] = changed ? gen + 1 : gen;
  }
}

void ValidateObjectMeta(const json::object& obj, const api::ResourceInfo& r,
                        std::vector<StatusCause>& errors) {
  const json::object* m = nullptr;
  if (auto* v = obj.if_contains("metadata"); v && v->is_object()) m = &v->as_object();
  std::string name;
  if (m) {
    if (auto* n = m->if_contains("name"); n && n->is_string()) name = std::string(n->as_string());
  }
  if (name.empty()) {
    errors.push_back({"FieldValueRequired", "Required value: name or generateName is required",
                      "metadata.name"});
  } else {
    std::string rule = NameRuleFor(r);
    std::vector<std::string> problems = rule == "label"     ? IsDns1123Label(name)
                                        : rule == "dns1035" ? IsDns1035Label(name)
                                        : rule == "path"    ? IsValidPathSegmentName(name)
                                                            : IsDns1123Subdomain(name);
    for (const auto& p : problems) AddInvalid(errors, "metadata.name", name, p);
  }
  if (!m) return;
  if (auto* labels = m->if_contains("labels"); labels && labels->is_object()) {
    for (const auto& kv : labels->as_object()) {
      for (const auto& p : IsQualifiedName(kv.key())) {
        AddInvalid(errors, "metadata.labels", kv.key(), p);
      }
      if (kv.value().is_string()) {
        for (const auto& p : IsValidLabelValue(kv.value().as_string())) {
          AddInvalid(errors, "metadata.labels", kv.value().as_string(), p);
        }
      }
    }
  }
  if (auto* ann = m->if_contains("annotations"); ann && ann->is_object()) {
    size_t total = 0;
    for (const auto& kv : ann->as_object()) {
      for (const auto& p : IsQualifiedName(kv.key())) {
        AddInvalid(errors, "metadata.annotations", kv.key(), p);
      }
      total += kv.key().size();
      if (kv.value().is_string()) total += kv.value().as_string().size();
    }
    if (total > 256 * 1024) {
      errors.push_back({"FieldValueTooLong", "Too long: must have at most 262144 bytes",
                        "metadata.annotations"});
    }
  }
  if (auto* fin = m->if_contains("finalizers"); fin && fin->is_array()) {
    const auto& arr = fin->as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      if (!arr[i].is_string()) continue;
      for (const auto& p : IsQualifiedName(arr[i].as_string())) {
        AddInvalid(errors, "metadata.finalizers[" + std::to_string(i) + "]", arr[i].as_string(), p);
      }
    }
  }
  if (auto* owners = m->if_contains("ownerReferences"); owners && owners->is_array()) {
    const auto& arr = owners->as_array();
    int controllers = 0;
    for (size_t i = 0; i < arr.size(); ++i) {
      const json::object* o = arr[i].if_object();
      if (!o) continue;
      std::string base = "metadata.ownerReferences[" + std::to_string(i) + "]";
      auto str = [&](const char* k) {
        auto* v = o->if_contains(k);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
      };
      if (str("apiVersion").empty()) {
        AddInvalid(errors, base + ".apiVersion", "", "version must not be empty");
      }
      if (str("kind").empty()) AddInvalid(errors, base + ".kind", "", "kind must not be empty");
      if (str("name").empty()) AddInvalid(errors, base + ".name", "", "name must not be empty");
      if (str("uid").empty()) AddInvalid(errors, base + ".uid", "", "uid must not be empty");
      if (auto* c = o->if_contains("controller"); c && c->is_bool() && c->as_bool()) ++controllers;
    }
    if (controllers > 1) {
      errors.push_back({"FieldValueInvalid",
                        "Invalid value: \"\": Only one reference can have Controller set to true",
                        "metadata.ownerReferences"});
    }
  }
}

void ValidateObjectMetaUpdate(const json::object& obj, const json::object& old,
                              std::vector<StatusCause>& errors) {
  auto finalizers = [](const json::object& o) {
    std::vector<std::string> out;
    if (auto* m = o.if_contains("metadata"); m && m->is_object()) {
      if (auto* f = m->as_object().if_contains("finalizers"); f && f->is_array()) {
        for (const auto& v : f->as_array()) {
          if (v.is_string()) out.emplace_back(v.as_string());
        }
      }
    }
    return out;
  };
  const json::object* om = nullptr;
  if (auto* m = old.if_contains("metadata"); m && m->is_object()) om = &m->as_object();
  if (!om || !om->contains("deletionTimestamp")) return;
  std::vector<std::string> before = finalizers(old);
  std::vector<std::string> added;
  for (const auto& f : finalizers(obj)) {
    if (std::find(before.begin(), before.end(), f) == before.end()) added.push_back(f);
  }
  if (added.empty()) return;
  std::string list = "[]string{";
  for (size_t i = 0; i < added.size(); ++i) list += (i ? ", " : "") + Quote(added[i]);
  list += "}";
  errors.push_back({"FieldValueForbidden",
                    "Forbidden: no new finalizers can be added if the object is being deleted, "
                    "found new finalizers " +
                        list,
                    "metadata.finalizers"});
}

}  // namespace skiff
