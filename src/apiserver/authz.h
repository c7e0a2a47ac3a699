// Authorization: decides whether an authenticated user may perform a request.
// RBAC will implement this interface; until then every authenticated user is allowed.
// Thread safety: implementations are thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authn.h"
#include "apiserver/request_info.h"
#include "base/status.h"

namespace skiff {

// One rule of a SelfSubjectRulesReview answer.
struct ResourceRuleSpec {
  std::vector<std::string> verbs, api_groups, resources, resource_names;
};
struct NonResourceRuleSpec {
  std::vector<std::string> verbs, urls;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // Ok to allow; kForbidden with Kubernetes' message to deny.
  virtual Status Authorize(const UserInfo& user, const RequestInfo& request,
                           std::string_view path) const = 0;
  // What `user` may do in namespace `ns` (for SelfSubjectRulesReview). `*incomplete` is
  // set when the authorizer cannot enumerate its rules.
  virtual void RulesFor(const UserInfo& user, std::string_view ns,
                        std::vector<ResourceRuleSpec>& resource_rules,
                        std::vector<NonResourceRuleSpec>& non_resource_rules,
                        bool* incomplete) const = 0;
};

// Allows every authenticated request.
class AllowAllAuthorizer : public Authorizer {
 public:
  Status Authorize(const UserInfo&, const RequestInfo&, std::string_view) const override {
    return Status::Ok();
  }
  void RulesFor(const UserInfo&, std::string_view, std::vector<ResourceRuleSpec>& resource_rules,
                std::vector<NonResourceRuleSpec>& non_resource_rules,
                bool* incomplete) const override {
    resource_rules.push_back({{"*"}, {"*"}, {"*"}, {}});
    non_resource_rules.push_back({{"*"}, {"*"}});
    *incomplete = false;
  }
};

}  // namespace skiff
