// Reading the objects controllers work with: field access on JSON objects, owner
// references, and pod states (active, ready, available) as Kubernetes' controller utils
// define them.
// Thread safety: pure functions.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "base/k8s_time.h"

namespace skiff {

// The string at `path` ("" when absent or not a string).
std::string StrAt(const boost::json::object& obj, std::initializer_list<std::string_view> path);
// The integer at `path` (`fallback` when absent or not an integer).
int64_t IntAt(const boost::json::object& obj, std::initializer_list<std::string_view> path,
              int64_t fallback = 0);
// The object at `path`, or nullptr.
const boost::json::object* ObjAt(const boost::json::object& obj,
                                 std::initializer_list<std::string_view> path);

std::map<std::string, std::string> LabelsOf(const boost::json::object& obj);

struct OwnerRef {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
};
// The ownerReference marked controller: true, if any.
std::optional<OwnerRef> ControllerOf(const boost::json::object& obj);
// An ownerReference entry naming `owner` as controller (blockOwnerDeletion true).
boost::json::object ControllerRefTo(const boost::json::object& owner);

// Not terminated (phase Succeeded/Failed) and not being deleted.
bool IsPodActive(const boost::json::object& pod);
// The Ready condition is True.
bool IsPodReady(const boost::json::object& pod);
// Ready for at least `min_ready_seconds` at `now` (by the Ready condition's
// lastTransitionTime), as a Deployment or ReplicaSet counts availability.
bool IsPodAvailable(const boost::json::object& pod, int64_t min_ready_seconds, TimePoint now);

}  // namespace skiff
