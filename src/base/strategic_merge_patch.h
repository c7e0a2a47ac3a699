// Kubernetes strategic merge patch (application/strategic-merge-patch+json), the patch type
// `kubectl apply`, `kubectl patch` and `kubectl edit` send for built-in kinds.
//
// Semantics follow k8s.io/apimachinery/pkg/util/strategicpatch (StrategicMergeMapPatch):
//  - objects merge recursively; a null value deletes the key;
//  - lists whose field has patch strategy "merge" merge by the field's merge key (lists of
//    objects, e.g. containers by "name") or as a set (lists of primitives, e.g. finalizers);
//    other lists are replaced;
//  - directives: {"$patch": "replace"} / {"$patch": "delete"} in objects and in list items
//    ({"name": "x", "$patch": "delete"} removes that item); {"$patch": "merge"} is accepted
//    as an explicit no-op; "$retainKeys": [...] clears the keys not listed (after checking
//    the patch only sets listed keys); "$deleteFromPrimitiveList/<field>": [...] removes
//    values from a primitive list; "$setElementOrder/<field>": [...] fixes the order of a
//    merged list (patch order > live order otherwise);
//  - keys starting with '$' that are neither directives nor fields the schema declares are
//    rejected.
// New list items and new objects are added with their directives applied and nulls removed.
// Where the schema says nothing (PatchMeta is null), objects still merge but lists are
// replaced, as JSON merge patch does.
//
// Thread safety: ApplyStrategicMergePatch is reentrant; PatchMeta implementations must
// allow concurrent const calls when shared between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>
#include <boost/json/value.hpp>

#include "base/status.h"

namespace skiff {

// Patch metadata for one node of a kind's schema (an object, a list or a map), as derived
// from x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key. A null PatchMeta means
// "nothing known".
class PatchMeta {
 public:
  virtual ~PatchMeta() = default;

  // Metadata for member `name` of the object this node describes, or nullptr when the
  // schema does not know it. For maps (additionalProperties), every name yields the value
  // schema.
  virtual std::unique_ptr<PatchMeta> Field(std::string_view name) const = 0;
  // Metadata for the elements of the list this node describes, or nullptr.
  virtual std::unique_ptr<PatchMeta> Items() const = 0;
  // The patch strategy of this field: "", "merge", "replace", "retainKeys" or
  // "merge,retainKeys".
  virtual std::string PatchStrategy() const = 0;
  // The merge key of this list field (e.g. "name", "containerPort", "mountPath"), or "".
  virtual std::string PatchMergeKey() const = 0;
};

// Builds a PatchMeta tree from a JSON description, convenient for fixed schemas and tests:
//   {"strategy": "merge", "mergeKey": "name",      // for this node as a field
//    "fields": {"<name>": <description>, ...},     // members of an object
//    "values": <description>,                      // any member (maps)
//    "items": <description>}                       // list elements
// All members are optional. Unknown members are ignored.
std::unique_ptr<PatchMeta> PatchMetaFromJson(const boost::json::value& description);

// Applies `patch` to a copy of `original` and returns the result; neither input is changed.
// `meta` describes the top-level object (may be null).
// Errors: kBadRequest for a patch that is not an object or is malformed (bad directive
// values, unknown $patch types, missing merge keys, mismatched $setElementOrder or
// $retainKeys lists, ...); kInvalid for lists of lists. `original` must be an object or
// null (kBadRequest otherwise).
Result<boost::json::value> ApplyStrategicMergePatch(const boost::json::value& original,
                                                    const boost::json::value& patch,
                                                    const PatchMeta* meta);

}  // namespace skiff
