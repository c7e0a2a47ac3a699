// DaemonSet (apps/v1): rolling-update defaults, selector/template rules, an immutable
// selector, generation bumps, and the `kubectl get daemonsets` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

void ValidateUpdateStrategy(const json::object& spec, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* strategy_ptr = FindObj(spec, {"updateStrategy"});
  const json::object& strategy = strategy_ptr ? *strategy_ptr : kEmpty;
  std::string_view type = FindStr(strategy, {"type"});
  if (type == "OnDelete") return;
  if (type != "RollingUpdate") {
    errs.NotSupported("spec.updateStrategy", type, {"RollingUpdate", "OnDelete"});
    return;
  }
  const json::object* rolling = FindObj(strategy, {"rollingUpdate"});
  if (!rolling) {
    errs.Required("spec.updateStrategy.rollingUpdate");
    return;
  }
  const std::string path = "spec.updateStrategy.rollingUpdate";
  const json::value* max_unavailable = rolling->if_contains("maxUnavailable");
  const json::value* max_surge = rolling->if_contains("maxSurge");
  ValidateIntOrPercent(max_unavailable, path + ".maxUnavailable", true, errs);
  ValidateIntOrPercent(max_surge, path + ".maxSurge", true, errs);
  bool unavailable_zero = IntOrPercentNumber(max_unavailable) == 0;
  bool surge_zero = IntOrPercentNumber(max_surge) == 0;
  if (unavailable_zero && surge_zero) {
    errs.Required(path + ".maxUnavailable", "cannot be 0 when maxSurge is 0");
  } else if (!unavailable_zero && !surge_zero) {
    errs.Invalid(path + ".maxSurge", GoIntOrString(max_surge),
                 "may not be set when maxUnavailable is non-zero");
  }
}

class DaemonSetStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* spec_ptr = FindMutObj(obj, {"spec"});
    if (!spec_ptr) return;
    json::object& spec = *spec_ptr;
    json::object& strategy = EnsureObj(spec, {"updateStrategy"});
    if (IsUnsetString(strategy, "type")) strategy["type"] = "RollingUpdate";
    if (FindStr(strategy, {"type"}) == "RollingUpdate") {
      json::object& rolling = EnsureObj(strategy, {"rollingUpdate"});
      SetIfAbsent(rolling, "maxUnavailable", 1);
      SetIfAbsent(rolling, "maxSurge", 0);
    }
    SetIfAbsent(spec, "revisionHistoryLimit", 10);
    if (json::object* pod_spec = FindMutObj(spec, {"template", "spec"})) {
      ApplyPodSpecDefaults(*pod_spec, PodSpecOwner::kTemplate);
    }
  }

  void PrepareForCreate(json::object& obj) const override { SetInitialGeneration(obj); }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    BumpGenerationOnChange(obj, old, /*count_annotations=*/false);
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    const json::object* selector = FindObj(spec, {"selector"});
    const json::object* tmpl_ptr = FindObj(spec, {"template"});
    const json::object& tmpl = tmpl_ptr ? *tmpl_ptr : kEmpty;
    if (selector) ValidateLabelSelector(*selector, "spec.selector", errs);
    ValidateSelectorMatchesTemplate(selector, tmpl, "spec.template", errs);
    if (selector &&
        CountAt(*selector, {"matchLabels"}) + CountAt(*selector, {"matchExpressions"}) == 0) {
      errs.Invalid("spec.selector", GoLabelSelector(selector),
                   "empty selector is invalid for daemonset");
    }
    ValidatePodTemplate(tmpl, "spec.template", errs);
    std::string_view restart = FindStr(tmpl, {"spec", "restartPolicy"});
    if (restart != "Always") {
      errs.NotSupported("spec.template.spec.restartPolicy", restart, {"Always"});
    }
    if (auto deadline = FindInt(tmpl, {"spec", "activeDeadlineSeconds"})) {
      errs.InvalidInt("spec.template.spec.activeDeadlineSeconds", *deadline,
                      "activeDeadlineSeconds in DaemonSet is not Supported");
    }
    ValidateNonNegativeField(spec, "minReadySeconds", errs);
    ValidateUpdateStrategy(spec, errs);
    ValidateNonNegativeField(spec, "revisionHistoryLimit", errs);
    if (old) {
      const json::object* old_spec = FindObj(*old, {"spec"});
      ValidateImmutableSelector(spec, old_spec ? *old_spec : kEmpty, errs);
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Desired", "integer", "", "Number of nodes that should run the daemon pod.", 0},
        {"Current", "integer", "", "Number of nodes running at least one daemon pod that should.",
         0},
        {"Ready", "integer", "", "Number of nodes whose daemon pod is ready.", 0},
        {"Up-to-date", "integer", "", "Number of nodes running the updated daemon pod.", 0},
        {"Available", "integer", "",
         "Number of nodes whose daemon pod has been ready for at least minReadySeconds.", 0},
        {"Node Selector", "string", "", "Labels a node must have to run the daemon pod.", 0},
        AgeColumn(),
        {"Containers", "string", "", "Names of each container in the template.", 1},
        {"Images", "string", "", "Images referenced by each container in the template.", 1},
        {"Selector", "string", "", "Label query over the daemon set's pods.", 1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::object* pod_spec = FindObj(obj, {"spec", "template", "spec"});
    std::string selector = LabelSelectorString(FindObj(obj, {"spec", "selector"}));
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindInt(obj, {"status", "desiredNumberScheduled"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "currentNumberScheduled"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "numberReady"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "updatedNumberScheduled"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "numberAvailable"}).value_or(0));
    cells.emplace_back(LabelsCell(pod_spec ? FindObj(*pod_spec, {"nodeSelector"}) : nullptr));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
    cells.emplace_back(selector.empty() ? "<none>" : selector);
  }
};

}  // namespace

const KindStrategy& DaemonSetStrategy() {
  static const DaemonSetStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
