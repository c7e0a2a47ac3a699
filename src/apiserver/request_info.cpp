#include "apiserver/request_info.h"

#include <vector>

namespace skiff {

namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

}  // namespace

RequestInfo ParseRequestInfo(std::string_view method, std::string_view path, bool watch) {
  RequestInfo info;
  std::vector<std::string> parts = SplitPath(path);
  if (parts.empty()) return info;
  size_t pos = 0;
  if (parts[0] == "api") {
    if (parts.size() < 3) return info;  // /api, /api/v1
    info.api_prefix = "api";
    info.version = parts[1];
    pos = 2;
  } else if (parts[0] == "apis") {
    if (parts.size() < 4) return info;  // /apis, /apis/g, /apis/g/v
    info.api_prefix = "apis";
    info.group = parts[1];
    info.version = parts[2];
    pos = 3;
  } else {
    return info;
  }
  std::vector<std::string> rest(parts.begin() + static_cast<long>(pos), parts.end());
  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  info.is_resource_request = true;
  info.resource = rest[0];
  if (rest.size() > 1) info.name = rest[1];
  if (rest.size() > 2) info.subresource = rest[2];
  if (rest.size() > 3) info.subresource += "/" + rest[3];  // unknown deeper paths stay visible

  if (method == "GET" || method == "HEAD") {
    info.verb = info.name.empty() ? (watch ? "watch" : "list") : "get";
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  } else {
    info.verb = std::string(method);
  }
  return info;
}

}  // namespace skiff
