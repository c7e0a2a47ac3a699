// StorageClass (storage.k8s.io/v1): provisioner, parameters, reclaim policy and binding
// mode validation; provisioner, parameters, reclaimPolicy and volumeBindingMode cannot
// change; the `kubectl get storageclass` table with its "(default)" marker.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr size_t kMaxParameters = 512;
constexpr size_t kMaxParametersSize = 256 * 1024;

bool IsDefaultClass(const json::object& obj) {
  const json::object* annotations = FindObj(obj, {"metadata", "annotations"});
  if (!annotations) return false;
  for (std::string_view key : {"storageclass.kubernetes.io/is-default-class",
                               "storageclass.beta.kubernetes.io/is-default-class"}) {
    const json::value* v = annotations->if_contains(key);
    if (v && v->is_string() && v->get_string() == "true") return true;
  }
  return false;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

class StorageClassStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    std::string_view provisioner = FindStr(obj, {"provisioner"});
    if (provisioner.empty()) {
      errs.Required("provisioner");
    } else {
      errs.InvalidEach("provisioner", provisioner, QualifiedNameErrors(Lower(provisioner)));
    }
    if (const json::object* params = FindObj(obj, {"parameters"})) {
      if (params->size() > kMaxParameters) {
        errs.TooLong("parameters", kMaxParameters);
      } else {
        size_t total = 0;
        for (const auto& kv : *params) {
          if (kv.key().empty()) errs.InvalidString("parameters", "", "field can not be empty.");
          total += kv.key().size();
          if (const json::string* v = kv.value().if_string()) total += v->size();
        }
        if (total > kMaxParametersSize) errs.TooLong("parameters", kMaxParametersSize);
      }
    }
    std::string_view reclaim = FindStr(obj, {"reclaimPolicy"});
    if (!reclaim.empty() && reclaim != "Delete" && reclaim != "Retain") {
      errs.NotSupported("reclaimPolicy", reclaim, {"Delete", "Retain"});
    }
    const json::value* mode_v = obj.if_contains("volumeBindingMode");
    std::string_view mode = FindStr(obj, {"volumeBindingMode"});
    if (!mode_v || !mode_v->is_string()) {
      errs.Required("volumeBindingMode");
    } else if (mode != "Immediate" && mode != "WaitForFirstConsumer") {
      errs.NotSupported("volumeBindingMode", mode, {"Immediate", "WaitForFirstConsumer"});
    }
    if (!old) return;
    if (!SemanticEqualMember(obj.if_contains("parameters"), old->if_contains("parameters"))) {
      errs.Forbidden("parameters", "updates to parameters are forbidden.");
    }
    if (provisioner != FindStr(*old, {"provisioner"})) {
      errs.Forbidden("provisioner", "updates to provisioner are forbidden.");
    }
    if (reclaim != FindStr(*old, {"reclaimPolicy"})) {
      errs.Forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.");
    }
    if (mode != FindStr(*old, {"volumeBindingMode"})) {
      errs.InvalidString("volumeBindingMode", mode, "field is immutable");
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Provisioner", "string", "", "provisioner indicates the type of the provisioner.", 0},
            {"ReclaimPolicy", "string", "",
             "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
             "PersistentVolumes of this storage class. Defaults to Delete.",
             0},
            {"VolumeBindingMode", "string", "",
             "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and "
             "bound.  When unset, VolumeBindingImmediate is used. This field is only honored by "
             "servers that enable the VolumeScheduling feature.",
             0},
            {"AllowVolumeExpansion", "string", "",
             "allowVolumeExpansion shows whether the storage class allow volume expand.", 0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string name(FindStr(obj, {"metadata", "name"}));
    if (IsDefaultClass(obj)) name += " (default)";
    std::string_view reclaim = FindStr(obj, {"reclaimPolicy"});
    std::string_view mode = FindStr(obj, {"volumeBindingMode"});
    cells.emplace_back(name);
    cells.emplace_back(FindStr(obj, {"provisioner"}));
    cells.emplace_back(reclaim.empty() ? "Delete" : reclaim);
    cells.emplace_back(mode.empty() ? "Immediate" : mode);
    cells.emplace_back(FindBool(obj, {"allowVolumeExpansion"}));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& StorageClassStrategy() {
  static const StorageClassStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
