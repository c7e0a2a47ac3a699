// The schema model: how every kind's structure is described, as data.
//
// Schemas come from the embedded `.schema` files under src/api/schemas/ (built-in
// kinds, see docs/schema-format.md) and, later, from CustomResourceDefinitions. From
// this one description the API server derives validation, defaulting, pruning,
// strategic-merge-patch metadata, OpenAPI documents and `kubectl explain` text.
//
// Thread safety: a SchemaRegistry is built once, then read-only; concurrent reads are safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace skiff::api {

enum class SchemaType {
  kObject,  // fixed properties
  kArray,   // `items`
  kMap,     // string keys, values of `items` (OpenAPI additionalProperties)
  kString,
  kInteger,  // format int32 / int64
  kNumber,   // format double
  kBoolean,
  kIntOrString,  // x-kubernetes-int-or-string
  kQuantity,     // resource.Quantity: string or number, canonicalised
  kAny,          // any JSON value, kept as is (x-kubernetes-preserve-unknown-fields)
};

struct Schema;

struct Property {
  std::string name;
  std::string description;
  const Schema* schema = nullptr;  // never null once the registry is resolved
  bool required = false;
  std::optional<std::string> default_json;  // a JSON literal applied when the field is absent
  // x-kubernetes-patch-strategy of a field whose type is a named object, e.g. "retainKeys"
  // on DeploymentSpec.strategy. For array and map fields it lives on the anonymous node.
  std::string patch_strategy;

  // Protobuf form of the field (`pb=`, `ptr`, `keepzero` in docs/schema-format.md), read
  // by the decoder of Kubernetes protobuf bodies (api/protobuf_codec.h).
  // The field number within its message; 0 when the field has no protobuf form (the
  // apiVersion and kind of a top-level kind travel in the envelope instead).
  int proto_number = 0;
  // Numbers of the embedded messages the field is flattened from, outermost first: Go
  // structs embedded in another are one JSON object but nested protobuf messages (the
  // VolumeSource of a Volume is field 2, so Volume.hostPath is `pb=2.1`). Usually empty.
  std::vector<int> proto_embedded_in;
  // The Go field is a pointer: protobuf carries it only when set, and its zero value is
  // meaningful (replicas: 0).
  bool pointer = false;
  // The Go field is a non-pointer scalar without omitempty: JSON shows its zero value.
  bool keep_zero = false;
};

struct Schema {
  // Named types: the OpenAPI definition name, e.g. "io.k8s.api.core.v1.Container".
  // Anonymous nodes (arrays, maps, primitives with constraints) have an empty name.
  std::string name;
  std::string description;
  SchemaType type = SchemaType::kObject;
  std::string format;  // "int32", "int64", "double", "byte", "date-time", ...

  // kObject
  std::vector<Property> properties;  // in declaration order
  // Returns the property called `name`, or nullptr. Linear in the number of properties.
  const Property* FindProperty(std::string_view name) const;
  // A free-form object (the `object` field type, e.g. FieldsV1): fields beyond
  // `properties` are kept as they are (x-kubernetes-preserve-unknown-fields).
  bool preserve_unknown_fields = false;

  // kArray and kMap: the element / value schema. map_type also applies to kObject
  // (a struct replaced as a whole, e.g. LocalObjectReference).
  const Schema* items = nullptr;
  std::string list_type;                   // "atomic", "set", "map" (x-kubernetes-list-type)
  std::vector<std::string> list_map_keys;  // x-kubernetes-list-map-keys
  std::string map_type;                    // "atomic", "granular" (x-kubernetes-map-type)
  std::string patch_strategy;              // "merge", "retainKeys", "merge,retainKeys", "replace"
  std::string patch_merge_key;             // x-kubernetes-patch-merge-key

  // kString
  std::vector<std::string> enum_values;

  // Group/version/kind when this type is a top-level kind (x-kubernetes-group-version-kind).
  std::string gvk_group, gvk_version, gvk_kind;

  // Value constraints of custom resource schemas (JSON schema keywords; built-in kinds
  // validate in C++ instead). Unset when absent.
  struct Constraints {
    std::optional<double> minimum, maximum;
    bool exclusive_minimum = false, exclusive_maximum = false;
    std::optional<double> multiple_of;
    std::optional<int64_t> min_length, max_length;
    std::string pattern;  // ECMA regular expression; empty: none
    std::optional<int64_t> min_items, max_items;
    bool unique_items = false;
    std::optional<int64_t> min_properties, max_properties;
    std::vector<std::string> enum_json;  // allowed values, serialized JSON; empty: any
    bool nullable = false;
    bool embedded_resource = false;  // x-kubernetes-embedded-resource
  };
  std::shared_ptr<const Constraints> constraints;  // null for built-in schemas
};

// A served resource (one entry of discovery), declared with `resource` in a schema file.
struct ResourceDecl {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string plural;    // "deployments"
  std::string singular;  // "deployment"
  std::string kind;      // "Deployment"
  bool namespaced = true;
  std::vector<std::string> short_names;   // "deploy"
  std::vector<std::string> categories;    // "all"
  std::vector<std::string> subresources;  // "status", "scale"
  std::vector<std::string> verbs;         // discovery verbs
  const Schema* schema = nullptr;         // the object's type
  // The group/version ("v1", "autoscaling/v2") whose resource of the same plural holds
  // this resource's objects in the store, when that is another version: objects are
  // converted to it on write and from it on read. Empty: stored in this version.
  std::string storage_group_version;
};

// Owns every schema node and resource declaration loaded from schema files.
class SchemaRegistry {
 public:
  SchemaRegistry();
  ~SchemaRegistry();
  SchemaRegistry(const SchemaRegistry&) = delete;
  SchemaRegistry& operator=(const SchemaRegistry&) = delete;

  // Parses one schema file (see docs/schema-format.md) and adds its types and resources.
  // `file_name` is used in error messages only. References to types in other files
  // stay unresolved until Resolve(). On error nothing is added.
  Status AddFile(std::string_view file_name, std::string_view text);

  // Resolves every type reference added since the last call, then checks what needs
  // the whole picture: defaults fit their fields, list-map and merge keys are fields of
  // the list's items, each resource's type is its kind. Errors: kInvalid, "file:line: "
  // and the first problem found; the registry is then partly resolved and unusable.
  // REQUIRES: called after the AddFile calls whose types refer to each other.
  Status Resolve();

  // Loads and resolves all schema files built into the binary.
  static Result<std::unique_ptr<SchemaRegistry>> LoadBuiltin();

  // A named type, or nullptr.
  const Schema* Find(std::string_view definition_name) const;
  const std::map<std::string, const Schema*, std::less<>>& types() const { return by_name_; }
  const std::vector<ResourceDecl>& resources() const { return resources_; }

  // Creates an anonymous or named node owned by the registry (used by the parser and
  // for CRD schemas).
  Schema* NewNode();

 private:
  std::vector<std::unique_ptr<Schema>> nodes_;
  std::map<std::string, const Schema*, std::less<>> by_name_;
  std::vector<ResourceDecl> resources_;
  struct Pending;  // unresolved references, owned by the parser
  std::unique_ptr<Pending> pending_;
};

}  // namespace skiff::api
