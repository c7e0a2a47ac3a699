#include "api/kinds/workload_rules.h"

#include <boost/json.hpp>

#include <map>
#include <optional>

#include "api/kinds/pod_spec_rules.h"

namespace skiff::api::kinds {

namespace json = boost::json;

void ValidateNonNegativeField(const json::object& spec, std::string_view field, FieldErrors& errs) {
  if (auto v = FindInt(spec, {field}); v && *v < 0) {
    errs.InvalidInt(Child("spec", field), *v, "must be greater than or equal to 0");
  }
}

void ValidateSelectorAndTemplate(const json::object& spec, FieldErrors& errs) {
  const json::object* selector = FindObj(spec, {"selector"});
  if (!selector) {
    errs.Required("spec.selector");
  } else {
    ValidateLabelSelector(*selector, "spec.selector", errs);
    if (CountAt(*selector, {"matchLabels"}) + CountAt(*selector, {"matchExpressions"}) == 0) {
      errs.Invalid("spec.selector", GoLabelSelector(selector),
                   "empty selector is invalid for deployment");
    }
  }

  bool selector_usable = true;
  if (const json::array* exprs = selector ? FindArr(*selector, {"matchExpressions"}) : nullptr) {
    for (const json::value& ev : *exprs) {
      const json::object* e = ev.if_object();
      std::string_view op = e ? FindStr(*e, {"operator"}) : std::string_view();
      if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist")
        selector_usable = false;
    }
  }
  if (!selector_usable) {
    errs.Invalid("spec.selector", GoLabelSelector(selector), "invalid label selector");
    return;
  }

  static const json::object kEmpty;
  const json::object* tmpl = FindObj(spec, {"template"});
  const json::object& t = tmpl ? *tmpl : kEmpty;
  const json::object* labels = FindObj(t, {"metadata", "labels"});
  bool selector_empty =
      selector &&
      CountAt(*selector, {"matchLabels"}) + CountAt(*selector, {"matchExpressions"}) == 0;
  if (!selector_empty && !LabelSelectorMatches(selector, labels)) {
    errs.Invalid("spec.template.metadata.labels", GoStringMap(labels),
                 "`selector` does not match template `labels`");
  }
  ValidatePodTemplate(t, "spec.template", errs);
  std::string_view restart = FindStr(t, {"spec", "restartPolicy"});
  if (restart != "Always")
    errs.NotSupported("spec.template.spec.restartPolicy", restart, {"Always"});
  if (Find(t, {"spec", "activeDeadlineSeconds"})) {
    errs.Forbidden("spec.template.spec.activeDeadlineSeconds",
                   "activeDeadlineSeconds in ReplicaSet is not Supported");
  }
}

void ValidateImmutableSelector(const json::object& spec, const json::object& old_spec,
                               FieldErrors& errs) {
  const json::value* now = spec.if_contains("selector");
  const json::value* before = old_spec.if_contains("selector");
  if (SemanticEqualMember(now, before)) return;
  errs.Invalid("spec.selector", GoLabelSelector(now ? now->if_object() : nullptr),
               "field is immutable");
}

void ApplyWorkloadDefaults(json::object& spec) {
  SetIfAbsent(spec, "replicas", 1);
  if (json::object* pod_spec = FindMutObj(spec, {"template", "spec"})) {
    ApplyPodSpecDefaults(*pod_spec, PodSpecOwner::kTemplate);
  }
}

void SetInitialGeneration(json::object& obj) { EnsureObj(obj, {"metadata"})["generation"] = 1; }

void BumpGenerationOnChange(json::object& obj, const json::object& old, bool count_annotations) {
  int64_t old_generation = FindInt(old, {"metadata", "generation"}).value_or(0);
  bool changed = !SemanticEqualMember(Find(obj, {"spec"}), Find(old, {"spec"}));
  if (count_annotations) {
    changed = changed || !SemanticEqualMember(Find(obj, {"metadata", "annotations"}),
                                              Find(old, {"metadata", "annotations"}));
  }
  EnsureObj(obj, {"metadata"})["generation"] = changed ? old_generation + 1 : old_generation;
}

std::string LabelsCell(const json::object* labels) {
  if (!labels || labels->empty()) return "<none>";
  std::map<std::string, std::string> sorted;
  for (const auto& kv : *labels) {
    const json::string* v = kv.value().if_string();
    sorted.emplace(std::string(kv.key()), v ? std::string(*v) : std::string());
  }
  std::string out;
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += ",";
    out += k + "=" + v;
  }
  return out;
}

void ValidateSelectorMatchesTemplate(const json::object* selector, const json::object& tmpl,
                                     const std::string& template_path, FieldErrors& errs) {
  const json::object* labels = FindObj(tmpl, {"metadata", "labels"});
  if (!LabelSelectorMatches(selector, labels)) {
    errs.Invalid(Child(Child(template_path, "metadata"), "labels"), GoStringMap(labels),
                 "`selector` does not match template `labels`");
  }
}

namespace {

std::optional<int64_t> PercentNumber(std::string_view s) {
  if (s.size() < 2 || s.back() != '%') return std::nullopt;
  int64_t n = 0;
  for (char c : s.substr(0, s.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (n < 1000000000) n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

int64_t IntOrPercentNumber(const json::value* v) {
  if (!v) return 0;
  if (const json::string* s = v->if_string()) return PercentNumber(*s).value_or(0);
  if (const int64_t* i = v->if_int64()) return *i;
  return 0;
}

void ValidateIntOrPercent(const json::value* v, const std::string& path, bool at_most_100_percent,
                          FieldErrors& errs) {
  if (!v) return;
  if (const json::string* s = v->if_string()) {
    auto percent = PercentNumber(*s);
    if (!percent) {
      errs.Invalid(path, GoIntOrString(v),
                   "a valid percent string must be a numeric string followed by an ending '%' "
                   "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    } else if (at_most_100_percent && *percent > 100) {
      errs.Invalid(path, GoIntOrString(v), "must not be greater than 100%");
    }
  } else if (int64_t n = IntOrPercentNumber(v); n < 0) {
    errs.InvalidInt(path, n, "must be greater than or equal to 0");
  }
}

std::string IntOrStringCell(const json::value* v) {
  if (!v) return "";
  if (const json::string* s = v->if_string()) return std::string(*s);
  if (const int64_t* i = v->if_int64()) return std::to_string(*i);
  return "";
}

}  // namespace skiff::api::kinds
