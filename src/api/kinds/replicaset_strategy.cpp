// ReplicaSet (apps/v1): selector/template rules, an immutable selector, generation
// bumps, the status.replicas field selector and the `kubectl get rs` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

class ReplicaSetStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    if (json::object* spec = FindMutObj(obj, {"spec"})) ApplyWorkloadDefaults(*spec);
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
    ValidateNonNegativeField(spec, "replicas", errs);
    ValidateNonNegativeField(spec, "minReadySeconds", errs);
    ValidateSelectorAndTemplate(spec, errs);
    if (old) {
      const json::object* old_spec = FindObj(*old, {"spec"});
      ValidateImmutableSelector(spec, old_spec ? *old_spec : kEmpty, errs);
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
        {"Desired", "integer", "",
         "Replicas is the number of desired pods. This is a pointer to distinguish between "
         "explicit zero and unspecified. Defaults to 1. More info: "
         "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
         0},
        {"Current", "integer", "",
         "Replicas is the most recently observed number of non-terminating pods. More info: "
         "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
         0},
        {"Ready", "integer", "",
         "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
         0},
        AgeColumn(),
        {"Containers", "string", "", "Names of each container in the template.", 1},
        {"Images", "string", "", "Images referenced by each container in the template.", 1},
        {"Selector", "string", "",
         "Selector is a label query over pods that should match the replica count. Label keys "
         "and values that must match in order to be controlled by this replica set. It must "
         "match the pod template's labels. More info: "
         "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
         "#label-selectors",
         1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::object* pod_spec = FindObj(obj, {"spec", "template", "spec"});
    std::string selector = LabelSelectorString(FindObj(obj, {"spec", "selector"}));
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindInt(obj, {"spec", "replicas"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "replicas"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "readyReplicas"}).value_or(0));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
    cells.emplace_back(selector.empty() ? "<none>" : selector);
  }
};

}  // namespace

const KindStrategy& ReplicaSetStrategy() {
  static const ReplicaSetStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
