// Generic object metadata handling shared by every kind: what the server sets on
// create and keeps on update, and the validation of names, labels, annotations,
// finalizers and owner references, worded as Kubernetes words it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "base/status.h"

namespace skiff {

namespace api {
struct ResourceInfo;
}

// Fills server-owned metadata of a new object: name from generateName, uid,
// creationTimestamp, generation (kinds with a spec); clears resourceVersion,
// deletion fields, selfLink and managedFields.
void PrepareMetaForCreate(boost::json::object& obj, const api::ResourceInfo& r,
                          std::chrono::system_clock::time_point now);

// Copies server-owned metadata from `old` to `obj` on update (uid, creationTimestamp,
// deletionTimestamp, deletionGracePeriodSeconds, generation, name, namespace) and bumps
// generation when anything outside metadata and status changed.
void PrepareMetaForUpdate(boost::json::object& obj, const boost::json::object& old,
                          const api::ResourceInfo& r);

// Appends metadata validation failures.
void ValidateObjectMeta(const boost::json::object& obj, const api::ResourceInfo& r,
                        std::vector<StatusCause>& errors);

// Appends failures of rules that compare an update with the stored object (no new
// finalizers once deletion started).
void ValidateObjectMetaUpdate(const boost::json::object& obj, const boost::json::object& old,
                              std::vector<StatusCause>& errors);

// The name-format rule of a resource: "subdomain", "label", "dns1035" or "path" (any URL
// path segment, for RBAC objects).
std::string NameRuleFor(const api::ResourceInfo& r);

}  // namespace skiff
