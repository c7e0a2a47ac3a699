// ReplicationController (core/v1): selector and labels defaulted from the template,
// template rules, generation bumps and the `kubectl get rc` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

class ReplicationControllerStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* spec = FindMutObj(obj, {"spec"});
    if (!spec) return;
    // SetDefaults_ReplicationController: an empty selector and empty object labels take
    // the template's labels.
    if (const json::object* labels = FindObj(*spec, {"template", "metadata", "labels"})) {
      json::object copy = *labels;
      if (CountAt(*spec, {"selector"}) == 0) (*spec)["selector"] = copy;
      json::object& meta = EnsureObj(obj, {"metadata"});
      if (CountAt(meta, {"labels"}) == 0) meta["labels"] = copy;
    }
    spec = FindMutObj(obj, {"spec"});
    SetIfAbsent(*spec, "replicas", 1);
    if (json::object* pod_spec = FindMutObj(*spec, {"template", "spec"})) {
      ApplyPodSpecDefaults(*pod_spec, PodSpecOwner::kTemplate);
    }
  }

  void PrepareForCreate(json::object& obj) const override { SetInitialGeneration(obj); }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    BumpGenerationOnChange(obj, old, /*count_annotations=*/false);
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    ValidateNonNegativeField(spec, "minReadySeconds", errs);
    const json::object* selector = FindObj(spec, {"selector"});
    if (!selector || selector->empty()) errs.Required("spec.selector");
    if (!Find(spec, {"replicas"})) {
      errs.Required("spec.replicas");
    } else {
      ValidateNonNegativeField(spec, "replicas", errs);
    }
    const json::object* tmpl = FindObj(spec, {"template"});
    if (!tmpl) {
      errs.Required("spec.template");
      return;
    }
    if (selector && !selector->empty()) {
      json::object as_selector{{"matchLabels", *selector}};
      ValidateSelectorMatchesTemplate(&as_selector, *tmpl, "spec.template", errs);
    }
    ValidatePodTemplate(*tmpl, "spec.template", errs);
    std::string_view restart = FindStr(*tmpl, {"spec", "restartPolicy"});
    if (restart != "Always") {
      errs.NotSupported("spec.template.spec.restartPolicy", restart, {"Always"});
    }
    if (Find(*tmpl, {"spec", "activeDeadlineSeconds"})) {
      errs.Forbidden("spec.template.spec.activeDeadlineSeconds",
                     "activeDeadlineSeconds in ReplicationController is not Supported");
    }
  }

  std::optional<std::string> FieldValue(const json::object& obj,
                                        std::string_view field) const override {
    if (field == "status.replicas") {
      return std::to_string(FindInt(obj, {"status", "replicas"}).value_or(0));
    }
    return std::nullopt;
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Desired", "integer", "", "Number of desired pods.", 0},
        {"Current", "integer", "", "Number of pods the controller counts.", 0},
        {"Ready", "integer", "", "Number of pods with a Ready condition.", 0},
        AgeColumn(),
        {"Containers", "string", "", "Names of each container in the template.", 1},
        {"Images", "string", "", "Images referenced by each container in the template.", 1},
        {"Selector", "string", "", "Labels of the pods the controller counts.", 1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::object* pod_spec = FindObj(obj, {"spec", "template", "spec"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindInt(obj, {"spec", "replicas"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "replicas"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "readyReplicas"}).value_or(0));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
    cells.emplace_back(LabelsCell(FindObj(obj, {"spec", "selector"})));
  }
};

}  // namespace

const KindStrategy& ReplicationControllerStrategy() {
  static const ReplicationControllerStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
