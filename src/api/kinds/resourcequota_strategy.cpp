// ResourceQuota: resource names and amounts a quota may hold, its scopes and scope
// selector, and the REQUEST and LIMIT columns built from the status.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/resource_names.h"
#include "api/kinds/strategy_support.h"
#include "base/quantity.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

// Scopes this version serves; VolumeAttributesClass needs a feature gate that is off.
constexpr std::array<std::string_view, 6> kSupportedScopes = {
    "Terminating",   "NotTerminating", "BestEffort",
    "NotBestEffort", "PriorityClass",  "CrossNamespacePodAffinity",
};

bool IsSupportedScope(std::string_view scope) {
  return std::ranges::find(kSupportedScopes, scope) != kSupportedScopes.end();
}

// Which resources a scope can restrict: pod scopes only pods and their cpu and memory.
bool IsScopeValidForResource(std::string_view scope, std::string_view resource) {
  bool pod_count = resource == "pods";
  bool pod_compute = resource == "cpu" || resource == "memory" || resource == "limits.cpu" ||
                     resource == "limits.memory" || resource == "requests.cpu" ||
                     resource == "requests.memory";
  if (scope == "BestEffort") return pod_count;
  if (scope == "Terminating" || scope == "NotTerminating" || scope == "NotBestEffort" ||
      scope == "PriorityClass" || scope == "CrossNamespacePodAffinity") {
    return pod_count || pod_compute;
  }
  return true;
}

bool ConflictingScopes(const std::vector<std::string_view>& scopes) {
  auto has = [&](std::string_view s) { return std::ranges::find(scopes, s) != scopes.end(); };
  return (has("BestEffort") && has("NotBestEffort")) ||
         (has("Terminating") && has("NotTerminating"));
}

std::vector<std::string> SortedKeys(const json::object* map) {
  std::vector<std::string> keys;
  if (map) {
    for (const auto& kv : *map) keys.emplace_back(kv.key());
  }
  std::ranges::sort(keys);
  return keys;
}

// %#v of []core.ResourceQuotaScope.
std::string GoScopes(const json::array& scopes) {
  std::string out = "[]core.ResourceQuotaScope{";
  for (size_t i = 0; i < scopes.size(); ++i) {
    if (i) out += ", ";
    const json::string* s = scopes[i].if_string();
    out += GoQuote(s ? std::string_view(*s) : std::string_view());
  }
  return out + "}";
}

// %#v of a core.ScopeSelector value.
std::string GoScopeSelector(const json::array& exprs) {
  std::string out = "core.ScopeSelector{MatchExpressions:[]core.ScopedResourceSelectorRequirement{";
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (i) out += ", ";
    const json::object* e = exprs[i].if_object();
    static const json::object kEmpty;
    const json::object& req = e ? *e : kEmpty;
    out +=
        "core.ScopedResourceSelectorRequirement{ScopeName:" + GoQuote(FindStr(req, {"scopeName"})) +
        ", Operator:" + GoQuote(FindStr(req, {"operator"})) +
        ", Values:" + GoStringSlice(FindArr(req, {"values"})) + "}";
  }
  return out + "}}";
}

void ValidateResourceMap(const json::object* map, const std::string& path, FieldErrors& errs) {
  if (!map) return;
  for (const std::string& key : SortedKeys(map)) {
    std::string key_path = KeyOf(path, key);
    ValidateQuotaResourceName(key, key_path, errs);
    const json::string* value = map->at(key).if_string();
    if (value) ValidateResourceQuantity(key, *value, key_path, errs);
  }
}

void ValidateScopes(const json::object& spec, const std::vector<std::string>& hard,
                    FieldErrors& errs) {
  const json::array* scopes = FindArr(spec, {"scopes"});
  if (!scopes || scopes->empty()) return;
  std::string shown = GoScopes(*scopes);
  std::vector<std::string_view> seen;
  for (const json::value& v : *scopes) {
    const json::string* s = v.if_string();
    std::string_view scope = s ? std::string_view(*s) : std::string_view();
    if (!IsSupportedScope(scope)) errs.Invalid("spec.scopes", shown, "unsupported scope");
    for (const std::string& k : hard) {
      if (IsStandardQuotaResourceName(k) && !IsScopeValidForResource(scope, k)) {
        errs.Invalid("spec.scopes", shown, "unsupported scope applied to resource");
      }
    }
    seen.push_back(scope);
  }
  if (ConflictingScopes(seen)) errs.Invalid("spec.scopes", shown, "conflicting scopes");
}

void ValidateScopeSelector(const json::object& spec, const std::vector<std::string>& hard,
                           FieldErrors& errs) {
  const json::array* exprs = FindArr(spec, {"scopeSelector", "matchExpressions"});
  if (!exprs) return;
  const std::string path = "spec.scopeSelector.matchExpressions";
  std::string shown = GoScopeSelector(*exprs);
  std::vector<std::string_view> seen;
  for (const json::value& v : *exprs) {
    const json::object* req = v.if_object();
    if (!req) continue;
    std::string_view scope = FindStr(*req, {"scopeName"});
    std::string_view op = FindStr(*req, {"operator"});
    const json::array* values = FindArr(*req, {"values"});
    if (!IsSupportedScope(scope)) {
      errs.Invalid(Child(path, "scopeName"), GoQuote(scope), "unsupported scope");
    }
    for (const std::string& k : hard) {
      if (IsStandardQuotaResourceName(k) && !IsScopeValidForResource(scope, k)) {
        errs.Invalid(path, shown, "unsupported scope applied to resource");
      }
    }
    if ((scope == "BestEffort" || scope == "NotBestEffort" || scope == "Terminating" ||
         scope == "NotTerminating" || scope == "CrossNamespacePodAffinity") &&
        op != "Exists") {
      errs.Invalid(
          Child(path, "operator"), GoQuote(op),
          "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, "
          "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, "
          "ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity");
    }
    if (op == "In" || op == "NotIn") {
      if (!values || values->empty()) {
        errs.Required(Child(path, "values"),
                      "must be at least one value when `operator` is 'In' or 'NotIn' for scope "
                      "selector");
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (values && !values->empty()) {
        errs.Invalid(Child(path, "values"), GoStringSlice(values),
                     "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope "
                     "selector");
      }
    } else {
      errs.Invalid(Child(path, "operator"), GoQuote(op), "not a valid selector operator");
    }
    seen.push_back(scope);
  }
  if (ConflictingScopes(seen)) errs.Invalid(path, shown, "conflicting scopes");
}

// "name: used/hard" for each resource, as kubectl's quota columns print it.
std::string UsageCell(const json::object* used, std::string_view name, std::string_view hard) {
  std::string used_text = "0";
  if (used) {
    if (const json::value* u = used->if_contains(name); u && u->is_string()) {
      used_text = std::string(u->get_string());
    }
  }
  auto canonical = [](std::string_view text) {
    auto q = Quantity::Parse(text);
    return q ? q->ToString() : std::string(text);
  };
  return std::string(name) + ": " + canonical(used_text) + "/" + canonical(hard);
}

class ResourceQuotaStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    const json::object* hard = FindObj(obj, {"spec", "hard"});
    ValidateResourceMap(hard, "spec.hard", errs);
    if (const json::object* spec = FindObj(obj, {"spec"})) {
      std::vector<std::string> hard_keys = SortedKeys(hard);
      ValidateScopes(*spec, hard_keys, errs);
      ValidateScopeSelector(*spec, hard_keys, errs);
    }
    ValidateResourceMap(FindObj(obj, {"status", "hard"}), "status.hard", errs);
    ValidateResourceMap(FindObj(obj, {"status", "used"}), "status.used", errs);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            AgeColumn(),
            {"Request", "string", "",
             "Request represents a minimum amount of cpu/memory that a container may consume.", 0},
            {"Limit", "string", "",
             "Limits control the maximum amount of cpu/memory that a container may use "
             "independent of contention on the node.",
             0}};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::object* hard = FindObj(obj, {"status", "hard"});
    const json::object* used = FindObj(obj, {"status", "used"});
    std::string request;
    std::string limit;
    for (const std::string& name : SortedKeys(hard)) {
      const json::value& h = hard->at(name);
      std::string_view hard_text = h.is_string() ? std::string_view(h.get_string()) : "0";
      std::string& column = name.starts_with("limits.") ? limit : request;
      if (!column.empty()) column += ", ";
      column += UsageCell(used, name, hard_text);
    }
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(request);
    cells.emplace_back(limit);
  }
};

}  // namespace

const KindStrategy& ResourceQuotaStrategy() {
  static const ResourceQuotaStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
