// PriorityClass (scheduling.k8s.io/v1): the reserved system- names, the ceiling of
// user-defined values, immutable value and preemptionPolicy, and the
// `kubectl get priorityclasses` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr int64_t kHighestUserDefinablePriority = 1000000000;

// The system classes Kubernetes defines, with their fixed values.
struct SystemClass {
  std::string_view name;
  int64_t value;
};
constexpr SystemClass kSystemClasses[] = {
    {"system-node-critical", 2000001000},
    {"system-cluster-critical", 2000000000},
};

// scheduling.IsKnownSystemPriorityClass: empty when the class is a known one.
std::string SystemClassError(std::string_view name, int64_t value, bool global_default) {
  for (const SystemClass& c : kSystemClasses) {
    if (c.name != name) continue;
    if (c.value != value) {
      return "value of " + std::string(name) + " PriorityClass must be " + std::to_string(c.value);
    }
    if (global_default) {
      return "globalDefault of " + std::string(name) + " PriorityClass must be false";
    }
    return {};
  }
  return std::string(name) + " is not a known system priority class";
}

class PriorityClassStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    std::string_view name = FindStr(obj, {"metadata", "name"});
    int64_t value = FindInt(obj, {"value"}).value_or(0);
    if (name.starts_with("system-")) {
      std::string err = SystemClassError(name, value, FindBool(obj, {"globalDefault"}));
      if (!err.empty()) {
        errs.Forbidden("metadata.name",
                       "priority class names with 'system-' prefix are reserved for system use "
                       "only. error: " +
                           err);
      }
    } else if (value > kHighestUserDefinablePriority) {
      errs.Forbidden("value", "maximum allowed value of a user defined priority is " +
                                  std::to_string(kHighestUserDefinablePriority));
    }
    if (const json::value* policy = obj.if_contains("preemptionPolicy")) {
      std::string_view p = policy->is_string() ? std::string_view(policy->get_string()) : "";
      if (p != "PreemptLowerPriority" && p != "Never") {
        errs.NotSupported("preemptionPolicy", p, {"Never", "PreemptLowerPriority"});
      }
    }
    if (old) {
      if (value != FindInt(*old, {"value"}).value_or(0)) {
        errs.Forbidden("value", "may not be changed in an update.");
      }
      std::string_view policy = FindStr(obj, {"preemptionPolicy"});
      if (policy != FindStr(*old, {"preemptionPolicy"})) {
        errs.InvalidString("preemptionPolicy", policy, "field is immutable");
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Value", "integer", "", "Priority of the pods of this class.", 0},
            {"Global-Default", "boolean", "", "Whether pods that name no class get this one.", 0},
            AgeColumn(),
            {"PreemptionPolicy", "string", "",
             "Whether pods of this class may preempt pods of lower priority.", 0}};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string_view policy = FindStr(obj, {"preemptionPolicy"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindInt(obj, {"value"}).value_or(0));
    cells.emplace_back(FindBool(obj, {"globalDefault"}));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(policy.empty() ? std::string_view("<unset>") : policy);
  }
};

}  // namespace

const KindStrategy& PriorityClassStrategy() {
  static const PriorityClassStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
