// Deployment (apps/v1): rolling-update defaults, selector/template rules, an immutable
// selector, generation bumps, and the `kubectl get deployments` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

const char* const kPercentMessage =
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
    "'93%', regex used for validation is '[0-9]+%')";

// The number in "25%", nullopt when `s` is not a percent string.
std::optional<int64_t> PercentValue(std::string_view s) {
  if (s.size() < 2 || s.back() != '%') return std::nullopt;
  int64_t n = 0;
  for (char c : s.substr(0, s.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (n < 1000000000) n = n * 10 + (c - '0');
  }
  return n;
}

// intstr.IntValue() for ints and percents; other strings count as 0.
int64_t IntOrPercentValue(const json::value* v) {
  if (!v) return 0;
  if (const json::string* s = v->if_string()) {
    if (auto p = PercentValue(*s)) return *p;
    int64_t n = 0;
    for (char c : std::string_view(*s)) {
      if (c < '0' || c > '9') return 0;
      if (n < 1000000000) n = n * 10 + (c - '0');
    }
    return n;
  }
  if (const int64_t* i = v->if_int64()) return *i;
  return 0;
}

void ValidatePositiveIntOrPercent(const json::value* v, const std::string& path,
                                  FieldErrors& errs) {
  if (!v) return;
  if (const json::string* s = v->if_string()) {
    if (!PercentValue(*s)) errs.Invalid(path, GoIntOrString(v), kPercentMessage);
  } else if (int64_t n = IntOrPercentValue(v); n < 0) {
    errs.InvalidInt(path, n, "must be greater than or equal to 0");
  }
}

void ValidateStrategy(const json::object& spec, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* strategy_ptr = FindObj(spec, {"strategy"});
  const json::object& strategy = strategy_ptr ? *strategy_ptr : kEmpty;
  std::string_view type = FindStr(strategy, {"type"});
  if (type == "Recreate") {
    if (strategy.contains("rollingUpdate")) {
      errs.Forbidden("spec.strategy.rollingUpdate",
                     "may not be specified when strategy `type` is 'Recreate'");
    }
  } else if (type == "RollingUpdate") {
    const json::object* rolling = FindObj(strategy, {"rollingUpdate"});
    if (!rolling) {
      errs.Required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil");
      return;
    }
    const json::value* max_unavailable = rolling->if_contains("maxUnavailable");
    const json::value* max_surge = rolling->if_contains("maxSurge");
    ValidatePositiveIntOrPercent(max_unavailable, "spec.strategy.rollingUpdate.maxUnavailable",
                                 errs);
    ValidatePositiveIntOrPercent(max_surge, "spec.strategy.rollingUpdate.maxSurge", errs);
    if (IntOrPercentValue(max_unavailable) == 0 && IntOrPercentValue(max_surge) == 0) {
      errs.Invalid("spec.strategy.rollingUpdate.maxUnavailable", GoIntOrString(max_unavailable),
                   "may not be 0 when `maxSurge` is 0");
    }
    if (max_unavailable && max_unavailable->is_string()) {
      if (auto p = PercentValue(max_unavailable->get_string()); p && *p > 100) {
        errs.Invalid("spec.strategy.rollingUpdate.maxUnavailable", GoIntOrString(max_unavailable),
                     "must not be greater than 100%");
      }
    }
  } else {
    errs.NotSupported("spec.strategy", type, {"Recreate", "RollingUpdate"});
  }
}

class DeploymentStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* spec_ptr = FindMutObj(obj, {"spec"});
    if (!spec_ptr) return;
    json::object& spec = *spec_ptr;
    ApplyWorkloadDefaults(spec);
    json::object& strategy = EnsureObj(spec, {"strategy"});
    if (IsUnsetString(strategy, "type")) strategy["type"] = "RollingUpdate";
    if (FindStr(strategy, {"type"}) == "RollingUpdate") {
      json::object& rolling = EnsureObj(strategy, {"rollingUpdate"});
      SetIfAbsent(rolling, "maxUnavailable", "25%");
      SetIfAbsent(rolling, "maxSurge", "25%");
    }
    SetIfAbsent(spec, "revisionHistoryLimit", 10);
    SetIfAbsent(spec, "progressDeadlineSeconds", 600);
  }

  void PrepareForCreate(json::object& obj) const override { SetInitialGeneration(obj); }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    // Annotations count too: they are copied to the ReplicaSets the Deployment owns.
    BumpGenerationOnChange(obj, old, /*count_annotations=*/true);
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    ValidateNonNegativeField(spec, "replicas", errs);
    ValidateSelectorAndTemplate(spec, errs);
    ValidateStrategy(spec, errs);
    ValidateNonNegativeField(spec, "minReadySeconds", errs);
    ValidateNonNegativeField(spec, "revisionHistoryLimit", errs);
    if (auto deadline = FindInt(spec, {"progressDeadlineSeconds"})) {
      ValidateNonNegativeField(spec, "progressDeadlineSeconds", errs);
      if (*deadline <= FindInt(spec, {"minReadySeconds"}).value_or(0)) {
        errs.InvalidInt("spec.progressDeadlineSeconds", *deadline,
                        "must be greater than minReadySeconds");
      }
    }
    if (old) {
      const json::object* old_spec = FindObj(*old, {"spec"});
      ValidateImmutableSelector(spec, old_spec ? *old_spec : kEmpty, errs);
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Ready", "string", "", "Number of the pod with ready state", 0},
        {"Up-to-date", "string", "",
         "Total number of non-terminating pods targeted by this deployment that have the desired "
         "template spec.",
         0},
        {"Available", "string", "",
         "Total number of available non-terminating pods (ready for at least minReadySeconds) "
         "targeted by this deployment.",
         0},
        AgeColumn(),
        {"Containers", "string", "", "Names of each container in the template.", 1},
        {"Images", "string", "", "Images referenced by each container in the template.", 1},
        {"Selector", "string", "",
         "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be "
         "the ones affected by this deployment. It must match the pod template's labels.",
         1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    int64_t desired = FindInt(obj, {"spec", "replicas"}).value_or(0);
    int64_t ready = FindInt(obj, {"status", "readyReplicas"}).value_or(0);
    const json::object* pod_spec = FindObj(obj, {"spec", "template", "spec"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(std::to_string(ready) + "/" + std::to_string(desired));
    cells.emplace_back(FindInt(obj, {"status", "updatedReplicas"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "availableReplicas"}).value_or(0));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
    cells.emplace_back(LabelSelectorString(FindObj(obj, {"spec", "selector"})));
  }
};

}  // namespace

const KindStrategy& DeploymentStrategy() {
  static const DeploymentStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
