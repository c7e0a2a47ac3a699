// IngressClass (networking.k8s.io/v1): the parameters' default scope, controller and
// parameters validation, an immutable controller, and the `kubectl get ingressclass` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/networking_rules.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr size_t kMaxControllerLength = 250;

class IngressClassStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    if (json::object* params = FindMutObj(obj, {"spec", "parameters"})) {
      SetIfAbsent(*params, "scope", "Cluster");
    }
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    std::string_view controller = FindStr(obj, {"spec", "controller"});
    if (controller.empty()) {
      errs.Required("spec.controller");
    } else {
      if (controller.size() > kMaxControllerLength) {
        errs.TooLong("spec.controller", kMaxControllerLength);
      }
      ValidateDomainPrefixedPath("spec.controller", controller, errs);
    }
    if (const json::object* params = FindObj(obj, {"spec", "parameters"})) {
      ValidateTypedReference(*params, "spec.parameters", /*require_scope=*/true, errs);
    }
    if (old) {
      std::string_view before = FindStr(*old, {"spec", "controller"});
      if (before != controller) {
        errs.InvalidString("spec.controller", controller, "field is immutable");
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Controller", "string", "", "Controller that is responsible for handling this class", 0},
        {"Parameters", "string", "", "A reference to a resource with additional parameters", 0},
        AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string parameters = "<none>";
    if (const json::object* params = FindObj(obj, {"spec", "parameters"})) {
      parameters = std::string(FindStr(*params, {"kind"}));
      if (const json::value* group = params->if_contains("apiGroup"); group && group->is_string()) {
        parameters += "." + std::string(group->get_string());
      }
      parameters += "/" + std::string(FindStr(*params, {"name"}));
    }
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"spec", "controller"}));
    cells.emplace_back(parameters);
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& IngressClassStrategy() {
  static const IngressClassStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
