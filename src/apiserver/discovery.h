// Discovery documents: what kubectl reads first to learn which resources the server has.
//
// Every document is a pure function of the served resources, rendered as the JSON that
// kube-apiserver sends for the same endpoint:
//   GET /api                 APIVersions                (LegacyApiVersions)
//   GET /apis                APIGroupList               (ApiGroupList)
//   GET /apis/<g>            APIGroup                   (ApiGroup)
//   GET /api/v1, /apis/<g>/<v>  APIResourceList         (ApiResourceList)
//   GET /api, /apis with an aggregated-discovery Accept  APIGroupDiscoveryList
//                                                       (AggregatedDiscovery)
// The catalogue does not change while the server runs (custom resources will rebuild
// it), so callers may render each document once and keep it with its DocumentHash.
// Like kube-apiserver, aggregated responses carry Vary: Accept and ETag "\"<hash>\"",
// and answer 304 when If-None-Match equals that ETag.
// Thread safety: free functions over read-only inputs; safe to call concurrently.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff {

namespace api {
class Catalogue;
struct ResourceInfo;
struct Schema;
}  // namespace api

// The part of a catalogue that discovery and OpenAPI documents describe. A plain view
// (no ownership) so documents can be rendered from a catalogue or from hand-built
// resources alike.
struct ServedApis {
  // Served resources; their order does not matter (documents sort what they list).
  std::vector<const api::ResourceInfo*> resources;
  // Group -> served versions, preferred first. The core group is "".
  std::map<std::string, std::vector<std::string>> group_versions;
  // Groups in discovery order (core first when served).
  std::vector<std::string> group_order;
  // Named schema types by definition name, for types that operations refer to
  // (ListMeta, Status, DeleteOptions, ...). May be null: such types are then
  // described by the built-in fallbacks of openapi.cpp.
  const std::map<std::string, const api::Schema*, std::less<>>* types = nullptr;

  // A view of `catalogue`, valid while the catalogue lives.
  static ServedApis Of(const api::Catalogue& catalogue);
};

// GET /api: {"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[...]}
// with one entry mapping 0.0.0.0/0 to `server_address` ("10.0.0.1:6443").
std::string LegacyApiVersions(std::string_view server_address);

// GET /apis: every served group but the core one, in discovery order, each with its
// versions (preferred first) and preferredVersion.
std::string ApiGroupList(const ServedApis& apis);
std::string ApiGroupList(const api::Catalogue& catalogue);

// GET /apis/<group>: the APIGroup, or nullopt when `group` is not served (or is "").
std::optional<std::string> ApiGroup(const ServedApis& apis, std::string_view group);
std::optional<std::string> ApiGroup(const api::Catalogue& catalogue, std::string_view group);

// GET /api/v1 (group "") and /apis/<group>/<version>: the APIResourceList with every
// resource and subresource of that group-version sorted by name, or nullopt when
// nothing is served there.
std::optional<std::string> ApiResourceList(const ServedApis& apis, std::string_view group,
                                           std::string_view version);
std::optional<std::string> ApiResourceList(const api::Catalogue& catalogue, std::string_view group,
                                           std::string_view version);

// The APIGroupDiscoveryList of apidiscovery.k8s.io/<version> ("v2" or "v2beta1"): for
// /api when `core_group`, else for /apis (every group but the core one).
// REQUIRES: version is "v2" or "v2beta1".
std::string AggregatedDiscovery(const ServedApis& apis, bool core_group, std::string_view version);
std::string AggregatedDiscovery(const api::Catalogue& catalogue, bool core_group,
                                std::string_view version);

// Reads an Accept header the way kube-apiserver negotiates /api and /apis: media ranges
// by descending q (ties keep their order, specific before wildcard), the first one the
// server can produce wins. Returns "v2" or "v2beta1" when that is an aggregated
// discovery type (application/json;g=apidiscovery.k8s.io;v=...;as=APIGroupDiscoveryList),
// nullopt when the plain (unaggregated) document should be served. Media ranges the
// server cannot produce (protobuf, unknown versions, q=0) are skipped.
std::optional<std::string> NegotiateAggregatedDiscovery(std::string_view accept_header);

// The Content-Type of an aggregated discovery response of `version` ("v2" or "v2beta1"):
// "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList".
std::string AggregatedDiscoveryContentType(std::string_view version);

// How one subresource of a resource is served, as kube-apiserver serves it.
struct SubresourceDescription {
  std::string name;  // "status", "scale", ...
  // The response kind. `group` and `version` are set only when they differ from the
  // parent resource's (e.g. "autoscaling"/"v1" for Scale).
  std::string group;
  std::string version;
  std::string kind;
  std::vector<std::string> verbs;  // sorted
};

// The description of `resource`'s subresource `name`. Known names follow Kubernetes
// (status, scale, log, exec, attach, portforward, proxy, binding, eviction, token,
// ephemeralcontainers, resize, finalize, approval); others answer with the parent's
// kind and get/patch/update.
SubresourceDescription DescribeSubresource(const api::ResourceInfo& resource,
                                           std::string_view name);

// The discovery verbs of `resource`, sorted: its declared verbs, or the full set
// (create delete deletecollection get list patch update watch) when none are declared.
std::vector<std::string> ResourceVerbs(const api::ResourceInfo& resource);

// storageVersionHash of discovery: base64 of the first 8 bytes of
// sha256("<group>/<version>/<kind>"), e.g. ("", "v1", "Pod") -> "xPOwRZ+Yhw8=".
std::string StorageVersionHash(std::string_view group, std::string_view version,
                               std::string_view kind);

// Upper-case hex of sha512(document): Kubernetes' ETag for discovery documents and the
// `hash` of OpenAPI v3 URLs. (The ETag header carries it in double quotes.)
std::string DocumentHash(std::string_view document);

}  // namespace skiff
