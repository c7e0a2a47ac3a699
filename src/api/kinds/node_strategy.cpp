// Node: the `kubectl get nodes` table (status from the Ready condition, roles from
// node-role.kubernetes.io/* labels), taint rules, allocatable defaulting.
#include <boost/json.hpp>
#include <set>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
constexpr std::string_view kRoleLabel = "kubernetes.io/role";

// "Ready", "NotReady" or "Unknown" (no Ready condition), then ",SchedulingDisabled".
std::string NodeStatus(const json::object& obj) {
  std::string status;
  if (const json::array* conditions = FindArr(obj, {"status", "conditions"})) {
    // The last Ready condition wins, as when Kubernetes builds its map by type.
    for (const json::value& cv : *conditions) {
      const json::object* c = cv.if_object();
      if (!c || FindStr(*c, {"type"}) != "Ready") continue;
      status = FindStr(*c, {"status"}) == "True" ? "Ready" : "NotReady";
    }
  }
  if (status.empty()) status = "Unknown";
  if (FindBool(obj, {"spec", "unschedulable"})) status += ",SchedulingDisabled";
  return status;
}

std::string NodeRoles(const json::object& obj) {
  std::set<std::string> roles;
  if (const json::object* labels = FindObj(obj, {"metadata", "labels"})) {
    for (const auto& kv : *labels) {
      std::string_view key = kv.key();
      const json::string* value = kv.value().if_string();
      if (key.starts_with(kRolePrefix)) {
        if (key.size() > kRolePrefix.size()) roles.emplace(key.substr(kRolePrefix.size()));
      } else if (key == kRoleLabel && value && !value->empty()) {
        roles.emplace(*value);
      }
    }
  }
  if (roles.empty()) return "<none>";
  std::string out;
  for (const std::string& r : roles) {
    if (!out.empty()) out += ',';
    out += r;
  }
  return out;
}

std::string NodeAddress(const json::object& obj, std::string_view type) {
  if (const json::array* addresses = FindArr(obj, {"status", "addresses"})) {
    for (const json::value& av : *addresses) {
      const json::object* a = av.if_object();
      if (a && FindStr(*a, {"type"}) == type) return std::string(FindStr(*a, {"address"}));
    }
  }
  return "<none>";
}

std::string OrUnknown(std::string_view s) { return s.empty() ? "<unknown>" : std::string(s); }

std::string GoTaint(const json::object& taint) {
  return "core.Taint{Key:" + GoQuote(FindStr(taint, {"key"})) +
         ", Value:" + GoQuote(FindStr(taint, {"value"})) +
         ", Effect:" + GoQuote(FindStr(taint, {"effect"})) + ", TimeAdded:(*v1.Time)(nil)}";
}

void ValidateTaints(const json::array& taints, FieldErrors& errs) {
  std::set<std::pair<std::string, std::string>> seen;  // (effect, key)
  for (size_t i = 0; i < taints.size(); ++i) {
    const json::object* t = taints[i].if_object();
    if (!t) continue;
    std::string path = Index("spec.taints", i);
    std::string_view key = FindStr(*t, {"key"});
    errs.InvalidEach(Child(path, "key"), key, QualifiedNameErrors(key));
    std::string_view value = FindStr(*t, {"value"});
    if (auto msgs = LabelValueErrors(value); !msgs.empty()) {
      std::string joined;
      for (const std::string& m : msgs) joined += (joined.empty() ? "" : ";") + m;
      errs.InvalidString(Child(path, "value"), value, joined);
    }
    std::string_view effect = FindStr(*t, {"effect"});
    if (effect.empty()) {
      errs.Required(Child(path, "effect"));
    } else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      errs.NotSupported(Child(path, "effect"), effect,
                        {"NoSchedule", "PreferNoSchedule", "NoExecute"});
    }
    if (!seen.emplace(std::string(effect), std::string(key)).second) {
      errs.Duplicate(path, GoTaint(*t) + ": taints must be unique by key and effect pair");
    }
  }
}

class NodeStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool KeepsStatusOnCreate() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* status = FindMutObj(obj, {"status"});
    if (!status) return;
    const json::value* capacity = status->if_contains("capacity");
    if (capacity && capacity->is_object() && !status->contains("allocatable")) {
      json::value copy = *capacity;  // inserting may move status's members
      (*status)["allocatable"] = std::move(copy);
    }
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    if (const json::array* taints = FindArr(obj, {"spec", "taints"})) ValidateTaints(*taints, errs);
    std::string_view pod_cidr = FindStr(obj, {"spec", "podCIDR"});
    if (const json::array* cidrs = FindArr(obj, {"spec", "podCIDRs"})) {
      if (cidrs->size() > 2) {
        errs.Invalid("spec.podCIDRs", GoStringSlice(cidrs), "may specify no more than two CIDRs");
      }
      if (!pod_cidr.empty() && !cidrs->empty()) {
        const json::string* first = (*cidrs)[0].if_string();
        if (!first || *first != pod_cidr) {
          errs.Invalid("spec.podCIDRs", GoStringSlice(cidrs), "first value must match `podCIDR`");
        }
      }
    }
  }

  std::optional<std::string> FieldValue(const json::object& obj,
                                        std::string_view field) const override {
    if (field == "spec.unschedulable") {
      return FindBool(obj, {"spec", "unschedulable"}) ? "true" : "false";
    }
    return std::nullopt;
  }

  std::vector<TableColumn> Columns() const override {
    const char* addresses_doc =
        "List of addresses reachable to the node. Queried from cloud provider, if available. "
        "More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This "
        "field is declared as mergeable, but the merge key is not sufficiently unique, which can "
        "cause data corruption when it is merged. Callers should instead use a full-replacement "
        "patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that "
        "addresses can change during the lifetime of a Node. However, there are some exceptions "
        "where this may not be possible, such as Pods that inherit a Node's address in its own "
        "status or consumers of the downward API (status.hostIP).";
    return {NameColumn(),
            {"Status", "string", "", "The status of the node", 0},
            {"Roles", "string", "", "The roles of the node", 0},
            AgeColumn(),
            {"Version", "string", "", "Kubelet Version reported by the node.", 0},
            {"Internal-IP", "string", "", addresses_doc, 1},
            {"External-IP", "string", "", addresses_doc, 1},
            {"OS-Image", "string", "",
             "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
             "(wheezy)).",
             1},
            {"Kernel-Version", "string", "",
             "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
            {"Container-Runtime", "string", "",
             "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
             "containerd://1.4.2).",
             1}};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(NodeStatus(obj));
    cells.emplace_back(NodeRoles(obj));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(FindStr(obj, {"status", "nodeInfo", "kubeletVersion"}));
    cells.emplace_back(NodeAddress(obj, "InternalIP"));
    cells.emplace_back(NodeAddress(obj, "ExternalIP"));
    cells.emplace_back(OrUnknown(FindStr(obj, {"status", "nodeInfo", "osImage"})));
    cells.emplace_back(OrUnknown(FindStr(obj, {"status", "nodeInfo", "kernelVersion"})));
    cells.emplace_back(OrUnknown(FindStr(obj, {"status", "nodeInfo", "containerRuntimeVersion"})));
  }
};

}  // namespace

const KindStrategy& NodeStrategy() {
  static const NodeStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
