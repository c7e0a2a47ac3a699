#include "api/kinds/workload_rules.h"

#include <boost/json.hpp>

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

}  // namespace skiff::api::kinds
