#include "apiserver/discovery.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/schema.h"
#include "base/base64.h"

namespace skiff {
namespace {

namespace json = boost::json;

using api::ResourceInfo;

constexpr std::string_view kAggregatedGroup = "apidiscovery.k8s.io";
constexpr std::string_view kAggregatedKind = "APIGroupDiscoveryList";

std::string Digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure inside OpenSSL; an empty digest then
  // still yields a well-formed (if useless) hash string.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) len = 0;
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string GroupVersionString(std::string_view group, std::string_view version) {
  if (group.empty()) return std::string(version);
  return std::string(group) + "/" + std::string(version);
}

json::array StringArray(const std::vector<std::string>& values) {
  json::array out;
  out.reserve(values.size());
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

// The resources served at group/version, sorted by plural name (as Kubernetes lists them).
std::vector<const ResourceInfo*> ResourcesOf(const ServedApis& apis, std::string_view group,
                                             std::string_view version) {
  std::vector<const ResourceInfo*> out;
  for (const ResourceInfo* r : apis.resources) {
    if (r->group() == group && r->version() == version) out.push_back(r);
  }
  std::sort(out.begin(), out.end(),
            [](const ResourceInfo* a, const ResourceInfo* b) { return a->plural() < b->plural(); });
  return out;
}

// Subresource names of `r`, sorted.
std::vector<std::string> SortedSubresources(const ResourceInfo& r) {
  std::vector<std::string> subs = r.decl->subresources;
  std::sort(subs.begin(), subs.end());
  subs.erase(std::unique(subs.begin(), subs.end()), subs.end());
  return subs;
}

json::object GroupVersionForDiscovery(std::string_view group, std::string_view version) {
  return json::object{{"groupVersion", GroupVersionString(group, version)}, {"version", version}};
}

json::object ApiGroupObject(const ServedApis& apis, const std::string& group) {
  json::object out;
  out["name"] = group;
  json::array versions;
  const auto& served = apis.group_versions.at(group);
  for (const auto& v : served) versions.push_back(GroupVersionForDiscovery(group, v));
  out["versions"] = std::move(versions);
  if (!served.empty()) out["preferredVersion"] = GroupVersionForDiscovery(group, served.front());
  return out;
}

// Groups served, in discovery order; any group missing from group_order follows by name.
std::vector<std::string> OrderedGroups(const ServedApis& apis) {
  std::vector<std::string> out;
  for (const auto& g : apis.group_order) {
    if (apis.group_versions.contains(g) && std::find(out.begin(), out.end(), g) == out.end()) {
      out.push_back(g);
    }
  }
  for (const auto& [g, versions] : apis.group_versions) {
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  return out;
}

json::object GroupVersionKindObject(std::string_view group, std::string_view version,
                                    std::string_view kind) {
  return json::object{{"group", group}, {"version", version}, {"kind", kind}};
}

// One version entry of aggregated discovery.
json::object AggregatedVersion(const ServedApis& apis, const std::string& group,
                               const std::string& version) {
  json::array resources;
  for (const ResourceInfo* r : ResourcesOf(apis, group, version)) {
    json::object res;
    res["resource"] = r->plural();
    // Like kube-apiserver, the main resource's response kind leaves group and version
    // empty: they are those of the enclosing group-version.
    res["responseKind"] = GroupVersionKindObject("", "", r->kind());
    res["scope"] = r->namespaced() ? "Namespaced" : "Cluster";
    res["singularResource"] = r->decl->singular;
    res["verbs"] = StringArray(ResourceVerbs(*r));
    if (!r->decl->short_names.empty()) res["shortNames"] = StringArray(r->decl->short_names);
    if (!r->decl->categories.empty()) res["categories"] = StringArray(r->decl->categories);
    json::array subresources;
    for (const auto& name : SortedSubresources(*r)) {
      SubresourceDescription sub = DescribeSubresource(*r, name);
      json::object s;
      s["subresource"] = sub.name;
      s["responseKind"] = GroupVersionKindObject(sub.group, sub.version, sub.kind);
      s["verbs"] = StringArray(sub.verbs);
      subresources.push_back(std::move(s));
    }
    if (!subresources.empty()) res["subresources"] = std::move(subresources);
    resources.push_back(std::move(res));
  }
  return json::object{
      {"version", version}, {"resources", std::move(resources)}, {"freshness", "Current"}};
}

// --- Accept header parsing -------------------------------------------------------------

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct MediaRange {
  std::string type;                           // "application", "*"
  std::string subtype;                        // "json", "*"
  std::map<std::string, std::string> params;  // lower-case keys, unquoted values, no q
  double q = 1.0;
  int specificity = 0;  // 0 for */*, 1 for type/*, 2 for type/subtype
};

// Splits on `sep` outside double quotes.
std::vector<std::string_view> SplitUnquoted(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == sep && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

std::optional<MediaRange> ParseMediaRange(std::string_view text) {
  std::vector<std::string_view> parts = SplitUnquoted(text, ';');
  std::string_view full = Trim(parts[0]);
  size_t slash = full.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == full.size()) {
    return std::nullopt;
  }
  MediaRange m;
  m.type = Lower(Trim(full.substr(0, slash)));
  m.subtype = Lower(Trim(full.substr(slash + 1)));
  m.specificity = m.type == "*" ? 0 : (m.subtype == "*" ? 1 : 2);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = Trim(parts[i]);
    if (p.empty()) continue;
    size_t eq = p.find('=');
    std::string key = Lower(Trim(p.substr(0, eq)));
    std::string_view value = eq == std::string_view::npos ? "" : Trim(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "q") {
      double q = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
      if (ec != std::errc() || ptr != value.data() + value.size() || q < 0 || q > 1) {
        return std::nullopt;  // a malformed q: ignore the whole range
      }
      m.q = q;
    } else {
      m.params[key] = std::string(value);
    }
  }
  return m;
}

bool ProducesJsonOrYaml(const MediaRange& m) {
  if (m.type == "*") return true;
  if (m.type != "application") return false;
  return m.subtype == "*" || m.subtype == "json" || m.subtype == "yaml";
}

bool ProducesJson(const MediaRange& m) {
  return m.type == "*" || (m.type == "application" && (m.subtype == "*" || m.subtype == "json"));
}

}  // namespace

ServedApis ServedApis::Of(const api::Catalogue& catalogue) {
  ServedApis out;
  out.resources = catalogue.resources();
  out.group_versions = catalogue.group_versions();
  out.group_order = catalogue.group_order();
  out.types = &catalogue.schemas().types();
  return out;
}

std::vector<std::string> ResourceVerbs(const ResourceInfo& resource) {
  std::vector<std::string> verbs = resource.decl->verbs;
  if (verbs.empty()) {
    verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  }
  std::sort(verbs.begin(), verbs.end());
  verbs.erase(std::unique(verbs.begin(), verbs.end()), verbs.end());
  return verbs;
}

SubresourceDescription DescribeSubresource(const ResourceInfo& resource, std::string_view name) {
  SubresourceDescription d;
  d.name = std::string(name);
  d.kind = resource.kind();
  d.verbs = {"get", "patch", "update"};
  if (name == "scale") {
    d.group = "autoscaling";
    d.version = "v1";
    d.kind = "Scale";
  } else if (name == "log") {
    d.verbs = {"get"};
  } else if (name == "exec" || name == "attach" || name == "portforward") {
    static const std::map<std::string_view, std::string_view> kKinds = {
        {"exec", "PodExecOptions"},
        {"attach", "PodAttachOptions"},
        {"portforward", "PodPortForwardOptions"}};
    d.kind = std::string(kKinds.at(name));
    d.verbs = {"create", "get"};
  } else if (name == "proxy") {
    d.kind = resource.kind() + "ProxyOptions";
    d.verbs = {"create", "delete", "get", "patch", "update"};
  } else if (name == "binding") {
    d.kind = "Binding";
    d.verbs = {"create"};
  } else if (name == "eviction") {
    d.group = "policy";
    d.version = "v1";
    d.kind = "Eviction";
    d.verbs = {"create"};
  } else if (name == "token") {
    d.group = "authentication.k8s.io";
    d.version = "v1";
    d.kind = "TokenRequest";
    d.verbs = {"create"};
  } else if (name == "finalize") {
    d.verbs = {"update"};
  }
  // A group/version equal to the parent's is left implicit, as Kubernetes does.
  if (d.group == resource.group() && d.version == resource.version()) {
    d.group.clear();
    d.version.clear();
  }
  return d;
}

std::string LegacyApiVersions(std::string_view server_address) {
  json::object doc;
  doc["kind"] = "APIVersions";
  doc["versions"] = json::array{"v1"};
  doc["serverAddressByClientCIDRs"] =
      json::array{json::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}};
  return json::serialize(doc);
}

std::string ApiGroupList(const ServedApis& apis) {
  json::array groups;
  for (const auto& g : OrderedGroups(apis)) {
    if (g.empty()) continue;
    groups.push_back(ApiGroupObject(apis, g));
  }
  json::object doc;
  doc["kind"] = "APIGroupList";
  doc["apiVersion"] = "v1";
  doc["groups"] = std::move(groups);
  return json::serialize(doc);
}

std::string ApiGroupList(const api::Catalogue& catalogue) {
  return ApiGroupList(ServedApis::Of(catalogue));
}

std::optional<std::string> ApiGroup(const ServedApis& apis, std::string_view group) {
  if (group.empty()) return std::nullopt;
  auto it = apis.group_versions.find(std::string(group));
  if (it == apis.group_versions.end() || it->second.empty()) return std::nullopt;
  json::object doc;
  doc["kind"] = "APIGroup";
  doc["apiVersion"] = "v1";
  for (auto& [k, v] : ApiGroupObject(apis, it->first)) doc[k] = std::move(v);
  return json::serialize(doc);
}

std::optional<std::string> ApiGroup(const api::Catalogue& catalogue, std::string_view group) {
  return ApiGroup(ServedApis::Of(catalogue), group);
}

std::optional<std::string> ApiResourceList(const ServedApis& apis, std::string_view group,
                                           std::string_view version) {
  std::vector<const ResourceInfo*> served = ResourcesOf(apis, group, version);
  if (served.empty()) return std::nullopt;

  // Resources and subresources together, sorted by name ("pods" < "pods/status").
  std::vector<std::pair<std::string, json::object>> entries;
  for (const ResourceInfo* r : served) {
    json::object res;
    res["name"] = r->plural();
    res["singularName"] = r->decl->singular;
    res["namespaced"] = r->namespaced();
    res["kind"] = r->kind();
    res["verbs"] = StringArray(ResourceVerbs(*r));
    if (!r->decl->short_names.empty()) res["shortNames"] = StringArray(r->decl->short_names);
    if (!r->decl->categories.empty()) res["categories"] = StringArray(r->decl->categories);
    res["storageVersionHash"] =
        StorageVersionHash(r->storage->group(), r->storage->version(), r->storage->kind());
    entries.emplace_back(r->plural(), std::move(res));

    for (const auto& name : SortedSubresources(*r)) {
      SubresourceDescription sub = DescribeSubresource(*r, name);
      json::object s;
      s["name"] = r->plural() + "/" + sub.name;
      s["singularName"] = "";
      s["namespaced"] = r->namespaced();
      if (!sub.group.empty() || !sub.version.empty()) {
        s["group"] = sub.group;
        s["version"] = sub.version;
      }
      s["kind"] = sub.kind;
      s["verbs"] = StringArray(sub.verbs);
      entries.emplace_back(r->plural() + "/" + sub.name, std::move(s));
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  json::array resources;
  resources.reserve(entries.size());
  for (auto& [name, obj] : entries) resources.push_back(std::move(obj));
  json::object doc;
  doc["kind"] = "APIResourceList";
  doc["apiVersion"] = "v1";
  doc["groupVersion"] = GroupVersionString(group, version);
  doc["resources"] = std::move(resources);
  return json::serialize(doc);
}

std::optional<std::string> ApiResourceList(const api::Catalogue& catalogue, std::string_view group,
                                           std::string_view version) {
  return ApiResourceList(ServedApis::Of(catalogue), group, version);
}

std::string AggregatedDiscovery(const ServedApis& apis, bool core_group, std::string_view version) {
  json::array items;
  for (const auto& g : OrderedGroups(apis)) {
    if (g.empty() != core_group) continue;
    json::object metadata;
    if (!g.empty()) metadata["name"] = g;
    metadata["creationTimestamp"] = nullptr;
    json::array versions;
    for (const auto& v : apis.group_versions.at(g)) {
      versions.push_back(AggregatedVersion(apis, g, v));
    }
    items.push_back(
        json::object{{"metadata", std::move(metadata)}, {"versions", std::move(versions)}});
  }
  json::object doc;
  doc["kind"] = kAggregatedKind;
  doc["apiVersion"] = std::string(kAggregatedGroup) + "/" + std::string(version);
  doc["metadata"] = json::object{};
  doc["items"] = std::move(items);
  return json::serialize(doc);
}

std::string AggregatedDiscovery(const api::Catalogue& catalogue, bool core_group,
                                std::string_view version) {
  return AggregatedDiscovery(ServedApis::Of(catalogue), core_group, version);
}

std::optional<std::string> NegotiateAggregatedDiscovery(std::string_view accept_header) {
  std::vector<MediaRange> ranges;
  for (std::string_view clause : SplitUnquoted(accept_header, ',')) {
    if (Trim(clause).empty()) continue;
    if (auto m = ParseMediaRange(clause)) ranges.push_back(std::move(*m));
  }
  std::stable_sort(ranges.begin(), ranges.end(), [](const MediaRange& a, const MediaRange& b) {
    if (a.q != b.q) return a.q > b.q;
    return a.specificity > b.specificity;
  });
  for (const MediaRange& m : ranges) {
    if (m.q <= 0) continue;
    bool converts = m.params.contains("g") || m.params.contains("v") || m.params.contains("as");
    if (!converts) {
      if (ProducesJsonOrYaml(m)) return std::nullopt;  // the plain document
      continue;                                        // e.g. protobuf: not produced
    }
    if (!ProducesJson(m)) continue;
    auto param = [&](const char* key) -> std::string_view {
      auto it = m.params.find(key);
      return it == m.params.end() ? std::string_view() : std::string_view(it->second);
    };
    if (param("g") != kAggregatedGroup || param("as") != kAggregatedKind) continue;
    std::string_view v = param("v");
    if (v == "v2" || v == "v2beta1") return std::string(v);
  }
  return std::nullopt;
}

std::string AggregatedDiscoveryContentType(std::string_view version) {
  return "application/json;g=" + std::string(kAggregatedGroup) + ";v=" + std::string(version) +
         ";as=" + std::string(kAggregatedKind);
}

std::string StorageVersionHash(std::string_view group, std::string_view version,
                               std::string_view kind) {
  std::string gvk = std::string(group) + "/" + std::string(version) + "/" + std::string(kind);
  std::string digest = Digest(EVP_sha256(), gvk);
  return Base64Encode(std::string_view(digest).substr(0, 8));
}

std::string DocumentHash(std::string_view document) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string digest = Digest(EVP_sha512(), document);
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

}  // namespace skiff
