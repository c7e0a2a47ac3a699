// PodTemplate (core/v1): the template's pod spec defaults and rules, and the
// `kubectl get podtemplates` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

class PodTemplateStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void ApplyDefaults(json::object& obj) const override {
    if (json::object* pod_spec = FindMutObj(obj, {"template", "spec"})) {
      ApplyPodSpecDefaults(*pod_spec, PodSpecOwner::kTemplate);
    }
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* tmpl = FindObj(obj, {"template"});
    ValidatePodTemplate(tmpl ? *tmpl : kEmpty, "template", errs);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Containers", "string", "", "Names of each container in the template.", 0},
            {"Images", "string", "", "Images referenced by each container in the template.", 0},
            {"Pod Labels", "string", "", "The labels for the pod template.", 0}};
  }

  void Row(const json::object& obj, const StrategyContext& /*ctx*/,
           json::array& cells) const override {
    const json::object* pod_spec = FindObj(obj, {"template", "spec"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
    cells.emplace_back(LabelsCell(FindObj(obj, {"template", "metadata", "labels"})));
  }
};

}  // namespace

const KindStrategy& PodTemplateStrategy() {
  static const PodTemplateStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
