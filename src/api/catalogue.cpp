#include "api/catalogue.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <mutex>

#include "api/conversion.h"
#include "api/custom_resource.h"
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
    cat->builtin_.push_back(std::move(info));
  }
  for (auto& info : cat->builtin_) {
    const std::string& storage_gv = info->decl->storage_group_version;
    if (storage_gv.empty()) continue;
    const ResourceInfo* storage = nullptr;
    for (const auto& other : cat->builtin_) {
      if (other->group_version == storage_gv && other->plural() == info->plural() &&
          other->decl->storage_group_version.empty()) {
        storage = other.get();
      }
    }
    if (!storage) {
      return Err(StatusCode::kInvalid, "resource " + info->plural() + " of " + info->group_version +
                                           ": no storage resource in " + storage_gv);
    }
    info->conversion = FindConversion(info->group(), info->version(), info->kind());
    if (!info->conversion) {
      return Err(StatusCode::kInvalid, "resource " + info->plural() + " of " + info->group_version +
                                           " has no conversion to " + storage_gv);
    }
    info->storage = storage;
    info->key_prefix = storage->key_prefix;
  }
  std::unique_lock lock(cat->mu_);
  cat->Reindex();
  return cat;
}

void Catalogue::Reindex() {
  all_.clear();
  for (const auto& r : builtin_) all_.push_back(r.get());
  for (const auto& [name, set] : custom_) {
    for (const auto& r : set->served) all_.push_back(r.get());
  }
  group_versions_.clear();
  for (const ResourceInfo* r : all_) {
    auto& versions = group_versions_[r->group()];
    if (std::find(versions.begin(), versions.end(), r->version()) == versions.end()) {
      versions.push_back(r->version());
    }
  }
  for (auto& [group, versions] : group_versions_) {
    std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
      int ra = VersionRank(a), rb = VersionRank(b);
      return ra != rb ? ra > rb : a < b;
    });
  }
  group_order_.clear();
  for (const char* g : kGroupOrder) {
    if (group_versions_.contains(g)) group_order_.push_back(g);
  }
  for (auto& [group, versions] : group_versions_) {
    if (std::find(group_order_.begin(), group_order_.end(), group) == group_order_.end()) {
      group_order_.push_back(group);
    }
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

const ResourceInfo* Catalogue::Find(std::string_view group, std::string_view version,
                                    std::string_view plural) const {
  std::shared_lock lock(mu_);
  for (const ResourceInfo* r : all_) {
    if (r->decl->group == group && r->decl->version == version && r->decl->plural == plural) {
      return r;
    }
  }
  return nullptr;
}

const ResourceInfo* Catalogue::FindByKind(std::string_view group, std::string_view version,
                                          std::string_view kind) const {
  std::shared_lock lock(mu_);
  for (const ResourceInfo* r : all_) {
    if (r->decl->group == group && r->decl->version == version && r->decl->kind == kind) {
      return r;
    }
  }
  return nullptr;
}

std::vector<const ResourceInfo*> Catalogue::resources() const {
  std::shared_lock lock(mu_);
  return all_;
}

std::map<std::string, std::vector<std::string>> Catalogue::group_versions() const {
  std::shared_lock lock(mu_);
  return group_versions_;
}

std::vector<std::string> Catalogue::group_order() const {
  std::shared_lock lock(mu_);
  return group_order_;
}

Status Catalogue::AddCustom(std::unique_ptr<CustomResourceSet> set) {
  std::unique_lock lock(mu_);
  // Names must be free in the group: the plural and the kind of every other resource,
  // built-in or from another definition.
  const ResourceInfo* first = set->served.empty() ? set->storage : set->served.front().get();
  for (const ResourceInfo* r : all_) {
    if (r->group() != set->group) continue;
    if (r->custom && custom_.contains(set->definition_name)) {
      const CustomResourceSet& mine = *custom_.at(set->definition_name);
      bool own = std::ranges::any_of(mine.served, [&](const auto& x) { return x.get() == r; });
      if (own) continue;
    }
    if (r->plural() == set->plural) {
      return Status(StatusCode::kConflict, "\"" + set->plural + "\" is already in use")
          .SetReason("PluralConflict");
    }
    if (first && r->kind() == first->kind()) {
      return Status(StatusCode::kConflict, "\"" + first->kind() + "\" is already in use")
          .SetReason("KindConflict");
    }
  }
  if (auto it = custom_.find(set->definition_name); it != custom_.end()) {
    retired_.push_back(std::move(it->second));
    custom_.erase(it);
  }
  std::string name = set->definition_name;
  custom_.emplace(std::move(name), std::move(set));
  Reindex();
  return Status::Ok();
}

void Catalogue::RemoveCustom(const std::string& definition_name) {
  std::unique_lock lock(mu_);
  auto it = custom_.find(definition_name);
  if (it == custom_.end()) return;
  retired_.push_back(std::move(it->second));
  custom_.erase(it);
  Reindex();
}

const CustomResourceSet* Catalogue::FindCustom(const std::string& definition_name) const {
  std::shared_lock lock(mu_);
  auto it = custom_.find(definition_name);
  return it == custom_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Catalogue::CustomNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, set] : custom_) out.push_back(name);
  return out;
}

}  // namespace skiff::api
