// Catalogue: every served resource, its schema and its kind-specific behaviour.
//
// Built from the SchemaRegistry (the data) plus one KindStrategy per kind (C++ hooks
// only where a kind's behaviour is special). Custom resources join and leave the same
// catalogue at run time, as their definitions come and go.
// Thread safety: all methods are thread-safe. A ResourceInfo, once handed out, stays
// valid for the catalogue's lifetime, even after its custom resource is removed.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/schema.h"
#include "base/status.h"

namespace skiff::api {

class KindStrategy;
struct VersionConversion;
struct CustomResourceSet;

struct ResourceInfo {
  const ResourceDecl* decl = nullptr;
  std::string group_version;  // "v1" or "apps/v1"
  std::string list_kind;      // "PodList"
  const KindStrategy* strategy = nullptr;

  const std::string& group() const { return decl->group; }
  const std::string& version() const { return decl->version; }
  const std::string& plural() const { return decl->plural; }
  const std::string& kind() const { return decl->kind; }
  bool namespaced() const { return decl->namespaced; }
  bool HasSubresource(std::string_view name) const;
  // Storage key prefix of all objects of this resource, ending in '/':
  // "/registry/pods/" (built-in) or "/registry/<group>/<plural>/" (custom resources).
  std::string key_prefix;
  // The resource of the storage version (this one unless the schema says `storage=`);
  // the store and the watch cache hold objects in that version.
  const ResourceInfo* storage = this;
  // How objects of this version convert to and from `storage`; null for the storage
  // version itself.
  const VersionConversion* conversion = nullptr;
  bool IsStorage() const { return storage == this; }

  // A custom resource (from a CustomResourceDefinition).
  bool custom = false;
  // The scale subresource of a custom resource: JSON paths of the desired and observed
  // replicas and of the label selector (empty: none). Built-in kinds use spec.replicas,
  // status.replicas and spec.selector.
  std::string scale_spec_replicas_path;
  std::string scale_status_replicas_path;
  std::string scale_label_selector_path;
};

class Catalogue {
 public:
  // Loads the built-in schemas and kinds. Errors: the schema files' parse errors.
  static Result<std::unique_ptr<Catalogue>> LoadBuiltin();
  ~Catalogue();

  // The resource served at group/version/plural, or nullptr.
  const ResourceInfo* Find(std::string_view group, std::string_view version,
                           std::string_view plural) const;
  const ResourceInfo* FindByKind(std::string_view group, std::string_view version,
                                 std::string_view kind) const;
  // Every served resource, built-in and custom, at the time of the call.
  std::vector<const ResourceInfo*> resources() const;
  const SchemaRegistry& schemas() const { return *schemas_; }

  // Served group versions: group -> versions, preferred first. The core group is "".
  std::map<std::string, std::vector<std::string>> group_versions() const;
  // Groups in discovery order (core first, then as Kubernetes orders them).
  std::vector<std::string> group_order() const;

  // Counts changes of the served resources; documents built from the catalogue are
  // current while it stays the same.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Serves the custom resources of the definition `set` describes, replacing what the
  // same definition (by name) served before. Errors: kConflict when a served version
  // of another definition or a built-in resource has the same group and plural or kind.
  Status AddCustom(std::unique_ptr<CustomResourceSet> set);
  // Stops serving the custom resources of definition `definition_name`. Their
  // ResourceInfos stay valid (requests in flight may still hold them).
  void RemoveCustom(const std::string& definition_name);
  // The set served for a definition, or nullptr. Valid for the catalogue's lifetime.
  const CustomResourceSet* FindCustom(const std::string& definition_name) const;
  // Names of the definitions whose resources are served.
  std::vector<std::string> CustomNames() const;

 private:
  Catalogue() = default;
  // Recomputes all_, group_versions_ and group_order_. REQUIRES: mu_ held exclusively.
  void Reindex();

  std::unique_ptr<SchemaRegistry> schemas_;             // constant after LoadBuiltin
  std::vector<std::unique_ptr<ResourceInfo>> builtin_;  // constant after LoadBuiltin

  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<CustomResourceSet>> custom_;  // protected by mu_
  std::vector<std::unique_ptr<CustomResourceSet>> retired_;           // protected by mu_
  std::vector<const ResourceInfo*> all_;                              // protected by mu_
  std::map<std::string, std::vector<std::string>> group_versions_;    // protected by mu_
  std::vector<std::string> group_order_;                              // protected by mu_
  std::atomic<uint64_t> generation_{0};
};

}  // namespace skiff::api
