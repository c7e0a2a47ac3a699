// PodDisruptionBudget (policy/v1): minAvailable/maxUnavailable rules, the selector, the
// unhealthy-pod eviction policy, generation bumps and the `kubectl get pdb` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

class PodDisruptionBudgetStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

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
    const json::value* min_available = spec.if_contains("minAvailable");
    const json::value* max_unavailable = spec.if_contains("maxUnavailable");
    if (min_available && max_unavailable) {
      errs.Invalid("spec", json::serialize(spec),
                   "minAvailable and maxUnavailable cannot be both set");
    }
    ValidateIntOrPercent(min_available, "spec.minAvailable", true, errs);
    ValidateIntOrPercent(max_unavailable, "spec.maxUnavailable", true, errs);
    if (const json::object* selector = FindObj(spec, {"selector"})) {
      ValidateLabelSelector(*selector, "spec.selector", errs);
    }
    if (const json::value* policy = spec.if_contains("unhealthyPodEvictionPolicy")) {
      std::string_view p = policy->is_string() ? std::string_view(policy->get_string()) : "";
      if (p != "IfHealthyBudget" && p != "AlwaysAllow") {
        errs.NotSupported("spec.unhealthyPodEvictionPolicy", p, {"AlwaysAllow", "IfHealthyBudget"});
      }
    }
    if (const json::object* status = FindObj(obj, {"status"})) {
      for (std::string_view field :
           {"disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"}) {
        if (auto v = FindInt(*status, {field}); v && *v < 0) {
          errs.InvalidInt(Child("status", field), *v, "must be greater than or equal to 0");
        }
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Min Available", "string", "", "The minimum number of pods that must be available.", 0},
        {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0},
        {"Allowed Disruptions", "integer", "",
         "Calculated number of pods that may be disrupted at this time.", 0},
        AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::value* min_available = Find(obj, {"spec", "minAvailable"});
    const json::value* max_unavailable = Find(obj, {"spec", "maxUnavailable"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(min_available ? IntOrStringCell(min_available) : "N/A");
    cells.emplace_back(max_unavailable ? IntOrStringCell(max_unavailable) : "N/A");
    cells.emplace_back(FindInt(obj, {"status", "disruptionsAllowed"}).value_or(0));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& PodDisruptionBudgetStrategy() {
  static const PodDisruptionBudgetStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
