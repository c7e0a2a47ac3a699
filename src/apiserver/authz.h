// Authorization: decides whether an authenticated user may perform a request.
// RBAC will implement this interface; until then every authenticated user is allowed.
// Thread safety: implementations are thread-safe.
#pragma once

#include <string>

#include "apiserver/authn.h"
#include "apiserver/request_info.h"
#include "base/status.h"

namespace skiff {

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // Ok to allow; kForbidden with Kubernetes' message to deny.
  virtual Status Authorize(const UserInfo& user, const RequestInfo& request,
                           std::string_view path) const = 0;
};

// Allows every authenticated request.
class AllowAllAuthorizer : public Authorizer {
 public:
  Status Authorize(const UserInfo&, const RequestInfo&, std::string_view) const override {
    return Status::Ok();
  }
};

}  // namespace skiff
