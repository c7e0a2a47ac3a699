// Endpoints: address and port rules, and the ENDPOINTS column ("ip:port,...").
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr size_t kMaxShownEndpoints = 3;

std::string JoinHostPort(std::string_view host, int64_t port) {
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

// As kubectl's printer: the first three "ip:port" pairs, then "+ N more...".
std::string FormatEndpoints(const json::object& obj) {
  const json::array* subsets = FindArr(obj, {"subsets"});
  if (!subsets || subsets->empty()) return "<none>";
  std::vector<std::string> shown;
  bool more = false;
  size_t count = 0;
  for (const json::value& sv : *subsets) {
    const json::object* ss = sv.if_object();
    if (!ss) continue;
    const json::array* addresses = FindArr(*ss, {"addresses"});
    size_t n_addresses = addresses ? addresses->size() : 0;
    const json::array* ports = FindArr(*ss, {"ports"});
    auto add_each = [&](auto&& render) {
      count += n_addresses;
      if (!addresses) return;
      for (const json::value& av : *addresses) {
        if (shown.size() == kMaxShownEndpoints) {
          more = true;
          break;
        }
        const json::object* a = av.if_object();
        shown.push_back(render(a ? FindStr(*a, {"ip"}) : std::string_view()));
      }
    };
    if (!ports || ports->empty()) {
      // Headless services may have endpoints without ports.
      add_each([](std::string_view ip) { return std::string(ip); });
      continue;
    }
    for (const json::value& pv : *ports) {
      const json::object* p = pv.if_object();
      int64_t port = p ? FindInt(*p, {"port"}).value_or(0) : 0;
      add_each([port](std::string_view ip) { return JoinHostPort(ip, port); });
    }
  }
  std::string out;
  for (size_t i = 0; i < shown.size(); ++i) {
    if (i) out += ',';
    out += shown[i];
  }
  if (more) out += " + " + std::to_string(count - kMaxShownEndpoints) + " more...";
  return out;
}

void ValidateAddress(const json::object& address, const std::string& path, FieldErrors& errs) {
  std::string ip_path = Child(path, "ip");
  std::string_view ip = FindStr(address, {"ip"});
  ValidateIpAddress(ip_path, ip, errs);
  std::string_view hostname = FindStr(address, {"hostname"});
  if (!hostname.empty()) {
    errs.InvalidEach(Child(path, "hostname"), hostname, Dns1123LabelErrors(hostname));
  }
  if (const json::value* node = address.if_contains("nodeName"); node && node->is_string()) {
    std::string_view node_name = node->get_string();
    errs.InvalidEach(Child(path, "nodeName"), node_name, Dns1123SubdomainErrors(node_name));
  }
  if (IsIpAddress(ip)) errs.InvalidEach(ip_path, ip, NonSpecialIpErrors(ip));
}

void ValidatePort(const json::object& port, bool require_name, const std::string& path,
                  FieldErrors& errs) {
  std::string_view name = FindStr(port, {"name"});
  if (require_name && name.empty()) {
    errs.Required(Child(path, "name"));
  } else if (!name.empty()) {
    errs.InvalidEach(Child(path, "name"), name, Dns1123LabelErrors(name));
  }
  int64_t number = FindInt(port, {"port"}).value_or(0);
  for (const std::string& m : PortNumErrors(number))
    errs.InvalidInt(Child(path, "port"), number, m);
  std::string_view protocol = FindStr(port, {"protocol"});
  if (protocol.empty()) {
    errs.Required(Child(path, "protocol"));
  } else if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
    errs.NotSupported(Child(path, "protocol"), protocol, {"SCTP", "TCP", "UDP"});
  }
  if (const json::value* app = port.if_contains("appProtocol"); app && app->is_string()) {
    errs.InvalidEach(Child(path, "appProtocol"), app->get_string(),
                     QualifiedNameErrors(app->get_string()));
  }
}

class EndpointsStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void ApplyDefaults(json::object& obj) const override {
    json::array* subsets = FindMutArr(obj, {"subsets"});
    if (!subsets) return;
    for (json::value& sv : *subsets) {
      json::object* ss = sv.if_object();
      json::array* ports = ss ? FindMutArr(*ss, {"ports"}) : nullptr;
      if (!ports) continue;
      for (json::value& pv : *ports) {
        if (json::object* p = pv.if_object(); p && IsUnsetString(*p, "protocol")) {
          (*p)["protocol"] = "TCP";
        }
      }
    }
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    const json::array* subsets = FindArr(obj, {"subsets"});
    if (!subsets) return;
    for (size_t i = 0; i < subsets->size(); ++i) {
      const json::object* ss = (*subsets)[i].if_object();
      if (!ss) continue;
      std::string path = Index("subsets", i);
      const json::array* ready = FindArr(*ss, {"addresses"});
      const json::array* not_ready = FindArr(*ss, {"notReadyAddresses"});
      if ((!ready || ready->empty()) && (!not_ready || not_ready->empty())) {
        errs.Required(path, "must specify `addresses` or `notReadyAddresses`");
      }
      for (auto [list, name] :
           {std::pair{ready, "addresses"}, std::pair{not_ready, "notReadyAddresses"}}) {
        if (!list) continue;
        for (size_t a = 0; a < list->size(); ++a) {
          if (const json::object* addr = (*list)[a].if_object()) {
            ValidateAddress(*addr, Index(Child(path, name), a), errs);
          }
        }
      }
      if (const json::array* ports = FindArr(*ss, {"ports"})) {
        for (size_t p = 0; p < ports->size(); ++p) {
          if (const json::object* port = (*ports)[p].if_object()) {
            ValidatePort(*port, ports->size() > 1, Index(Child(path, "ports"), p), errs);
          }
        }
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Endpoints", "string", "",
             "The set of all endpoints is the union of all subsets. Addresses are placed into "
             "subsets according to the IPs they share. A single address with multiple ports, some "
             "of which are ready and some of which are not (because they come from different "
             "containers) will result in the address being displayed in different subsets for the "
             "different ports. No address will appear in both Addresses and NotReadyAddresses in "
             "the same subset. Sets of addresses and ports that comprise a service.",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FormatEndpoints(obj));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& EndpointsStrategy() {
  static const EndpointsStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
