// EndpointSlice (discovery.k8s.io/v1): address, endpoint and port validation with
// Kubernetes' messages, an immutable addressType, generation tracking, and the
// `kubectl get endpointslices` table (ADDRESSTYPE, PORTS, ENDPOINTS).
#include <set>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_names.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr size_t kMaxEndpoints = 1000;
constexpr size_t kMaxAddresses = 100;
constexpr size_t kMaxPorts = 100;

void TooMany(std::vector<StatusCause>& out, const std::string& path, size_t actual, size_t max) {
  out.push_back({"FieldValueTooMany",
                 "Too many: " + std::to_string(actual) + ": must have at most " +
                     std::to_string(max) + " items",
                 path});
}

// IsFullyQualifiedDomainName: a DNS subdomain of at least two labels (a trailing dot is
// ignored); one message, as Kubernetes joins them.
void ValidateFqdn(std::string_view name, const std::string& path, FieldErrors& errs) {
  if (name.empty()) {
    errs.Required(path);
    return;
  }
  if (name.ends_with('.')) name.remove_suffix(1);
  std::vector<std::string> problems = Dns1123SubdomainErrors(name);
  if (!problems.empty()) {
    std::string joined;
    for (const std::string& p : problems) joined += (joined.empty() ? "" : ",") + p;
    errs.InvalidString(path, name, joined);
    return;
  }
  if (name.find('.') == std::string_view::npos) {
    errs.InvalidString(path, name,
                       "should be a domain with at least two segments separated by dots");
  }
}

void ValidateAddress(std::string_view type, std::string_view address, const std::string& path,
                     FieldErrors& errs) {
  if (type == "IPv4" || type == "IPv6") {
    bool v6 = IsIpv6Address(address);
    if (!IsIpAddress(address) || v6 != (type == "IPv6")) {
      errs.InvalidString(
          path, address,
          type == "IPv4" ? "must be a valid IPv4 address" : "must be a valid IPv6 address");
      return;
    }
    errs.InvalidEach(path, address, NonSpecialIpErrors(address));
  } else if (type == "FQDN") {
    ValidateFqdn(address, path, errs);
  }
}

class EndpointSliceStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool TracksGeneration() const override { return true; }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    std::string_view type = FindStr(obj, {"addressType"});
    bool type_ok = type == "IPv4" || type == "IPv6" || type == "FQDN";
    if (type.empty()) {
      errs.Required("addressType");
    } else if (!type_ok) {
      errs.NotSupported("addressType", type, {"FQDN", "IPv4", "IPv6"});
    }
    if (const json::array* endpoints = FindArr(obj, {"endpoints"})) {
      if (endpoints->size() > kMaxEndpoints) {
        TooMany(errors, "endpoints", endpoints->size(), kMaxEndpoints);
      }
      for (size_t i = 0; i < endpoints->size(); ++i) {
        const json::object* ep = (*endpoints)[i].if_object();
        if (!ep) continue;
        ValidateEndpoint(*ep, type, Index("endpoints", i), errs, errors);
      }
    }
    ValidatePorts(obj, errs, errors);
    if (old) {
      std::string_view before = FindStr(*old, {"addressType"});
      if (before != type) errs.InvalidString("addressType", type, "field is immutable");
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"AddressType", "string", "",
             "addressType specifies the type of address carried by this EndpointSlice. All "
             "addresses in this slice must be the same type. This field is immutable after "
             "creation. The following address types are currently supported: * IPv4: "
             "Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: "
             "Represents a Fully Qualified Domain Name.",
             0},
            {"Ports", "string", "",
             "ports specifies the list of network ports exposed by each endpoint in this slice. "
             "Each port must have a unique name. When ports is empty, it indicates that there "
             "are no defined ports. When a port is defined with a nil port value, it indicates "
             "\"all ports\". Each slice may include a maximum of 100 ports.",
             0},
            {"Endpoints", "string", "",
             "endpoints is a list of unique endpoints in this slice. Each slice may include a "
             "maximum of 1000 endpoints.",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"addressType"}));
    cells.emplace_back(PortsCell(FindArr(obj, {"ports"})));
    cells.emplace_back(EndpointsCell(FindArr(obj, {"endpoints"})));
    cells.emplace_back(AgeCell(obj, ctx));
  }

 private:
  static void ValidateEndpoint(const json::object& ep, std::string_view type,
                               const std::string& path, FieldErrors& errs,
                               std::vector<StatusCause>& errors) {
    const json::array* addresses = FindArr(ep, {"addresses"});
    std::string ap = Child(path, "addresses");
    if (!addresses || addresses->empty()) {
      errs.Required(ap, "must contain at least 1 address");
    } else if (addresses->size() > kMaxAddresses) {
      TooMany(errors, ap, addresses->size(), kMaxAddresses);
    }
    if (addresses) {
      for (size_t i = 0; i < addresses->size(); ++i) {
        const json::string* s = (*addresses)[i].if_string();
        ValidateAddress(type, s ? std::string_view(*s) : std::string_view(), Index(ap, i), errs);
      }
    }
    if (const json::value* node = ep.if_contains("nodeName"); node && node->is_string()) {
      errs.InvalidEach(Child(path, "nodeName"), node->get_string(),
                       Dns1123SubdomainErrors(node->get_string()));
    }
    if (const json::value* host = ep.if_contains("hostname"); host && host->is_string()) {
      errs.InvalidEach(Child(path, "hostname"), host->get_string(),
                       Dns1123LabelErrors(host->get_string()));
    }
  }

  static void ValidatePorts(const json::object& obj, FieldErrors& errs,
                            std::vector<StatusCause>& errors) {
    const json::array* ports = FindArr(obj, {"ports"});
    if (!ports) return;
    if (ports->size() > kMaxPorts) TooMany(errors, "ports", ports->size(), kMaxPorts);
    std::set<std::string> names;
    for (size_t i = 0; i < ports->size(); ++i) {
      const json::object* port = (*ports)[i].if_object();
      if (!port) continue;
      std::string pp = Index("ports", i);
      std::string_view name = FindStr(*port, {"name"});
      if (!name.empty()) errs.InvalidEach(Child(pp, "name"), name, Dns1123LabelErrors(name));
      if (!names.emplace(name).second) errs.Duplicate(Child(pp, "name"), GoQuote(name));
      const json::value* proto = port->if_contains("protocol");
      if (!proto || !proto->is_string()) {
        errs.Required(Child(pp, "protocol"));
      } else if (std::string_view p = proto->get_string();
                 p != "TCP" && p != "UDP" && p != "SCTP") {
        errs.NotSupported(Child(pp, "protocol"), p, {"SCTP", "TCP", "UDP"});
      }
      if (const json::value* ap = port->if_contains("appProtocol"); ap && ap->is_string()) {
        errs.InvalidEach(Child(pp, "appProtocol"), ap->get_string(),
                         QualifiedNameErrors(ap->get_string()));
      }
    }
  }

  static std::string ListWithMore(const std::vector<std::string>& list, bool more, size_t count) {
    std::string out;
    for (const std::string& s : list) out += (out.empty() ? "" : ",") + s;
    if (more) return out + " + " + std::to_string(count - 3) + " more...";
    return out.empty() ? "<unset>" : out;
  }

  static std::string PortsCell(const json::array* ports) {
    std::vector<std::string> list;
    bool more = false;
    size_t count = 0;
    if (ports) {
      for (const json::value& v : *ports) {
        const json::object* port = v.if_object();
        if (list.size() < 3) {
          std::string cell = "*";
          if (auto n = port ? FindInt(*port, {"port"}) : std::nullopt) {
            cell = std::to_string(*n);
          } else if (const json::value* name = port ? port->if_contains("name") : nullptr;
                     name && name->is_string()) {
            cell = std::string(name->get_string());
          }
          list.push_back(std::move(cell));
        } else if (list.size() == 3) {
          more = true;
        }
        ++count;
      }
    }
    return ListWithMore(list, more, count);
  }

  static std::string EndpointsCell(const json::array* endpoints) {
    std::vector<std::string> list;
    bool more = false;
    size_t count = 0;
    if (endpoints) {
      for (const json::value& v : *endpoints) {
        const json::object* ep = v.if_object();
        const json::array* addresses = ep ? FindArr(*ep, {"addresses"}) : nullptr;
        if (!addresses) continue;
        for (const json::value& a : *addresses) {
          if (list.size() < 3) {
            const json::string* s = a.if_string();
            list.emplace_back(s ? std::string_view(*s) : std::string_view());
          } else if (list.size() == 3) {
            more = true;
          }
          ++count;
        }
      }
    }
    return ListWithMore(list, more, count);
  }
};

}  // namespace

const KindStrategy& EndpointSliceStrategy() {
  static const EndpointSliceStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
