#include "apiserver/service_allocator.h"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include "apiserver/api_server.h"
#include "apiserver/watch_cache.h"

namespace skiff {

namespace json = boost::json;

namespace {

std::optional<uint32_t> ParseIPv4(std::string_view s) {
  in_addr addr{};
  std::string z(s);
  if (inet_pton(AF_INET, z.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string FormatIPv4(uint32_t ip) {
  in_addr addr{};
  addr.s_addr = htonl(ip);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, buf, sizeof buf);
  return buf;
}

std::string StringField(const json::object* o, std::string_view key) {
  if (!o) return {};
  auto* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::object* Spec(const json::object& svc) {
  auto* s = svc.if_contains("spec");
  return s && s->is_object() ? &s->as_object() : nullptr;
}

bool UsesNodePorts(const std::string& type) { return type == "NodePort" || type == "LoadBalancer"; }

}  // namespace

ServiceAllocator::Reservation::Reservation(Reservation&& other) noexcept
    : owner_(other.owner_), ips_(std::move(other.ips_)), ports_(std::move(other.ports_)) {
  other.owner_ = nullptr;
}

ServiceAllocator::Reservation& ServiceAllocator::Reservation::operator=(
    Reservation&& other) noexcept {
  if (this != &other) {
    if (owner_) owner_->Give(ips_, ports_);
    owner_ = other.owner_;
    ips_ = std::move(other.ips_);
    ports_ = std::move(other.ports_);
    other.owner_ = nullptr;
  }
  return *this;
}

ServiceAllocator::Reservation::~Reservation() {
  if (owner_) owner_->Give(ips_, ports_);
}

ServiceAllocator::ServiceAllocator(const ApiServerOptions& options, WatchCache* services)
    : options_(options), services_(services), rng_(std::random_device{}()) {}

Status ServiceAllocator::Init() {
  const std::string& cidr = options_.service_cluster_ip_range;
  auto slash = cidr.find('/');
  if (slash == std::string::npos) {
    return Status(StatusCode::kInvalid, "--service-cluster-ip-range must be a CIDR, got " + cidr);
  }
  auto ip = ParseIPv4(std::string_view(cidr).substr(0, slash));
  int bits = -1;
  try {
    bits = std::stoi(cidr.substr(slash + 1));
  } catch (...) {
    bits = -1;
  }
  if (!ip || bits < 8 || bits > 30) {
    return Status(
        StatusCode::kInvalid,
        "--service-cluster-ip-range must be an IPv4 CIDR between /8 and /30, got " + cidr);
  }
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  base_ = *ip & mask;
  size_ = uint32_t{1} << (32 - bits);
  if (options_.service_node_port_min <= 0 || options_.service_node_port_max > 65535 ||
      options_.service_node_port_min > options_.service_node_port_max) {
    return Status(StatusCode::kInvalid, "--service-node-port-range is not a valid port range");
  }
  if (!services_) return Status::Ok();
  std::lock_guard lock(mu_);
  for (const auto& obj : services_->List(ObjectFilter{}, "", 0, nullptr, nullptr)) {
    const json::object* o = obj->object->if_object();
    const json::object* spec = o ? Spec(*o) : nullptr;
    if (!spec) continue;
    if (auto a = ParseIPv4(StringField(spec, "clusterIP"))) ips_.insert(*a);
    if (auto* ports = spec->if_contains("ports"); ports && ports->is_array()) {
      for (const auto& p : ports->as_array()) {
        if (auto* po = p.if_object()) {
          if (auto* np = po->if_contains("nodePort"); np && np->is_int64()) {
            ports_.insert(static_cast<int>(np->as_int64()));
          }
        }
      }
    }
  }
  return Status::Ok();
}

std::string ServiceAllocator::FirstAddress() const { return FormatIPv4(base_ + 1); }

void ServiceAllocator::Give(const std::vector<uint32_t>& ips, const std::vector<int>& ports) {
  std::lock_guard lock(mu_);
  for (uint32_t ip : ips) ips_.erase(ip);
  for (int p : ports) ports_.erase(p);
}

void ServiceAllocator::Release(const json::object& svc) {
  const json::object* spec = Spec(svc);
  if (!spec) return;
  std::vector<uint32_t> ips;
  std::vector<int> ports;
  if (auto a = ParseIPv4(StringField(spec, "clusterIP"))) ips.push_back(*a);
  if (auto* ps = spec->if_contains("ports"); ps && ps->is_array()) {
    for (const auto& p : ps->as_array()) {
      if (auto* po = p.if_object()) {
        if (auto* np = po->if_contains("nodePort"); np && np->is_int64()) {
          ports.push_back(static_cast<int>(np->as_int64()));
        }
      }
    }
  }
  Give(ips, ports);
}

Result<ServiceAllocator::Reservation> ServiceAllocator::AllocateFor(json::object& svc,
                                                                    const json::object* old) {
  Reservation res;
  res.owner_ = this;
  json::value& spec_v = svc["spec"];
  if (!spec_v.is_object()) spec_v = json::object();
  json::object& spec = spec_v.as_object();
  const json::object* old_spec = old ? Spec(*old) : nullptr;
  std::string type = StringField(&spec, "type");
  if (type.empty()) type = "ClusterIP";
  Status invalid(StatusCode::kInvalid, "invalid service");
  std::lock_guard lock(mu_);

  // Cluster IP.
  std::string old_ip = StringField(old_spec, "clusterIP");
  std::string want_ip = StringField(&spec, "clusterIP");
  if (type == "ExternalName") {
    if (!want_ip.empty() && want_ip != old_ip) {
      invalid.AddCause(
          {"FieldValueInvalid",
           "Invalid value: \"" + want_ip + "\": may not be set for ExternalName services",
           "spec.clusterIP"});
    }
    if (want_ip.empty()) spec.erase("clusterIPs");
  } else if (old && !old_ip.empty()) {
    if (!want_ip.empty() && want_ip != old_ip) {
      invalid.AddCause({"FieldValueInvalid",
                        "Invalid value: \"" + want_ip + "\": field is immutable",
                        "spec.clusterIPs[0]"});
    }
    spec["clusterIP"] = old_ip;
    spec["clusterIPs"] = json::array{json::value(old_ip)};
  } else if (want_ip == "None") {
    spec["clusterIPs"] = json::array{"None"};
  } else if (!want_ip.empty()) {
    auto ip = ParseIPv4(want_ip);
    std::string list = "[]string{\"" + want_ip + "\"}";
    if (!ip) {
      invalid.AddCause({"FieldValueInvalid",
                        "Invalid value: \"" + want_ip + "\": must be a valid IP address",
                        "spec.clusterIPs[0]"});
    } else if (*ip <= base_ || *ip >= base_ + size_ - 1) {
      invalid.AddCause({"FieldValueInvalid",
                        "Invalid value: " + list + ": failed to allocate IP " + want_ip +
                            ": the provided IP (" + want_ip +
                            ") is not in the valid range. The range of valid IPs is " +
                            options_.service_cluster_ip_range,
                        "spec.clusterIPs"});
    } else if (ips_.contains(*ip)) {
      invalid.AddCause({"FieldValueInvalid",
                        "Invalid value: " + list + ": failed to allocate IP " + want_ip +
                            ": provided IP is already allocated",
                        "spec.clusterIPs"});
    } else {
      ips_.insert(*ip);
      res.ips_.push_back(*ip);
      spec["clusterIPs"] = json::array{json::value(want_ip)};
    }
  } else {
    // The first address belongs to the `kubernetes` Service; allocate at random from the rest.
    uint32_t usable = size_ - 2;
    if (ips_.size() >= usable) {
      Status full(StatusCode::kInternal, "failed to allocate a serviceIP: range is full");
      return std::unexpected(full);
    }
    std::uniform_int_distribution<uint32_t> pick(2, size_ - 2);
    uint32_t ip = base_ + pick(rng_);
    while (ips_.contains(ip)) ip = ip + 1 >= base_ + size_ - 1 ? base_ + 2 : ip + 1;
    ips_.insert(ip);
    res.ips_.push_back(ip);
    spec["clusterIP"] = FormatIPv4(ip);
    spec["clusterIPs"] = json::array{json::value(FormatIPv4(ip))};
  }
  if (type != "ExternalName") {
    if (!spec.contains("ipFamilies")) spec["ipFamilies"] = json::array{"IPv4"};
    if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  }

  // Node ports.
  std::set<int> old_ports;
  if (old_spec && UsesNodePorts(StringField(old_spec, "type"))) {
    if (auto* ps = old_spec->if_contains("ports"); ps && ps->is_array()) {
      for (const auto& p : ps->as_array()) {
        if (auto* po = p.if_object()) {
          if (auto* np = po->if_contains("nodePort"); np && np->is_int64()) {
            old_ports.insert(static_cast<int>(np->as_int64()));
          }
        }
      }
    }
  }
  if (auto* ps = spec.if_contains("ports"); ps && ps->is_array()) {
    auto& ports = ps->as_array();
    for (size_t i = 0; i < ports.size(); ++i) {
      auto* po = ports[i].if_object();
      if (!po) continue;
      std::string field = "spec.ports[" + std::to_string(i) + "].nodePort";
      auto* np = po->if_contains("nodePort");
      if (!UsesNodePorts(type)) {
        if (np && !(np->is_int64() && np->as_int64() == 0)) {
          invalid.AddCause({"FieldValueForbidden",
                            "Forbidden: may not be used when `type` is '" + type + "'", field});
        }
        continue;
      }
      if (np && np->is_int64() && np->as_int64() != 0) {
        int port = static_cast<int>(np->as_int64());
        if (old_ports.contains(port)) continue;
        if (port < options_.service_node_port_min || port > options_.service_node_port_max) {
          invalid.AddCause(
              {"FieldValueInvalid",
               "Invalid value: " + std::to_string(port) +
                   ": provided port is not in the valid range. The range of valid ports is " +
                   std::to_string(options_.service_node_port_min) + "-" +
                   std::to_string(options_.service_node_port_max),
               field});
        } else if (ports_.contains(port)) {
          invalid.AddCause(
              {"FieldValueInvalid",
               "Invalid value: " + std::to_string(port) + ": provided port is already allocated",
               field});
        } else {
          ports_.insert(port);
          res.ports_.push_back(port);
        }
        continue;
      }
      int range = options_.service_node_port_max - options_.service_node_port_min + 1;
      if (static_cast<int>(ports_.size()) >= range) {
        return std::unexpected(
            Status(StatusCode::kInternal, "failed to allocate a nodePort: range is full"));
      }
      std::uniform_int_distribution<int> pick(0, range - 1);
      int port = options_.service_node_port_min + pick(rng_);
      while (ports_.contains(port)) {
        port =
            port + 1 > options_.service_node_port_max ? options_.service_node_port_min : port + 1;
      }
      ports_.insert(port);
      res.ports_.push_back(port);
      (*po)["nodePort"] = port;
    }
  }
  if (!invalid.causes().empty()) {
    // Give back what this call took before failing.
    for (uint32_t ip : res.ips_) ips_.erase(ip);
    for (int p : res.ports_) ports_.erase(p);
    res.ips_.clear();
    res.ports_.clear();
    res.owner_ = nullptr;
    return std::unexpected(invalid);
  }
  return res;
}

}  // namespace skiff
