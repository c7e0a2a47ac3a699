#include "api/kinds/resource_names.h"

#include <algorithm>
#include <array>

#include "base/quantity.h"

namespace skiff::api::kinds {

namespace {

constexpr std::array<std::string_view, 20> kStandardResources = {
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
};

constexpr std::array<std::string_view, 19> kStandardQuotaResources = {
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
};

constexpr std::array<std::string_view, 9> kIntegerResources = {
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
};

template <size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view name) {
  return std::ranges::find(set, name) != set.end();
}

bool HasDomain(std::string_view name) { return name.find('/') != std::string_view::npos; }

bool IsQuotaHugePageResourceName(std::string_view name) {
  return name.starts_with("hugepages-") || name.starts_with("requests.hugepages-");
}

bool IsExtendedResourceName(std::string_view name) {
  if (IsNativeResourceName(name) || name.starts_with("requests.")) return false;
  // The quota form of an extended resource ("requests.<name>") must itself be valid.
  return QualifiedNameErrors("requests." + std::string(name)).empty();
}

bool IsIntegerResourceName(std::string_view name) {
  return In(kIntegerResources, name) || IsExtendedResourceName(name);
}

// Resource names print unquoted in Kubernetes' messages (they have a String method).
void InvalidName(FieldErrors& errs, const std::string& path, std::string_view name,
                 std::string_view detail) {
  errs.Invalid(path, name, detail);
}

}  // namespace

bool IsNativeResourceName(std::string_view name) {
  return !HasDomain(name) || name.find("kubernetes.io/") != std::string_view::npos;
}

bool IsStandardQuotaResourceName(std::string_view name) {
  return In(kStandardQuotaResources, name) || IsQuotaHugePageResourceName(name);
}

bool IsOvercommitAllowedResource(std::string_view name) {
  return IsNativeResourceName(name) && !name.starts_with("hugepages-");
}

void ValidateResourceName(std::string_view name, const std::string& path, FieldErrors& errs) {
  size_t before = errs.size();
  for (const std::string& msg : QualifiedNameErrors(name)) InvalidName(errs, path, name, msg);
  if (errs.size() != before) return;
  if (!HasDomain(name) && !In(kStandardResources, name) && !IsQuotaHugePageResourceName(name)) {
    InvalidName(errs, path, name, "must be a standard resource type or fully qualified");
  }
}

void ValidateQuotaResourceName(std::string_view name, const std::string& path, FieldErrors& errs) {
  ValidateResourceName(name, path, errs);
  if (!HasDomain(name) && !IsStandardQuotaResourceName(name)) {
    InvalidName(errs, path, name, "must be a standard resource for quota");
  }
}

void ValidateContainerResourceName(std::string_view name, const std::string& path,
                                   FieldErrors& errs) {
  ValidateResourceName(name, path, errs);
  if (!HasDomain(name)) {
    bool standard = name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
                    name.starts_with("hugepages-");
    if (!standard) InvalidName(errs, path, name, "must be a standard resource for containers");
  } else if (!IsNativeResourceName(name) && !IsExtendedResourceName(name)) {
    InvalidName(errs, path, name, "doesn't follow extended resource name standard");
  }
}

void ValidateResourceQuantity(std::string_view name, std::string_view value,
                              const std::string& path, FieldErrors& errs) {
  auto q = Quantity::Parse(value);
  if (!q) return;
  if (q->Sign() < 0) errs.InvalidString(path, value, "must be greater than or equal to 0");
  if (IsIntegerResourceName(name) && q->MilliValue() % 1000 != 0) {
    errs.InvalidString(path, value, "must be an integer");
  }
}

}  // namespace skiff::api::kinds
