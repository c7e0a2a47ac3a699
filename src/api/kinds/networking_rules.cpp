#include "api/kinds/networking_rules.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <optional>

#include <boost/json.hpp>

#include "base/k8s_names.h"

namespace skiff::api::kinds {

namespace json = boost::json;

std::vector<std::string> WildcardDns1123SubdomainErrors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.emplace_back("must be no more than 253 characters");
  bool ok = value.starts_with("*.") && IsDns1123Subdomain(value.substr(2)).empty();
  if (!ok) {
    errs.emplace_back(
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
        "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
        "alphanumeric character (e.g. '*.example.com', regex used for validation is "
        "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }
  return errs;
}

void ValidateTypedReference(const json::object& ref, const std::string& path, bool require_scope,
                            FieldErrors& errs) {
  if (const json::value* group = ref.if_contains("apiGroup"); group && group->is_string()) {
    errs.InvalidEach(Child(path, "apiGroup"), group->get_string(),
                     Dns1123SubdomainErrors(group->get_string()));
  }
  for (std::string_view field : {"kind", "name"}) {
    std::string_view value = FindStr(ref, {field});
    if (value.empty()) {
      errs.Required(Child(path, field));
    } else {
      errs.InvalidEach(Child(path, field), value, IsValidPathSegmentName(value));
    }
  }
  if (!require_scope) return;
  const json::value* scope_v = ref.if_contains("scope");
  if (!scope_v || !scope_v->is_string()) {
    errs.Required(Child(path, "scope"));
    return;
  }
  std::string_view scope = scope_v->get_string();
  const json::value* ns = ref.if_contains("namespace");
  bool has_ns = ns && ns->is_string();
  if (scope == "Namespace") {
    if (!has_ns) {
      errs.Required(Child(path, "namespace"), "`parameters.scope` is set to 'Namespace'");
    } else {
      errs.InvalidEach(Child(path, "namespace"), ns->get_string(),
                       IsDns1123Label(ns->get_string()));
    }
  } else if (scope == "Cluster") {
    if (has_ns) errs.Forbidden(Child(path, "namespace"), "`parameters.scope` is set to 'Cluster'");
  } else {
    errs.NotSupported(Child(path, "scope"), scope, {"Cluster", "Namespace"});
  }
}

std::vector<std::string> CidrErrors(std::string_view cidr) {
  static const std::vector<std::string> kInvalid = {
      "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"};
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return kInvalid;
  std::string_view ip = cidr.substr(0, slash);
  std::string_view bits = cidr.substr(slash + 1);
  if (!IsIpAddress(ip) || bits.empty() || bits.size() > 3) return kInvalid;
  int n = 0;
  for (char c : bits) {
    if (c < '0' || c > '9') return kInvalid;
    n = n * 10 + (c - '0');
  }
  int max = IsIpv6Address(ip) ? 128 : 32;
  if (n > max) return kInvalid;
  return {};
}

namespace {

struct ParsedCidr {
  std::array<uint8_t, 16> bytes{};
  int length = 0;  // 4 or 16
  int prefix = 0;
};

std::optional<ParsedCidr> ParseCidr(std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string ip(cidr.substr(0, slash));
  ParsedCidr out;
  if (inet_pton(AF_INET, ip.c_str(), out.bytes.data()) == 1) {
    out.length = 4;
  } else if (inet_pton(AF_INET6, ip.c_str(), out.bytes.data()) == 1) {
    out.length = 16;
  } else {
    return std::nullopt;
  }
  for (char c : cidr.substr(slash + 1)) out.prefix = out.prefix * 10 + (c - '0');
  return out;
}

}  // namespace

bool CidrStrictlyContains(std::string_view outer, std::string_view inner) {
  auto o = ParseCidr(outer);
  auto i = ParseCidr(inner);
  if (!o || !i || o->length != i->length || o->prefix >= i->prefix) return false;
  for (int bit = 0; bit < o->prefix; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((o->bytes[bit / 8] & mask) != (i->bytes[bit / 8] & mask)) return false;
  }
  return true;
}

void ValidateDomainPrefixedPath(const std::string& path, std::string_view value,
                                FieldErrors& errs) {
  if (value.empty()) {
    errs.Required(path);
    return;
  }
  size_t slash = value.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == value.size()) {
    errs.InvalidString(path, value, "must be a domain-prefixed path (such as \"acme.io/foo\")");
    return;
  }
  std::string_view host = value.substr(0, slash);
  errs.InvalidEach(path, host, Dns1123SubdomainErrors(host));
  std::string_view rest = value.substr(slash + 1);
  static constexpr std::string_view kPathChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~%!$&'()*+,;=:";
  if (rest.find_first_not_of(kPathChars) != std::string_view::npos) {
    errs.InvalidString(path, rest,
                       "Invalid path (regex used for validation is "
                       "'[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')");
  }
}

}  // namespace skiff::api::kinds
