// Ingress (networking.k8s.io/v1): rule, path, backend and TLS validation with Kubernetes'
// messages, the status subresource, generation tracking, and the `kubectl get ingress`
// table (CLASS, HOSTS, ADDRESS, PORTS).
#include <set>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/networking_rules.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_names.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr std::string_view kIngressClassAnnotation = "kubernetes.io/ingress.class";

void ValidateBackend(const json::object& backend, const std::string& path, FieldErrors& errs) {
  const json::object* resource = FindObj(backend, {"resource"});
  const json::object* service = FindObj(backend, {"service"});
  if (resource && service) {
    errs.Invalid(path, "\"\"", "cannot set both resource and service backends");
    return;
  }
  if (resource) {
    ValidateTypedReference(*resource, Child(path, "resource"), /*require_scope=*/false, errs);
    return;
  }
  if (!service) {
    errs.Invalid(path, "\"\"", "resource or service backend is required");
    return;
  }
  std::string_view name = FindStr(*service, {"name"});
  if (name.empty()) {
    errs.Required(Child(path, "service.name"));
  } else {
    errs.InvalidEach(Child(path, "service.name"), name, IsDns1035Label(name));
  }
  std::string_view port_name = FindStr(*service, {"port", "name"});
  int64_t port_number = FindInt(*service, {"port", "number"}).value_or(0);
  if (!port_name.empty() && port_number != 0) {
    errs.Invalid(path, "\"\"", "cannot set both port name & port number");
  } else if (!port_name.empty()) {
    errs.InvalidEach(Child(path, "service.port.name"), port_name, PortNameErrors(port_name));
  } else if (port_number != 0) {
    for (const std::string& m : PortNumErrors(port_number)) {
      errs.InvalidInt(Child(path, "service.port.number"), port_number, m);
    }
  } else {
    errs.Required(path, "port name or number is required");
  }
}

void ValidatePath(const json::object& p, const std::string& path, FieldErrors& errs) {
  const json::value* type_v = p.if_contains("pathType");
  if (!type_v || type_v->is_null()) {
    errs.Required(Child(path, "pathType"), "pathType must be specified");
    return;
  }
  std::string_view type = FindStr(p, {"pathType"});
  std::string_view value = FindStr(p, {"path"});
  std::string path_field = Child(path, "path");
  if (type == "Exact" || type == "Prefix") {
    if (!value.starts_with('/')) errs.InvalidString(path_field, value, "must be an absolute path");
    if (!value.empty()) {
      for (std::string_view seq : {"//", "/./", "/../", "%2f", "%2F"}) {
        if (value.find(seq) != std::string_view::npos) {
          errs.InvalidString(path_field, value, "must not contain '" + std::string(seq) + "'");
        }
      }
      for (std::string_view suffix : {"/..", "/."}) {
        if (value.ends_with(suffix)) {
          errs.InvalidString(path_field, value, "cannot end with '" + std::string(suffix) + "'");
        }
      }
    }
  } else if (type == "ImplementationSpecific") {
    if (!value.empty() && !value.starts_with('/')) {
      errs.InvalidString(path_field, value, "must be an absolute path");
    }
  } else {
    errs.NotSupported(Child(path, "pathType"), type, {"Exact", "ImplementationSpecific", "Prefix"});
  }
  static const json::object kEmpty;
  const json::object* backend = FindObj(p, {"backend"});
  ValidateBackend(backend ? *backend : kEmpty, Child(path, "backend"), errs);
}

void ValidateRules(const json::array& rules, FieldErrors& errs) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const json::object* rule = rules[i].if_object();
    if (!rule) continue;
    std::string rp = Index("spec.rules", i);
    std::string_view host = FindStr(*rule, {"host"});
    if (!host.empty()) {
      if (IsIpAddress(host)) {
        errs.InvalidString(Child(rp, "host"), host, "must be a DNS name, not an IP address");
      }
      if (host.find('*') != std::string_view::npos) {
        errs.InvalidEach(Child(rp, "host"), host, WildcardDns1123SubdomainErrors(host));
      } else {
        errs.InvalidEach(Child(rp, "host"), host, Dns1123SubdomainErrors(host));
      }
    }
    const json::object* http = FindObj(*rule, {"http"});
    if (!http) continue;
    std::string hp = Child(rp, "http");
    const json::array* paths = FindArr(*http, {"paths"});
    if (!paths || paths->empty()) {
      errs.Required(Child(hp, "paths"));
      continue;
    }
    for (size_t k = 0; k < paths->size(); ++k) {
      if (const json::object* p = (*paths)[k].if_object()) {
        ValidatePath(*p, Index(Child(hp, "paths"), k), errs);
      }
    }
  }
}

void ValidateTls(const json::array& tls, FieldErrors& errs) {
  for (size_t i = 0; i < tls.size(); ++i) {
    const json::object* entry = tls[i].if_object();
    if (!entry) continue;
    std::string tp = Index("spec.tls", i);
    if (const json::array* hosts = FindArr(*entry, {"hosts"})) {
      for (size_t k = 0; k < hosts->size(); ++k) {
        const json::string* s = (*hosts)[k].if_string();
        std::string_view host = s ? std::string_view(*s) : std::string_view();
        std::string hp = Index(Child(tp, "hosts"), k);
        if (host.find('*') != std::string_view::npos) {
          errs.InvalidEach(hp, host, WildcardDns1123SubdomainErrors(host));
        } else {
          errs.InvalidEach(hp, host, Dns1123SubdomainErrors(host));
        }
      }
    }
    std::string_view secret = FindStr(*entry, {"secretName"});
    if (!secret.empty()) {
      errs.InvalidEach(Child(tp, "secretName"), secret, Dns1123SubdomainErrors(secret));
    }
  }
}

// HOSTS: up to three hosts, "*" when no rule names one.
std::string HostsCell(const json::array* rules) {
  if (!rules) return "*";
  std::vector<std::string> list;
  bool more = false;
  for (const json::value& r : *rules) {
    if (list.size() == 3) more = true;
    const json::object* rule = r.if_object();
    std::string_view host = rule ? FindStr(*rule, {"host"}) : std::string_view();
    if (!more && !host.empty()) list.emplace_back(host);
  }
  if (list.empty()) return "*";
  std::string out;
  for (const std::string& h : list) out += (out.empty() ? "" : ",") + h;
  if (more) out += " + " + std::to_string(rules->size() - 3) + " more...";
  return out;
}

// ADDRESS: the sorted, distinct IPs and hostnames of the load balancer.
std::string AddressCell(const json::object& obj) {
  std::set<std::string> addresses;
  if (const json::array* ingress = FindArr(obj, {"status", "loadBalancer", "ingress"})) {
    for (const json::value& v : *ingress) {
      const json::object* point = v.if_object();
      if (!point) continue;
      if (std::string_view ip = FindStr(*point, {"ip"}); !ip.empty()) addresses.emplace(ip);
      if (std::string_view h = FindStr(*point, {"hostname"}); !h.empty()) addresses.emplace(h);
    }
  }
  std::string out;
  for (const std::string& a : addresses) out += (out.empty() ? "" : ",") + a;
  return out;
}

class IngressStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    const json::array* rules = FindArr(spec, {"rules"});
    const json::object* default_backend = FindObj(spec, {"defaultBackend"});
    if ((!rules || rules->empty()) && !default_backend) {
      errs.Invalid("spec", rules ? "[]networking.IngressRule{}" : "[]networking.IngressRule(nil)",
                   "either `defaultBackend` or `rules` must be specified");
    }
    if (default_backend) ValidateBackend(*default_backend, "spec.defaultBackend", errs);
    if (rules) ValidateRules(*rules, errs);
    if (const json::array* tls = FindArr(spec, {"tls"})) ValidateTls(*tls, errs);
    const json::value* class_name = spec.if_contains("ingressClassName");
    if (class_name && class_name->is_string()) {
      errs.InvalidEach("spec.ingressClassName", class_name->get_string(),
                       Dns1123SubdomainErrors(class_name->get_string()));
    }
    if (!old && class_name && class_name->is_string()) {
      const json::value* annotation =
          FindObj(obj, {"metadata", "annotations"})
              ? FindObj(obj, {"metadata", "annotations"})->if_contains(kIngressClassAnnotation)
              : nullptr;
      if (annotation && annotation->is_string() &&
          annotation->get_string() != class_name->get_string()) {
        errs.InvalidString("annotations.kubernetes.io/ingress.class", annotation->get_string(),
                           "must match `ingressClassName` when both are specified");
      }
    }
    ValidateLoadBalancerStatus(obj, errs);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Class", "string", "",
             "The name of the IngressClass resource that should be used for additional "
             "configuration",
             0},
            {"Hosts", "string", "",
             "Hosts that incoming requests are matched against before the ingress rule", 0},
            {"Address", "string", "",
             "Address is a list containing ingress points for the load-balancer", 0},
            {"Ports", "string", "", "Ports of TLS configurations that open", 0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::value* class_name = Find(obj, {"spec", "ingressClassName"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(class_name && class_name->is_string() ? std::string(class_name->get_string())
                                                             : std::string("<none>"));
    cells.emplace_back(HostsCell(FindArr(obj, {"spec", "rules"})));
    cells.emplace_back(AddressCell(obj));
    cells.emplace_back(CountAt(obj, {"spec", "tls"}) > 0 ? "80, 443" : "80");
    cells.emplace_back(AgeCell(obj, ctx));
  }

 private:
  static void ValidateLoadBalancerStatus(const json::object& obj, FieldErrors& errs) {
    const json::array* points = FindArr(obj, {"status", "loadBalancer", "ingress"});
    if (!points) return;
    for (size_t i = 0; i < points->size(); ++i) {
      const json::object* point = (*points)[i].if_object();
      if (!point) continue;
      std::string pp = Index("status.loadBalancer.ingress", i);
      std::string_view ip = FindStr(*point, {"ip"});
      if (!ip.empty()) ValidateIpAddress(Child(pp, "ip"), ip, errs);
      std::string_view hostname = FindStr(*point, {"hostname"});
      if (!hostname.empty()) {
        errs.InvalidEach(Child(pp, "hostname"), hostname, Dns1123SubdomainErrors(hostname));
        if (IsIpAddress(hostname)) {
          errs.InvalidString(Child(pp, "hostname"), hostname,
                             "must be a DNS name, not an IP address");
        }
      }
    }
  }
};

}  // namespace

const KindStrategy& IngressStrategy() {
  static const IngressStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
