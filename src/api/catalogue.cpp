#include "api/catalogue.h"

#include <algorithm>

#include "api/kind_strategy.h"

namespace skiff::api {

bool ResourceInfo::HasSubresource(std::string_view name) const {
  return std::find(decl->subresources.begin(), decl->subresources.end(), name) !=
         decl->subresources.end();
}

Catalogue::~Catalogue() = default;

namespace {

// Discovery lists groups in this order (as Kubernetes does); others follow by name.
const char* const kGroupOrder[] = {
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
};

// Versions ordered newest-stable first: v2 > v1 > v1beta2 > v1beta1 > v1alpha1.
int VersionRank(std::string_view v) {
  int major = 0;
  size_t i = 1;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
    major = major * 10 + (v[i] - '0');
    ++i;
  }
  int stability = 3;
  int minor = 0;
  std::string_view rest = v.substr(i);
  if (rest.starts_with("beta")) {
    stability = 2;
    rest.remove_prefix(4);
  } else if (rest.starts_with("alpha")) {
    stability = 1;
    rest.remove_prefix(5);
  }
  for (char c : rest) {
    if (std::isdigit(static_cast<unsigned char>(c))) minor = minor * 10 + (c - '0');
  }
  return stability * 1000000 + major * 1000 + minor;
}

}  // namespace

Result<std::unique_ptr<Catalogue>> Catalogue::LoadBuiltin() {
  auto schemas = SchemaRegistry::LoadBuiltin();
  if (!schemas) return std::unexpected(schemas.error());
  std::unique_ptr<Catalogue> cat(new Catalogue());
  cat->schemas_ = std::move(*schemas);
  for (const ResourceDecl& decl : cat->schemas_->resources()) {
    auto info = std::make_unique<ResourceInfo>();
    info->decl = &decl;
    info->group_version = decl.group.empty() ? decl.version : decl.group + "/" + decl.version;
    info->list_kind = decl.kind + "List";
    info->strategy = StrategyFor(decl.group, decl.kind);
    info->key_prefix = "/registry/" + decl.plural + "/";
    auto& versions = cat->group_versions_[decl.group];
    if (std::find(versions.begin(), versions.end(), decl.version) == versions.end()) {
      versions.push_back(decl.version);
    }
    cat->resources_.push_back(std::move(info));
  }
  for (auto& [group, versions] : cat->group_versions_) {
    std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
      return VersionRank(a) > VersionRank(b);
    });
  }
  for (const char* g : kGroupOrder) {
    if (cat->group_versions_.contains(g)) cat->group_order_.push_back(g);
  }
  for (auto& [group, versions] : cat->group_versions_) {
    if (std::find(cat->group_order_.begin(), cat->group_order_.end(), group) ==
        cat->group_order_.end()) {
      cat->group_order_.push_back(group);
    }
  }
  return cat;
}

const ResourceInfo* Catalogue::Find(std::string_view group, std::string_view version,
                                    std::string_view plural) const {
  for (const auto& r : resources_) {
    if (r->decl->group == group && r->decl->version == version && r->decl->plural == plural) {
      return r.get();
    }
  }
  return nullptr;
}

const ResourceInfo* Catalogue::FindByKind(std::string_view group, std::string_view version,
                                          std::string_view kind) const {
  for (const auto& r : resources_) {
    if (r->decl->group == group && r->decl->version == version && r->decl->kind == kind) {
      return r.get();
    }
  }
  return nullptr;
}

}  // namespace skiff::api
