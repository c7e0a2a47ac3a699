// NetworkPolicy (networking.k8s.io/v1): the policyTypes default, port, peer and CIDR
// validation with Kubernetes' messages, generation tracking, and the POD-SELECTOR column.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/networking_rules.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

void ValidatePort(const json::object& port, const std::string& path, FieldErrors& errs) {
  if (const json::value* proto = port.if_contains("protocol"); proto && proto->is_string()) {
    std::string_view p = proto->get_string();
    if (p != "TCP" && p != "UDP" && p != "SCTP") {
      errs.NotSupported(Child(path, "protocol"), p, {"TCP", "UDP", "SCTP"});
    }
  }
  const json::value* p = port.if_contains("port");
  const json::value* end = port.if_contains("endPort");
  std::optional<int64_t> end_port;
  if (end && end->is_int64()) end_port = end->get_int64();
  if (p && p->is_int64()) {
    int64_t n = p->get_int64();
    for (const std::string& m : PortNumErrors(n)) errs.InvalidInt(Child(path, "port"), n, m);
    if (end_port) {
      if (*end_port < n) {
        errs.InvalidInt(Child(path, "endPort"), *end_port,
                        "must be greater than or equal to `port`");
      }
      for (const std::string& m : PortNumErrors(*end_port)) {
        errs.InvalidInt(Child(path, "endPort"), *end_port, m);
      }
    }
  } else if (p && p->is_string()) {
    if (end_port) {
      errs.InvalidInt(Child(path, "endPort"), *end_port,
                      "may not be specified when `port` is non-numeric");
    }
    errs.InvalidEach(Child(path, "port"), p->get_string(), PortNameErrors(p->get_string()));
  } else if (end_port) {
    errs.InvalidInt(Child(path, "endPort"), *end_port,
                    "may not be specified when `port` is not specified");
  }
}

void ValidateIpBlock(const json::object& block, const std::string& path, FieldErrors& errs) {
  std::string_view cidr = FindStr(block, {"cidr"});
  if (cidr.empty()) {
    errs.Required(Child(path, "cidr"));
    return;
  }
  std::vector<std::string> cidr_errors = CidrErrors(cidr);
  errs.InvalidEach(Child(path, "cidr"), cidr, cidr_errors);
  if (!cidr_errors.empty()) return;
  const json::array* except = FindArr(block, {"except"});
  if (!except) return;
  for (size_t i = 0; i < except->size(); ++i) {
    const json::string* s = (*except)[i].if_string();
    std::string_view e = s ? std::string_view(*s) : std::string_view();
    std::string ep = Index(Child(path, "except"), i);
    std::vector<std::string> except_errors = CidrErrors(e);
    errs.InvalidEach(ep, e, except_errors);
    if (!except_errors.empty()) continue;
    if (!CidrStrictlyContains(cidr, e)) {
      errs.InvalidString(ep, e, "must be a strict subset of `cidr`");
    }
  }
}

void ValidatePeer(const json::object& peer, const std::string& path, FieldErrors& errs) {
  int peers = 0;
  if (const json::object* s = FindObj(peer, {"podSelector"})) {
    ++peers;
    ValidateLabelSelector(*s, Child(path, "podSelector"), errs);
  }
  if (const json::object* s = FindObj(peer, {"namespaceSelector"})) {
    ++peers;
    ValidateLabelSelector(*s, Child(path, "namespaceSelector"), errs);
  }
  const json::object* block = FindObj(peer, {"ipBlock"});
  if (block) {
    ++peers;
    ValidateIpBlock(*block, Child(path, "ipBlock"), errs);
  }
  if (peers == 0) {
    errs.Required(path, "must specify a peer");
  } else if (peers > 1 && block) {
    errs.Forbidden(path, "may not specify both ipBlock and another peer");
  }
}

void ValidateRules(const json::object& spec, std::string_view direction, std::string_view peers,
                   FieldErrors& errs) {
  const json::array* rules = FindArr(spec, {direction});
  if (!rules) return;
  for (size_t i = 0; i < rules->size(); ++i) {
    const json::object* rule = (*rules)[i].if_object();
    if (!rule) continue;
    std::string rp = Index(Child("spec", direction), i);
    if (const json::array* ports = FindArr(*rule, {"ports"})) {
      for (size_t k = 0; k < ports->size(); ++k) {
        if (const json::object* port = (*ports)[k].if_object()) {
          ValidatePort(*port, Index(Child(rp, "ports"), k), errs);
        }
      }
    }
    if (const json::array* list = FindArr(*rule, {peers})) {
      for (size_t k = 0; k < list->size(); ++k) {
        if (const json::object* peer = (*list)[k].if_object()) {
          ValidatePeer(*peer, Index(Child(rp, peers), k), errs);
        }
      }
    }
  }
}

class NetworkPolicyStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object& spec = EnsureObj(obj, {"spec"});
    if (CountAt(spec, {"policyTypes"}) > 0) return;
    json::array types{"Ingress"};
    if (CountAt(spec, {"egress"}) > 0) types.emplace_back("Egress");
    spec["policyTypes"] = std::move(types);
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    if (const json::object* selector = FindObj(spec, {"podSelector"})) {
      ValidateLabelSelector(*selector, "spec.podSelector", errs);
    }
    ValidateRules(spec, "ingress", "from", errs);
    ValidateRules(spec, "egress", "to", errs);
    const json::array* types = FindArr(spec, {"policyTypes"});
    if (!types) return;
    if (types->size() > 2) {
      errs.Invalid("spec.policyTypes", GoPolicyTypes(*types),
                   "may not specify more than two policyTypes");
      return;
    }
    for (size_t i = 0; i < types->size(); ++i) {
      const json::string* s = (*types)[i].if_string();
      std::string_view t = s ? std::string_view(*s) : std::string_view();
      if (t != "Ingress" && t != "Egress") {
        errs.NotSupported(Index("spec.policyTypes", i), t, {"Ingress", "Egress"});
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Pod-Selector", "string", "",
             "Selects the pods to which this NetworkPolicy object applies. The array of ingress "
             "rules is applied to any pods selected by this field. Multiple network policies can "
             "select the same set of pods. In this case, the ingress rules for each are "
             "combined additively. This field is NOT optional and follows standard label "
             "selector semantics. An empty podSelector matches all pods in this namespace.",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string selector = LabelSelectorString(FindObj(obj, {"spec", "podSelector"}));
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(selector.empty() ? "<none>" : selector);
    cells.emplace_back(AgeCell(obj, ctx));
  }

 private:
  // %v of a *[]networking.PolicyType, as Kubernetes prints it for this error.
  static std::string GoPolicyTypes(const json::array& types) {
    std::string out = "[]networking.PolicyType{";
    for (size_t i = 0; i < types.size(); ++i) {
      const json::string* s = types[i].if_string();
      out += (i ? ", " : "") + GoQuote(s ? std::string_view(*s) : std::string_view());
    }
    return out + "}";
  }
};

}  // namespace

const KindStrategy& NetworkPolicyStrategy() {
  static const NetworkPolicyStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
