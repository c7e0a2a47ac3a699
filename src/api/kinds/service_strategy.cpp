// Service: the type-dependent defaults (targetPort, traffic policies, IP families),
// keeping allocated cluster IPs and node ports across updates that omit them,
// Kubernetes' service validation, and the `kubectl get services` table.
#include <boost/json.hpp>
#include <map>
#include <set>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr int64_t kKubeletPort = 10250;
constexpr int64_t kMaxClientIpAffinitySeconds = 86400;
constexpr int64_t kDefaultClientIpAffinitySeconds = 10800;

const json::object& EmptyObject() {
  static const json::object kEmpty;
  return kEmpty;
}

std::string_view TypeOf(const json::object& spec) { return FindStr(spec, {"type"}); }

bool ExternallyAccessible(const json::object& spec) {
  std::string_view type = TypeOf(spec);
  return type == "LoadBalancer" || type == "NodePort" ||
         (type == "ClusterIP" && CountAt(spec, {"externalIPs"}) > 0);
}

bool NeedsClusterIp(const json::object& spec) { return TypeOf(spec) != "ExternalName"; }

bool NeedsNodePort(const json::object& spec) {
  std::string_view type = TypeOf(spec);
  if (type == "NodePort") return true;
  if (type != "LoadBalancer") return false;
  const json::value* allocate = spec.if_contains("allocateLoadBalancerNodePorts");
  return !allocate || !allocate->is_bool() || allocate->get_bool();
}

bool NeedsHealthCheckNodePort(const json::object& spec) {
  return TypeOf(spec) == "LoadBalancer" && FindStr(spec, {"externalTrafficPolicy"}) == "Local";
}

bool IsHeadless(const json::object& spec) {
  const json::array* ips = FindArr(spec, {"clusterIPs"});
  if (!ips || ips->size() != 1) return false;
  const json::string* first = (*ips)[0].if_string();
  return first && *first == "None";
}

bool SameMember(const json::object& a, const json::object& b, std::string_view key) {
  return SemanticEqualMember(a.if_contains(key), b.if_contains(key));
}

bool SameNodePorts(const json::object& a, const json::object& b) {
  const json::array* pa = FindArr(a, {"ports"});
  const json::array* pb = FindArr(b, {"ports"});
  size_t n = pa ? pa->size() : 0;
  if (n != (pb ? pb->size() : 0)) return false;
  for (size_t i = 0; i < n; ++i) {
    const json::object* x = (*pa)[i].if_object();
    const json::object* y = (*pb)[i].if_object();
    if (FindInt(x ? *x : EmptyObject(), {"nodePort"}).value_or(0) !=
        FindInt(y ? *y : EmptyObject(), {"nodePort"}).value_or(0)) {
      return false;
    }
  }
  return true;
}

// IP families are decided once a cluster IP is known (allocated or given). A headless
// service without a selector may receive endpoints of any family, so it asks for all.
void DefaultIpFamilies(json::object& spec) {
  if (!NeedsClusterIp(spec)) return;
  std::string first(FindStr(spec, {"clusterIP"}));
  if (const json::array* ips = FindArr(spec, {"clusterIPs"}); ips && !ips->empty()) {
    if (const json::string* s = (*ips)[0].if_string()) first = std::string(*s);
  }
  if (first.empty()) return;
  bool families_empty = CountAt(spec, {"ipFamilies"}) == 0;
  if (first == "None" && CountAt(spec, {"selector"}) == 0) {
    if (families_empty) spec["ipFamilies"] = json::array{"IPv4"};
    if (IsUnsetString(spec, "ipFamilyPolicy")) spec["ipFamilyPolicy"] = "RequireDualStack";
    return;
  }
  if (IsUnsetString(spec, "ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  if (families_empty) spec["ipFamilies"] = json::array{IsIpv6Address(first) ? "IPv6" : "IPv4"};
}

// Keeps `clusterIP` and `clusterIPs` in step for clients that only know one of them.
void NormalizeClusterIps(json::object& spec, const json::object* old_spec) {
  std::string cluster_ip(FindStr(spec, {"clusterIP"}));
  size_t n_ips = CountAt(spec, {"clusterIPs"});
  if (!old_spec) {
    if (!cluster_ip.empty() && n_ips == 0) spec["clusterIPs"] = json::array{cluster_ip};
    return;
  }
  std::string old_ip(FindStr(*old_spec, {"clusterIP"}));
  if (CountAt(*old_spec, {"clusterIPs"}) > 0 && n_ips == 0 && old_ip == cluster_ip) {
    spec["clusterIPs"] = *old_spec->if_contains("clusterIPs");
  }
  if (old_ip != cluster_ip) {
    bool same_ips = SameMember(spec, *old_spec, "clusterIPs");
    if (!old_ip.empty() && cluster_ip.empty()) {
      if (same_ips) spec.erase("clusterIPs");
    } else if (same_ips) {
      spec["clusterIPs"] = json::array{cluster_ip};
    }
  }
}

// A replace that omits allocated values (cluster IPs, node ports) keeps the old ones.
void PatchAllocatedValues(json::object& spec, const json::object& old_spec) {
  if (NeedsClusterIp(old_spec) && NeedsClusterIp(spec)) {
    if (FindStr(spec, {"clusterIP"}).empty() && !FindStr(old_spec, {"clusterIP"}).empty()) {
      spec["clusterIP"] = *old_spec.if_contains("clusterIP");
    }
    if (CountAt(spec, {"clusterIPs"}) == 0 && CountAt(old_spec, {"clusterIPs"}) > 0) {
      spec["clusterIPs"] = *old_spec.if_contains("clusterIPs");
    }
  }
  if (NeedsNodePort(old_spec) && NeedsNodePort(spec)) {
    auto used_ports = [](const json::object& s) {
      std::set<int64_t> used;
      if (const json::array* ports = FindArr(s, {"ports"})) {
        for (const json::value& pv : *ports) {
          const json::object* p = pv.if_object();
          if (int64_t np = p ? FindInt(*p, {"nodePort"}).value_or(0) : 0; np != 0) used.insert(np);
        }
      }
      return used;
    };
    std::set<int64_t> old_used = used_ports(old_spec);
    std::set<int64_t> new_used = used_ports(spec);
    std::map<std::string, int64_t> by_name;
    if (const json::array* ports = FindArr(old_spec, {"ports"})) {
      for (const json::value& pv : *ports) {
        if (const json::object* p = pv.if_object()) {
          by_name[std::string(FindStr(*p, {"name"}))] = FindInt(*p, {"nodePort"}).value_or(0);
        }
      }
    }
    if (json::array* ports = FindMutArr(spec, {"ports"})) {
      for (json::value& pv : *ports) {
        json::object* p = pv.if_object();
        if (!p || FindInt(*p, {"nodePort"}).value_or(0) != 0) continue;
        auto it = by_name.find(std::string(FindStr(*p, {"name"})));
        if (it == by_name.end() || it->second == 0) continue;
        bool used_by_another = old_used.contains(it->second) && new_used.contains(it->second);
        if (!used_by_another) (*p)["nodePort"] = it->second;
      }
    }
  }
  if (NeedsHealthCheckNodePort(old_spec) && NeedsHealthCheckNodePort(spec) &&
      FindInt(spec, {"healthCheckNodePort"}).value_or(0) == 0) {
    if (const json::value* hc = old_spec.if_contains("healthCheckNodePort")) {
      spec["healthCheckNodePort"] = *hc;
    }
  }
}

// On a type change, clears what the new type cannot have, unless the user changed it too
// (then validation reports it).
void DropTypeDependentFields(json::object& obj, const json::object& old) {
  json::object& spec = EnsureObj(obj, {"spec"});
  const json::object* old_spec_ptr = FindObj(old, {"spec"});
  const json::object& old_spec = old_spec_ptr ? *old_spec_ptr : EmptyObject();
  if (NeedsClusterIp(old_spec) && !NeedsClusterIp(spec)) {
    if (SameMember(spec, old_spec, "clusterIP") && SameMember(spec, old_spec, "clusterIPs")) {
      spec.erase("clusterIP");
      spec.erase("clusterIPs");
    }
    if (SameMember(spec, old_spec, "ipFamilies")) spec.erase("ipFamilies");
    if (SameMember(spec, old_spec, "ipFamilyPolicy")) spec.erase("ipFamilyPolicy");
  }
  if (NeedsNodePort(old_spec) && !NeedsNodePort(spec)) {
    if (SameNodePorts(spec, old_spec)) {
      if (json::array* ports = FindMutArr(spec, {"ports"})) {
        for (json::value& pv : *ports) {
          if (json::object* p = pv.if_object()) p->erase("nodePort");
        }
      }
    }
    if (SameMember(spec, old_spec, "healthCheckNodePort")) spec.erase("healthCheckNodePort");
  }
  if (TypeOf(old_spec) == "LoadBalancer" && TypeOf(spec) != "LoadBalancer") {
    const json::value* now = spec.if_contains("allocateLoadBalancerNodePorts");
    const json::value* before = old_spec.if_contains("allocateLoadBalancerNodePorts");
    if (now && before && SemanticEqual(*now, *before)) spec.erase("allocateLoadBalancerNodePorts");
    if (SameMember(spec, old_spec, "loadBalancerClass")) spec.erase("loadBalancerClass");
  }
  if (ExternallyAccessible(old_spec) && !ExternallyAccessible(spec) &&
      SameMember(spec, old_spec, "externalTrafficPolicy")) {
    spec.erase("externalTrafficPolicy");
  }
  if (TypeOf(spec) != "LoadBalancer") {
    if (json::object* status = FindMutObj(obj, {"status"})) status->erase("loadBalancer");
  }
}

// ---------------------------------------------------------------------------
// Validation

std::string GoServicePortKey(std::string_view protocol, int64_t port) {
  return "core.ServicePort{Name:\"\", Protocol:" + GoQuote(protocol) +
         ", AppProtocol:(*string)(nil), Port:" + std::to_string(port) +
         ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}";
}

void ValidateTargetPort(const json::value* target, const std::string& path, FieldErrors& errs) {
  if (!target) {
    errs.InvalidInt(path, 0, "must be between 1 and 65535, inclusive");
    return;
  }
  if (const json::string* s = target->if_string()) {
    errs.InvalidEach(path, *s, PortNameErrors(*s));
    return;
  }
  int64_t n = target->is_int64() ? target->get_int64() : 0;
  for (const std::string& m : PortNumErrors(n)) errs.InvalidInt(path, n, m);
}

void ValidatePorts(const json::object& spec, FieldErrors& errs) {
  const json::array* ports = FindArr(spec, {"ports"});
  if (!ports) return;
  std::set<std::string> names;
  for (size_t i = 0; i < ports->size(); ++i) {
    const json::object* p = (*ports)[i].if_object();
    if (!p) continue;
    std::string pp = Index("spec.ports", i);
    std::string_view name = FindStr(*p, {"name"});
    if (ports->size() > 1 && name.empty()) {
      errs.Required(Child(pp, "name"));
    } else if (!name.empty()) {
      errs.InvalidEach(Child(pp, "name"), name, Dns1123LabelErrors(name));
      if (!names.emplace(name).second) errs.Duplicate(Child(pp, "name"), GoQuote(name));
    }
    int64_t port = FindInt(*p, {"port"}).value_or(0);
    for (const std::string& m : PortNumErrors(port)) errs.InvalidInt(Child(pp, "port"), port, m);
    std::string_view protocol = FindStr(*p, {"protocol"});
    if (protocol.empty()) {
      errs.Required(Child(pp, "protocol"));
    } else if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
      errs.NotSupported(Child(pp, "protocol"), protocol, {"SCTP", "TCP", "UDP"});
    }
    ValidateTargetPort(p->if_contains("targetPort"), Child(pp, "targetPort"), errs);
    if (const json::value* app = p->if_contains("appProtocol"); app && app->is_string()) {
      errs.InvalidEach(Child(pp, "appProtocol"), app->get_string(),
                       QualifiedNameErrors(app->get_string()));
    }
  }
}

void ValidateClusterIps(const json::object& spec, FieldErrors& errs) {
  if (TypeOf(spec) == "ExternalName") return;
  std::string_view cluster_ip = FindStr(spec, {"clusterIP"});
  const json::array* ips = FindArr(spec, {"clusterIPs"});
  size_t n = ips ? ips->size() : 0;
  if (!cluster_ip.empty()) {
    if (n == 0) {
      errs.Required("spec.clusterIPs");
    } else if (const json::string* first = (*ips)[0].if_string(); !first || *first != cluster_ip) {
      errs.Invalid("spec.clusterIPs", GoStringSlice(ips), "first value must match `clusterIP`");
    }
  } else if (n != 0) {
    errs.Invalid("spec.clusterIPs", GoStringSlice(ips),
                 "must be empty when `clusterIP` is not specified");
  }
  if (const json::array* families = FindArr(spec, {"ipFamilies"})) {
    std::set<std::string> seen;
    for (size_t i = 0; i < families->size(); ++i) {
      const json::string* f = (*families)[i].if_string();
      std::string_view family = f ? std::string_view(*f) : std::string_view();
      if (family != "IPv4" && family != "IPv6") {
        errs.NotSupported(Index("spec.ipFamilies", i), family, {"IPv4", "IPv6"});
      }
      if (!seen.emplace(family).second)
        errs.Duplicate(Index("spec.ipFamilies", i), GoQuote(family));
    }
  }
  std::string_view policy = FindStr(spec, {"ipFamilyPolicy"});
  if (spec.contains("ipFamilyPolicy") && policy != "SingleStack" && policy != "PreferDualStack" &&
      policy != "RequireDualStack") {
    errs.NotSupported("spec.ipFamilyPolicy", policy,
                      {"PreferDualStack", "RequireDualStack", "SingleStack"});
  }
  for (size_t i = 0; i < n; ++i) {
    const json::string* ip = (*ips)[i].if_string();
    std::string_view value = ip ? std::string_view(*ip) : std::string_view();
    if (i == 0 && value == "None") {
      if (n > 1)
        errs.Invalid("spec.clusterIPs", GoStringSlice(ips),
                     "'None' must be the first and only value");
      continue;
    }
    ValidateIpAddress(Index("spec.clusterIPs", i), value, errs);
  }
  if (n > 2) errs.Invalid("spec.clusterIPs", GoStringSlice(ips), "may only hold up to 2 values");
  if (n == 2 && IsIpAddress(FindStr(spec, {"clusterIP"}))) {
    const json::string* a = (*ips)[0].if_string();
    const json::string* b = (*ips)[1].if_string();
    if (a && b && IsIpAddress(*b) && IsIpv6Address(*a) == IsIpv6Address(*b)) {
      errs.Invalid("spec.clusterIPs", GoStringSlice(ips),
                   "may specify no more than one IP for each IP family");
    }
  }
}

void ValidateService(const json::object& obj, FieldErrors& errs) {
  const json::object* spec_ptr = FindObj(obj, {"spec"});
  const json::object& spec = spec_ptr ? *spec_ptr : EmptyObject();
  std::string_view type = TypeOf(spec);
  bool headless = IsHeadless(spec);
  const json::array* ports = FindArr(spec, {"ports"});
  size_t n_ports = ports ? ports->size() : 0;
  auto first_cluster_ip = [&]() -> std::string_view {
    const json::array* ips = FindArr(spec, {"clusterIPs"});
    const json::string* s = ips && !ips->empty() ? (*ips)[0].if_string() : nullptr;
    return s ? std::string_view(*s) : std::string_view();
  };
  bool none_ip = headless && first_cluster_ip() == "None";

  if (n_ports == 0 && !headless && type != "ExternalName") errs.Required("spec.ports");
  if (type == "LoadBalancer") {
    if (none_ip) {
      errs.InvalidString("spec.clusterIPs[0]", "None",
                         "may not be set to 'None' for LoadBalancer services");
    }
    for (size_t i = 0; i < n_ports; ++i) {
      const json::object* p = (*ports)[i].if_object();
      int64_t port = p ? FindInt(*p, {"port"}).value_or(0) : 0;
      if (port == kKubeletPort) {
        errs.InvalidInt(Index("spec.ports", i), port,
                        "may not expose port 10250 externally since it is used by kubelet");
      }
    }
  } else if (type == "NodePort") {
    if (none_ip) {
      errs.InvalidString("spec.clusterIPs[0]", "None",
                         "may not be set to 'None' for NodePort services");
    }
  } else if (type == "ExternalName") {
    if (CountAt(spec, {"clusterIPs"}) > 0) {
      errs.Forbidden("spec.clusterIPs", "may not be set for ExternalName services");
    }
    if (CountAt(spec, {"ipFamilies"}) > 0) {
      errs.Forbidden("spec.ipFamilies", "may not be set for ExternalName services");
    }
    if (spec.contains("ipFamilyPolicy")) {
      errs.Forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services");
    }
    std::string_view cname = FindStr(spec, {"externalName"});
    if (cname.ends_with('.')) cname.remove_suffix(1);
    if (cname.empty()) {
      errs.Required("spec.externalName");
    } else {
      errs.InvalidEach("spec.externalName", cname, Dns1123SubdomainErrors(cname));
    }
  }

  ValidatePorts(spec, errs);

  if (const json::object* selector = FindObj(spec, {"selector"})) {
    ValidateLabelMap(*selector, "spec.selector", errs);
  }

  std::string_view affinity = FindStr(spec, {"sessionAffinity"});
  if (affinity.empty()) {
    errs.Required("spec.sessionAffinity");
  } else if (affinity != "ClientIP" && affinity != "None") {
    errs.NotSupported("spec.sessionAffinity", affinity, {"ClientIP", "None"});
  }
  if (affinity == "ClientIP") {
    const json::object* config = FindObj(spec, {"sessionAffinityConfig"});
    const char* why = "when session affinity type is ClientIP";
    if (!config) {
      errs.Required("spec.sessionAffinityConfig", why);
    } else if (!FindObj(*config, {"clientIP"})) {
      errs.Required("spec.sessionAffinityConfig.clientIP", why);
    } else if (auto timeout = FindInt(*config, {"clientIP", "timeoutSeconds"}); !timeout) {
      errs.Required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", why);
    } else if (*timeout <= 0 || *timeout > kMaxClientIpAffinitySeconds) {
      errs.InvalidInt("spec.sessionAffinityConfig.clientIP.timeoutSeconds", *timeout,
                      "must be greater than 0 and less than 86400");
    }
  } else if (affinity == "None" && spec.contains("sessionAffinityConfig")) {
    errs.Forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None");
  }

  ValidateClusterIps(spec, errs);

  if (const json::array* external = FindArr(spec, {"externalIPs"})) {
    for (size_t i = 0; i < external->size(); ++i) {
      const json::string* s = (*external)[i].if_string();
      std::string_view ip = s ? std::string_view(*s) : std::string_view();
      std::string path = Index("spec.externalIPs", i);
      if (!IsIpAddress(ip)) {
        ValidateIpAddress(path, ip, errs);
      } else {
        errs.InvalidEach(path, ip, NonSpecialIpErrors(ip));
      }
    }
  }

  if (type.empty()) {
    errs.Required("spec.type");
  } else if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" &&
             type != "ExternalName") {
    errs.NotSupported("spec.type", type, {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"});
  }

  if (type == "ClusterIP") {
    for (size_t i = 0; i < n_ports; ++i) {
      const json::object* p = (*ports)[i].if_object();
      if (p && FindInt(*p, {"nodePort"}).value_or(0) != 0) {
        errs.Forbidden(Child(Index("spec.ports", i), "nodePort"),
                       "may not be used when `type` is 'ClusterIP'");
      }
    }
  }

  std::set<std::pair<std::string, int64_t>> node_ports;
  std::set<std::pair<std::string, int64_t>> service_ports;
  for (size_t i = 0; i < n_ports; ++i) {
    const json::object* p = (*ports)[i].if_object();
    if (!p) continue;
    std::string protocol(FindStr(*p, {"protocol"}));
    int64_t node_port = FindInt(*p, {"nodePort"}).value_or(0);
    if (node_port != 0 && !node_ports.emplace(protocol, node_port).second) {
      errs.Duplicate(Child(Index("spec.ports", i), "nodePort"), std::to_string(node_port));
    }
    int64_t port = FindInt(*p, {"port"}).value_or(0);
    if (!service_ports.emplace(protocol, port).second) {
      errs.Duplicate(Index("spec.ports", i), GoServicePortKey(protocol, port));
    }
  }

  if (CountAt(spec, {"loadBalancerSourceRanges"}) > 0 && type != "LoadBalancer") {
    errs.Forbidden("spec.LoadBalancerSourceRanges",
                   "may only be used when `type` is 'LoadBalancer'");
  }
  if (spec.contains("allocateLoadBalancerNodePorts") && type != "LoadBalancer") {
    errs.Forbidden("spec.allocateLoadBalancerNodePorts",
                   "may only be used when `type` is 'LoadBalancer'");
  }
  if (type == "LoadBalancer" && !spec.contains("allocateLoadBalancerNodePorts")) {
    errs.Required("spec.allocateLoadBalancerNodePorts");
  }
  if (spec.contains("loadBalancerClass") && type != "LoadBalancer") {
    errs.Forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'");
  }

  std::string_view etp = FindStr(spec, {"externalTrafficPolicy"});
  if (!ExternallyAccessible(spec)) {
    if (!etp.empty()) {
      errs.InvalidString("spec.externalTrafficPolicy", etp,
                         "may only be set for externally-accessible services");
    }
  } else if (etp.empty()) {
    errs.Required("spec.externalTrafficPolicy");
  } else if (etp != "Cluster" && etp != "Local") {
    errs.NotSupported("spec.externalTrafficPolicy", etp, {"Cluster", "Local"});
  }
  if (!NeedsHealthCheckNodePort(spec)) {
    if (int64_t hc = FindInt(spec, {"healthCheckNodePort"}).value_or(0); hc != 0) {
      errs.InvalidInt(
          "spec.healthCheckNodePort", hc,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    }
  }

  std::string_view itp = FindStr(spec, {"internalTrafficPolicy"});
  if (!spec.contains("internalTrafficPolicy")) {
    if (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP") {
      errs.Required("spec.internalTrafficPolicy",
                    "must be specified when `type` is 'ClusterIP', 'NodePort', or 'LoadBalancer'");
    }
  } else if (itp != "Cluster" && itp != "Local") {
    errs.NotSupported("spec.internalTrafficPolicy", itp, {"Cluster", "Local"});
  }
}

void ValidateServiceUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  const json::object* spec = FindObj(obj, {"spec"});
  const json::object* old_spec = FindObj(old, {"spec"});
  if (!spec || !old_spec) return;
  if (TypeOf(*spec) == "ExternalName" || TypeOf(*old_spec) == "ExternalName") return;
  const json::array* ips = FindArr(*spec, {"clusterIPs"});
  const json::array* old_ips = FindArr(*old_spec, {"clusterIPs"});
  if (ips && !ips->empty() && old_ips && !old_ips->empty() &&
      !SemanticEqual((*ips)[0], (*old_ips)[0])) {
    errs.Invalid("spec.clusterIPs[0]", GoStringSlice(ips), "may not change once set");
  }
  const json::array* families = FindArr(*spec, {"ipFamilies"});
  const json::array* old_families = FindArr(*old_spec, {"ipFamilies"});
  if (families && !families->empty() && old_families && !old_families->empty() &&
      !SemanticEqual((*families)[0], (*old_families)[0])) {
    const json::string* f = (*families)[0].if_string();
    errs.InvalidString("spec.ipFamilies[0]", f ? std::string_view(*f) : std::string_view(),
                       "may not change once set");
  }
}

// ---------------------------------------------------------------------------
// Table

std::string JoinStrings(const json::array* items) {
  std::string out;
  if (!items) return out;
  for (const json::value& v : *items) {
    const json::string* s = v.if_string();
    if (!out.empty()) out += ',';
    if (s) out += *s;
  }
  return out;
}

std::string ExternalIpCell(const json::object& obj) {
  const json::object* spec_ptr = FindObj(obj, {"spec"});
  const json::object& spec = spec_ptr ? *spec_ptr : EmptyObject();
  std::string_view type = TypeOf(spec);
  const json::array* external = FindArr(spec, {"externalIPs"});
  bool has_external = external && !external->empty();
  if (type == "ClusterIP" || type == "NodePort") {
    return has_external ? JoinStrings(external) : "<none>";
  }
  if (type == "LoadBalancer") {
    std::set<std::string> ingress;  // sorted and unique, as kubectl prints them
    if (const json::array* list = FindArr(obj, {"status", "loadBalancer", "ingress"})) {
      for (const json::value& iv : *list) {
        const json::object* i = iv.if_object();
        if (!i) continue;
        if (std::string_view ip = FindStr(*i, {"ip"}); !ip.empty()) {
          ingress.emplace(ip);
        } else if (std::string_view host = FindStr(*i, {"hostname"}); !host.empty()) {
          ingress.emplace(host);
        }
      }
    }
    std::string out;
    for (const std::string& s : ingress) out += (out.empty() ? "" : ",") + s;
    if (has_external) {
      std::string ext = JoinStrings(external);
      return out.empty() ? ext : out + "," + ext;
    }
    return out.empty() ? "<pending>" : out;
  }
  if (type == "ExternalName") return std::string(FindStr(spec, {"externalName"}));
  return "<unknown>";
}

std::string PortsCell(const json::object& obj) {
  const json::array* ports = FindArr(obj, {"spec", "ports"});
  if (!ports || ports->empty()) return "<none>";
  std::string out;
  for (const json::value& pv : *ports) {
    const json::object* p = pv.if_object();
    const json::object& port = p ? *p : EmptyObject();
    if (!out.empty()) out += ',';
    out += std::to_string(FindInt(port, {"port"}).value_or(0));
    if (int64_t np = FindInt(port, {"nodePort"}).value_or(0); np > 0)
      out += ":" + std::to_string(np);
    out += "/";
    out += FindStr(port, {"protocol"});
  }
  return out;
}

std::string SelectorCell(const json::object& obj) {
  const json::object* selector = FindObj(obj, {"spec", "selector"});
  if (!selector || selector->empty()) return "<none>";
  std::map<std::string, std::string> sorted;
  for (const auto& kv : *selector) {
    const json::string* v = kv.value().if_string();
    sorted.emplace(std::string(kv.key()), v ? std::string(*v) : std::string());
  }
  std::string out;
  for (const auto& [k, v] : sorted) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

class ServiceStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* spec_ptr = FindMutObj(obj, {"spec"});
    if (!spec_ptr) return;
    json::object& spec = *spec_ptr;
    if (IsUnsetString(spec, "sessionAffinity")) spec["sessionAffinity"] = "None";
    std::string affinity(FindStr(spec, {"sessionAffinity"}));
    if (affinity == "None") spec.erase("sessionAffinityConfig");
    if (affinity == "ClientIP" &&
        !FindInt(spec, {"sessionAffinityConfig", "clientIP", "timeoutSeconds"})) {
      spec["sessionAffinityConfig"] = json::object{
          {"clientIP", json::object{{"timeoutSeconds", kDefaultClientIpAffinitySeconds}}}};
    }
    if (IsUnsetString(spec, "type")) spec["type"] = "ClusterIP";
    if (json::array* ports = FindMutArr(spec, {"ports"})) {
      for (json::value& pv : *ports) {
        json::object* p = pv.if_object();
        if (!p) continue;
        if (IsUnsetString(*p, "protocol")) (*p)["protocol"] = "TCP";
        const json::value* target = p->if_contains("targetPort");
        bool unset = !target || target->is_null() ||
                     (target->is_string() && target->get_string().empty()) ||
                     (target->is_number() && FindInt(*p, {"targetPort"}).value_or(0) == 0);
        if (unset) {
          if (const json::value* port = p->if_contains("port")) {
            json::value copy = *port;  // inserting may move p's members
            (*p)["targetPort"] = std::move(copy);
          }
        }
      }
    }
    if (ExternallyAccessible(spec) && IsUnsetString(spec, "externalTrafficPolicy")) {
      spec["externalTrafficPolicy"] = "Cluster";
    }
    std::string type(TypeOf(spec));
    if (!spec.contains("internalTrafficPolicy") &&
        (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP")) {
      spec["internalTrafficPolicy"] = "Cluster";
    }
    if (type == "LoadBalancer" && !spec.contains("allocateLoadBalancerNodePorts")) {
      spec["allocateLoadBalancerNodePorts"] = true;
    }
    DefaultIpFamilies(spec);
  }

  void PrepareForCreate(json::object& obj) const override {
    obj["status"] = json::object{{"loadBalancer", json::object()}};
    json::object& spec = EnsureObj(obj, {"spec"});
    NormalizeClusterIps(spec, nullptr);
    DefaultIpFamilies(spec);
  }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    const json::object* old_spec = FindObj(old, {"spec"});
    json::object& spec = EnsureObj(obj, {"spec"});
    if (old_spec) {
      PatchAllocatedValues(spec, *old_spec);
      NormalizeClusterIps(spec, old_spec);
    }
    DropTypeDependentFields(obj, old);
    DefaultIpFamilies(EnsureObj(obj, {"spec"}));
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    if (old) ValidateServiceUpdate(obj, *old, errs);
    ValidateService(obj, errs);
  }

  std::optional<std::string> FieldValue(const json::object& obj,
                                        std::string_view field) const override {
    if (field == "spec.clusterIP") return std::string(FindStr(obj, {"spec", "clusterIP"}));
    if (field == "spec.type") return std::string(FindStr(obj, {"spec", "type"}));
    return std::nullopt;
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Type", "string", "",
         "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
         "ExternalName, ClusterIP, NodePort, and LoadBalancer.",
         0},
        {"Cluster-IP", "string", "",
         "clusterIP is the IP address of the service and is usually assigned randomly.", 0},
        {"External-IP", "string", "",
         "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
         "traffic for this service.",
         0},
        {"Port(s)", "string", "",
         "The list of ports that are exposed by this service. More info: "
         "https://kubernetes.io/docs/concepts/services-networking/service/"
         "#virtual-ips-and-service-proxies",
         0},
        AgeColumn(),
        {"Selector", "string", "",
         "Route service traffic to pods with label keys and values matching this selector.", 1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string cluster_ip = "<none>";
    if (const json::array* ips = FindArr(obj, {"spec", "clusterIPs"}); ips && !ips->empty()) {
      const json::string* s = (*ips)[0].if_string();
      cluster_ip = s ? std::string(*s) : std::string();
    }
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"spec", "type"}));
    cells.emplace_back(cluster_ip);
    cells.emplace_back(ExternalIpCell(obj));
    cells.emplace_back(PortsCell(obj));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(SelectorCell(obj));
  }
};

}  // namespace

const KindStrategy& ServiceStrategy() {
  static const ServiceStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
