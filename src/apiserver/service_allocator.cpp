#include "apiserver/service_allocator.h"

#include <arpa/inet.h>

#include <algorithm>

#include <boost/json.hpp>

#include "apiserver/api_server.h"
#include "apiserver/watch_cache.h"
#include "base/base64.h"
#include "base/log.h"
#include "storage/store.h"

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

std::vector<int> NodePortsOf(const json::object* spec) {
  std::vector<int> out;
  if (!spec) return out;
  if (auto* ps = spec->if_contains("ports"); ps && ps->is_array()) {
    for (const auto& p : ps->as_array()) {
      if (auto* po = p.if_object()) {
        if (auto* np = po->if_contains("nodePort"); np && np->is_int64() && np->as_int64() > 0) {
          out.push_back(static_cast<int>(np->as_int64()));
        }
      }
    }
  }
  return out;
}

// A write of an allocation map lost a race: read it again and retry.
constexpr int kMaxCasAttempts = 64;
// Repairs that must see an allocation without a Service before it is released.
constexpr int kLeakRepairs = 3;

}  // namespace

// The allocation bitmap of one range, as Kubernetes keeps it: bit i of a big integer
// whose big-endian bytes (without leading zeros) are RangeAllocation.data.
struct ServiceAllocator::Bitmap {
  std::vector<uint8_t> bits;  // little-endian: bit i is bits[i / 8] & (1 << (i % 8))
  int64_t mod_revision = 0;   // 0: not stored yet

  bool Test(uint32_t i) const { return i / 8 < bits.size() && (bits[i / 8] >> (i % 8)) & 1; }
  void Set(uint32_t i) {
    if (i / 8 >= bits.size()) bits.resize(i / 8 + 1, 0);
    bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  void Clear(uint32_t i) {
    if (i / 8 < bits.size()) bits[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
  }
  std::string Data() const {
    size_t n = bits.size();
    while (n > 0 && bits[n - 1] == 0) --n;
    std::string out(n, '\0');
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(bits[n - 1 - i]);
    return Base64Encode(out);
  }
};

namespace {

std::string EncodeRangeAllocation(const std::string& range, const std::string& data) {
  json::object o{{"kind", "RangeAllocation"},
                 {"apiVersion", "v1"},
                 {"metadata", json::object{{"creationTimestamp", nullptr}}},
                 {"range", range},
                 {"data", data}};
  return json::serialize(o);
}

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

ServiceAllocator::ServiceAllocator(const ApiServerOptions& options, Store& store,
                                   WatchCache* services)
    : options_(options), store_(store), services_(services), rng_(std::random_device{}()) {}

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
  // Like kube-apiserver: at most 2^20 addresses, so the bitmap stays small (128 KiB).
  if (!ip || bits < 12 || bits > 30) {
    return Status(
        StatusCode::kInvalid,
        "--service-cluster-ip-range must be an IPv4 CIDR between /12 and /30, got " + cidr);
  }
  uint32_t mask = ~uint32_t{0} << (32 - bits);
  base_ = *ip & mask;
  ip_map_.key = kServiceIpsKey;
  ip_map_.range = FormatIPv4(base_) + "/" + std::to_string(bits);
  ip_map_.size = uint32_t{1} << (32 - bits);
  if (options_.service_node_port_min <= 0 || options_.service_node_port_max > 65535 ||
      options_.service_node_port_min > options_.service_node_port_max) {
    return Status(StatusCode::kInvalid, "--service-node-port-range is not a valid port range");
  }
  port_map_.key = kNodePortsKey;
  port_map_.range = std::to_string(options_.service_node_port_min) + "-" +
                    std::to_string(options_.service_node_port_max);
  port_map_.size =
      static_cast<uint32_t>(options_.service_node_port_max - options_.service_node_port_min + 1);
  return Repair();
}

Result<ServiceAllocator::Bitmap> ServiceAllocator::Read(const RangeMap& map, bool* other_range) {
  *other_range = false;
  Bitmap bitmap;
  auto kv = store_.Get(map.key);
  if (!kv) {
    if (kv.error().code() == StatusCode::kNotFound) return bitmap;
    return std::unexpected(kv.error());
  }
  bitmap.mod_revision = kv->mod_revision;
  json::error_code ec;
  json::value v = json::parse(kv->value, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  std::string range = StringField(o, "range");
  if (range != map.range) {
    *other_range = true;
    return bitmap;
  }
  auto raw = Base64Decode(StringField(o, "data"));
  if (!raw) {
    return Err(StatusCode::kInternal, "the allocation map " + map.key + " is corrupt");
  }
  bitmap.bits.resize(raw->size());
  for (size_t i = 0; i < raw->size(); ++i) {
    bitmap.bits[i] = static_cast<uint8_t>((*raw)[raw->size() - 1 - i]);
  }
  return bitmap;
}

Status ServiceAllocator::Write(const RangeMap& map, const Bitmap& bitmap) {
  std::string value = EncodeRangeAllocation(map.range, bitmap.Data());
  if (bitmap.mod_revision == 0) {
    auto rev = store_.Create(map.key, std::move(value));
    if (!rev) {
      if (rev.error().code() == StatusCode::kAlreadyExists)
        return Status(StatusCode::kConflict, "lost a race");
      return rev.error();
    }
    return Status::Ok();
  }
  auto rev = store_.Update(map.key, std::move(value), bitmap.mod_revision);
  if (!rev) {
    if (rev.error().code() == StatusCode::kNotFound)
      return Status(StatusCode::kConflict, "lost a race");
    return rev.error();
  }
  return Status::Ok();
}

Result<std::vector<uint32_t>> ServiceAllocator::Take(const RangeMap& map,
                                                     const std::vector<uint32_t>& wanted,
                                                     int random_count, uint32_t random_lo,
                                                     uint32_t random_hi,
                                                     std::vector<uint32_t>* taken_already) {
  taken_already->clear();
  if (wanted.empty() && random_count == 0) return std::vector<uint32_t>{};
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    bool other_range = false;
    auto bitmap = Read(map, &other_range);
    if (!bitmap) return std::unexpected(bitmap.error());
    if (other_range) {
      // Another server serves a different range: rebuilding here would hand out
      // addresses it believes are taken.
      return Err(StatusCode::kInternal, "the allocation map " + map.key +
                                            " is for another range than " + map.range +
                                            "; all servers must be started with the same range");
    }
    for (uint32_t w : wanted) {
      if (bitmap->Test(w)) taken_already->push_back(w);
      bitmap->Set(w);
    }
    if (!taken_already->empty()) return std::vector<uint32_t>{};
    std::vector<uint32_t> picked;
    uint32_t span = random_hi - random_lo + 1;
    for (int n = 0; n < random_count; ++n) {
      uint32_t start = 0;
      {
        std::lock_guard lock(mu_);
        start = std::uniform_int_distribution<uint32_t>(0, span - 1)(rng_);
      }
      bool found = false;
      for (uint32_t k = 0; k < span; ++k) {
        uint32_t candidate = random_lo + (start + k) % span;
        if (!bitmap->Test(candidate)) {
          bitmap->Set(candidate);
          picked.push_back(candidate);
          found = true;
          break;
        }
      }
      if (!found) return Err(StatusCode::kInternal, "range is full");
    }
    Status st = Write(map, *bitmap);
    if (st.ok()) return picked;
    if (st.code() != StatusCode::kConflict) return std::unexpected(st);
  }
  return Err(StatusCode::kConflict,
             "too many concurrent changes to " + map.key + "; please try again");
}

Status ServiceAllocator::Free(const RangeMap& map, const std::vector<uint32_t>& offsets) {
  if (offsets.empty()) return Status::Ok();
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    bool other_range = false;
    auto bitmap = Read(map, &other_range);
    if (!bitmap) return bitmap.error();
    if (other_range || bitmap->mod_revision == 0) return Status::Ok();
    bool changed = false;
    for (uint32_t o : offsets) {
      changed = changed || bitmap->Test(o);
      bitmap->Clear(o);
    }
    if (!changed) return Status::Ok();
    Status st = Write(map, *bitmap);
    if (st.code() != StatusCode::kConflict) return st;
  }
  return Status(StatusCode::kConflict, "too many concurrent changes to " + map.key);
}

Status ServiceAllocator::RepairMap(const RangeMap& map, const std::vector<uint32_t>& in_use,
                                   std::map<uint32_t, int>& leaks) {
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    bool other_range = false;
    auto bitmap = Read(map, &other_range);
    if (!bitmap) return bitmap.error();
    if (other_range) {
      log::Warn("apiserver", "the allocation map " + map.key +
                                 " was made for another range; rebuilding it for " + map.range);
    }
    Bitmap want = *bitmap;
    for (uint32_t o : in_use) want.Set(o);
    // Leaks: marked, but no Service holds them.
    std::vector<uint32_t> sorted = in_use;
    std::sort(sorted.begin(), sorted.end());
    std::map<uint32_t, int> seen;
    {
      std::lock_guard lock(mu_);
      for (uint32_t i = 0; i < map.size; ++i) {
        if (!bitmap->Test(i) || std::binary_search(sorted.begin(), sorted.end(), i)) continue;
        int count = 1;
        if (auto it = leaks.find(i); it != leaks.end()) count = it->second + 1;
        if (count >= kLeakRepairs) {
          want.Clear(i);
        } else {
          seen[i] = count;
        }
      }
      leaks = std::move(seen);
    }
    if (bitmap->mod_revision != 0 && !other_range && want.Data() == bitmap->Data()) {
      return Status::Ok();
    }
    Status st = Write(map, want);
    if (st.code() != StatusCode::kConflict) return st;
  }
  return Status(StatusCode::kConflict, "too many concurrent changes to " + map.key);
}

Status ServiceAllocator::Repair() {
  std::lock_guard repair(repair_mu_);
  std::vector<uint32_t> ips;
  std::vector<uint32_t> ports;
  if (services_) {
    for (const auto& obj : services_->List(ObjectFilter{}, "", 0, nullptr, nullptr)) {
      const json::object* o = obj->object->if_object();
      const json::object* spec = o ? Spec(*o) : nullptr;
      if (!spec) continue;
      if (auto a = ParseIPv4(StringField(spec, "clusterIP"));
          a && *a > base_ && *a < base_ + ip_map_.size) {
        ips.push_back(*a - base_);
      }
      for (int p : NodePortsOf(spec)) {
        if (p >= options_.service_node_port_min && p <= options_.service_node_port_max) {
          ports.push_back(static_cast<uint32_t>(p - options_.service_node_port_min));
        }
      }
    }
  }
  Status st = RepairMap(ip_map_, ips, ip_leaks_);
  if (!st.ok()) return st;
  return RepairMap(port_map_, ports, port_leaks_);
}

void ServiceAllocator::Give(const std::vector<uint32_t>& ips, const std::vector<int>& ports) {
  std::vector<uint32_t> ip_offsets;
  for (uint32_t ip : ips) ip_offsets.push_back(ip - base_);
  std::vector<uint32_t> port_offsets;
  for (int p : ports)
    port_offsets.push_back(static_cast<uint32_t>(p - options_.service_node_port_min));
  Status st = Free(ip_map_, ip_offsets);
  if (st.ok()) st = Free(port_map_, port_offsets);
  if (!st.ok()) {
    log::Warn("apiserver",
              "releasing service addresses failed (repair reclaims them later): " + st.ToString());
  }
}

void ServiceAllocator::Release(const json::object& svc) {
  const json::object* spec = Spec(svc);
  if (!spec) return;
  std::vector<uint32_t> ips;
  if (auto a = ParseIPv4(StringField(spec, "clusterIP"));
      a && *a > base_ && *a < base_ + ip_map_.size) {
    ips.push_back(*a);
  }
  std::vector<int> ports;
  for (int p : NodePortsOf(spec)) {
    if (p >= options_.service_node_port_min && p <= options_.service_node_port_max)
      ports.push_back(p);
  }
  Give(ips, ports);
}

Result<ServiceAllocator::Reservation> ServiceAllocator::AllocateFor(json::object& svc,
                                                                    const json::object* old) {
  Reservation res;
  json::value& spec_v = svc["spec"];
  if (!spec_v.is_object()) spec_v = json::object();
  json::object& spec = spec_v.as_object();
  const json::object* old_spec = old ? Spec(*old) : nullptr;
  std::string type = StringField(&spec, "type");
  if (type.empty()) type = "ClusterIP";
  Status invalid(StatusCode::kInvalid, "invalid service");
  const uint32_t size = ip_map_.size;

  // Cluster IP: decide what is needed; the map is touched once everything is valid.
  std::string old_ip = StringField(old_spec, "clusterIP");
  std::string want_ip = StringField(&spec, "clusterIP");
  std::optional<uint32_t> specific_ip;
  bool random_ip = false;
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
    } else if (*ip <= base_ || *ip >= base_ + size - 1) {
      invalid.AddCause({"FieldValueInvalid",
                        "Invalid value: " + list + ": failed to allocate IP " + want_ip +
                            ": the provided IP (" + want_ip +
                            ") is not in the valid range. The range of valid IPs is " +
                            options_.service_cluster_ip_range,
                        "spec.clusterIPs"});
    } else {
      specific_ip = *ip;
      spec["clusterIPs"] = json::array{json::value(want_ip)};
    }
  } else {
    random_ip = true;
  }
  if (type != "ExternalName") {
    if (!spec.contains("ipFamilies")) spec["ipFamilies"] = json::array{"IPv4"};
    if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  }

  // Node ports.
  std::vector<int> old_ports;
  if (old_spec && UsesNodePorts(StringField(old_spec, "type"))) old_ports = NodePortsOf(old_spec);
  std::vector<std::pair<size_t, int>> specific_ports;  // (index in spec.ports, port)
  std::vector<size_t> random_ports;                    // indexes that need a port
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
        if (std::find(old_ports.begin(), old_ports.end(), port) != old_ports.end()) continue;
        if (port < options_.service_node_port_min || port > options_.service_node_port_max) {
          invalid.AddCause(
              {"FieldValueInvalid",
               "Invalid value: " + std::to_string(port) +
                   ": provided port is not in the valid range. The range of valid ports is " +
                   std::to_string(options_.service_node_port_min) + "-" +
                   std::to_string(options_.service_node_port_max),
               field});
        } else {
          specific_ports.emplace_back(i, port);
        }
        continue;
      }
      random_ports.push_back(i);
    }
  }
  if (!invalid.causes().empty()) return std::unexpected(invalid);

  // Take the address.
  res.owner_ = this;
  std::vector<uint32_t> taken;
  if (specific_ip || random_ip) {
    std::vector<uint32_t> wanted;
    if (specific_ip) wanted.push_back(*specific_ip - base_);
    // The first address belongs to the `kubernetes` Service; random ones come from the rest.
    auto picked = Take(ip_map_, wanted, random_ip ? 1 : 0, 2, size - 2, &taken);
    if (!picked) {
      Status err = picked.error();
      if (err.message() == "range is full") {
        err = Status(StatusCode::kInternal, "failed to allocate a serviceIP: range is full");
      }
      return std::unexpected(err);
    }
    if (!taken.empty()) {
      std::string list = "[]string{\"" + want_ip + "\"}";
      invalid.AddCause({"FieldValueInvalid",
                        "Invalid value: " + list + ": failed to allocate IP " + want_ip +
                            ": provided IP is already allocated",
                        "spec.clusterIPs"});
      return std::unexpected(invalid);
    }
    if (specific_ip) res.ips_.push_back(*specific_ip);
    for (uint32_t o : *picked) {
      res.ips_.push_back(base_ + o);
      spec["clusterIP"] = FormatIPv4(base_ + o);
      spec["clusterIPs"] = json::array{json::value(FormatIPv4(base_ + o))};
    }
  }

  // Take the ports (on failure `res` gives the address back).
  if (!specific_ports.empty() || !random_ports.empty()) {
    std::vector<uint32_t> wanted;
    for (auto& [i, p] : specific_ports)
      wanted.push_back(static_cast<uint32_t>(p - options_.service_node_port_min));
    auto picked = Take(port_map_, wanted, static_cast<int>(random_ports.size()), 0,
                       port_map_.size - 1, &taken);
    if (!picked) {
      Status err = picked.error();
      if (err.message() == "range is full") {
        err = Status(StatusCode::kInternal, "failed to allocate a nodePort: range is full");
      }
      return std::unexpected(err);
    }
    if (!taken.empty()) {
      for (auto& [i, p] : specific_ports) {
        uint32_t o = static_cast<uint32_t>(p - options_.service_node_port_min);
        if (std::find(taken.begin(), taken.end(), o) == taken.end()) continue;
        invalid.AddCause(
            {"FieldValueInvalid",
             "Invalid value: " + std::to_string(p) + ": provided port is already allocated",
             "spec.ports[" + std::to_string(i) + "].nodePort"});
      }
      return std::unexpected(invalid);
    }
    for (auto& [i, p] : specific_ports) res.ports_.push_back(p);
    auto& ports = spec["ports"].as_array();
    for (size_t k = 0; k < random_ports.size(); ++k) {
      int port = options_.service_node_port_min + static_cast<int>((*picked)[k]);
      res.ports_.push_back(port);
      ports[random_ports[k]].as_object()["nodePort"] = port;
    }
  }
  return res;
}

std::string ServiceAllocator::FirstAddress() const { return FormatIPv4(base_ + 1); }

}  // namespace skiff
