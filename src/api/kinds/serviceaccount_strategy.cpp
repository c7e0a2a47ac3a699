// ServiceAccount: only its table differs from the generic kind.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

class ServiceAccountStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Secrets", "string", "",
             "Secrets is a list of the secrets in the same namespace that pods running using "
             "this ServiceAccount are allowed to use.",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(static_cast<int64_t>(CountAt(obj, {"secrets"})));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& ServiceAccountStrategy() {
  static const ServiceAccountStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
