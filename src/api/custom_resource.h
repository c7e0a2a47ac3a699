// Custom resources: what a CustomResourceDefinition makes the API server serve.
//
// BuildCustomResourceSet turns one definition into the same description built-in kinds
// have — ResourceDecls, Schema nodes, ResourceInfos and a KindStrategy per version — so
// that a custom resource goes through the one request path of every resource. The
// schema of each version (openAPIV3Schema) becomes Schema nodes: types, required
// fields, defaults, list and map types, and the JSON schema value constraints that the
// strategy checks (enum, pattern, minimum/maximum, lengths, item counts).
// Thread safety: a built set is immutable; share it freely.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "api/catalogue.h"
#include "api/kind_strategy.h"
#include "api/schema.h"
#include "base/status.h"

namespace skiff::api {

// Everything one definition serves. Owns its schema nodes, declarations and strategies.
struct CustomResourceSet {
  std::string definition_name;  // "apps.foo.bar"
  std::string uid;              // of the definition
  std::string group;
  std::string plural;
  std::unique_ptr<SchemaRegistry> schemas;
  std::vector<std::unique_ptr<ResourceDecl>> decls;
  std::vector<std::unique_ptr<KindStrategy>> strategies;
  // One per served version, in the definition's order.
  std::vector<std::unique_ptr<ResourceInfo>> served;
  // The storage version's resource (one of `served`, or an unserved one held here).
  const ResourceInfo* storage = nullptr;
  std::unique_ptr<ResourceInfo> unserved_storage;
};

// Builds the set a (validated) definition describes. `builtin` supplies ObjectMeta.
// Errors: kInvalid when the definition lacks what serving needs.
Result<std::unique_ptr<CustomResourceSet>> BuildCustomResourceSet(
    const boost::json::object& definition, const SchemaRegistry& builtin);

// Evaluates a simple JSON path (".spec.replicas", ".status.conditions[0].type",
// ".metadata.labels['app']") against `obj`; nullptr when nothing is there.
const boost::json::value* EvaluateJsonPath(const boost::json::value& obj, std::string_view path);

// Sets the value at a simple JSON path of object fields (".spec.replicas"), creating
// objects on the way. Returns false when the path is not a plain field path.
bool SetJsonPath(boost::json::object& obj, std::string_view path, boost::json::value value);

}  // namespace skiff::api
