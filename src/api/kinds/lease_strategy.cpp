// Lease (coordination.k8s.io): positive durations and the HOLDER column.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

class LeaseStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    if (auto d = FindInt(obj, {"spec", "leaseDurationSeconds"}); d && *d <= 0) {
      errs.InvalidInt("spec.leaseDurationSeconds", *d, "must be greater than 0");
    }
    if (auto t = FindInt(obj, {"spec", "leaseTransitions"}); t && *t < 0) {
      errs.InvalidInt("spec.leaseTransitions", *t, "must be greater than or equal to 0");
    }
    std::string_view strategy = FindStr(obj, {"spec", "strategy"});
    if (!strategy.empty() && strategy != "OldestEmulationVersion") {
      errs.NotSupported("spec.strategy", strategy, {"OldestEmulationVersion"});
    }
    if (!FindStr(obj, {"spec", "preferredHolder"}).empty() && strategy.empty()) {
      errs.Forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined");
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Holder", "string", "",
             "holderIdentity contains the identity of the holder of a current lease. If "
             "Coordinated Leader Election is used, the holder identity must be equal to the "
             "elected LeaseCandidate.metadata.name field.",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"spec", "holderIdentity"}));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& LeaseStrategy() {
  static const LeaseStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
