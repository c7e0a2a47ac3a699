// Validation rules shared by the networking.k8s.io kinds (Ingress, IngressClass,
// NetworkPolicy), with Kubernetes' field paths and messages.
// Internal to src/api/kinds. Thread safety: free functions over caller-owned values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

// IsWildcardDNS1123Subdomain: "*." followed by a DNS-1123 subdomain.
std::vector<std::string> WildcardDns1123SubdomainErrors(std::string_view value);

// A reference by apiGroup/kind/name (an Ingress resource backend, an IngressClass's
// parameters). With `require_scope`, also scope (Cluster|Namespace) and namespace as
// IngressClassParametersReference requires them.
void ValidateTypedReference(const boost::json::object& ref, const std::string& path,
                            bool require_scope, FieldErrors& errs);

// IsValidCIDR for legacy fields: "must be a valid CIDR value, (e.g. 10.9.8.0/24 or
// 2001:db8::/64)" for anything that is not address/prefix.
std::vector<std::string> CidrErrors(std::string_view cidr);

// Whether `inner` lies inside `outer` with a longer prefix (an ipBlock's except entry).
// REQUIRES: both pass CidrErrors.
bool CidrStrictlyContains(std::string_view outer, std::string_view inner);

// IsDomainPrefixedPath (an IngressClass controller such as "example.com/ingress").
void ValidateDomainPrefixedPath(const std::string& path, std::string_view value, FieldErrors& errs);

}  // namespace skiff::api::kinds
