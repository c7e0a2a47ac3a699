// RequestInfo: what a Kubernetes API request addresses, parsed from its path alone.
#pragma once

#include <string>
#include <string_view>

namespace skiff {

struct RequestInfo {
  bool is_resource_request = false;
  std::string api_prefix;  // "api" or "apis"
  std::string group;       // "" for the core group
  std::string version;
  std::string ns;        // namespace from the path, may be empty
  std::string resource;  // plural, e.g. "pods"
  std::string name;
  std::string subresource;  // "status", "scale", ...
  // "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"
  std::string verb;
};

// Parses `path` for `method`. Non-resource paths (/version, /api, /apis/apps, ...) give
// is_resource_request == false. `watch` is the value of the watch query parameter.
RequestInfo ParseRequestInfo(std::string_view method, std::string_view path, bool watch);

}  // namespace skiff
