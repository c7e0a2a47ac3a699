// Catalogue: every served resource, its schema and its kind-specific behaviour.
//
// Built from the SchemaRegistry (the data) plus one KindStrategy per kind (C++ hooks
// only where a kind's behaviour is special). Custom resources will join the same
// catalogue at run time.
// Thread safety: read-only after construction; safe for concurrent readers.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/schema.h"
#include "base/status.h"

namespace skiff::api {

class KindStrategy;

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
  const std::vector<std::unique_ptr<ResourceInfo>>& resources() const { return resources_; }
  const SchemaRegistry& schemas() const { return *schemas_; }

  // Served group versions: group -> versions, preferred first. The core group is "".
  const std::map<std::string, std::vector<std::string>>& group_versions() const {
    return group_versions_;
  }
  // Groups in discovery order (core first, then as Kubernetes orders them).
  const std::vector<std::string>& group_order() const { return group_order_; }

 private:
  Catalogue() = default;
  std::unique_ptr<SchemaRegistry> schemas_;
  std::vector<std::unique_ptr<ResourceInfo>> resources_;
  std::map<std::string, std::vector<std::string>> group_versions_;
  std::vector<std::string> group_order_;
};

}  // namespace skiff::api
