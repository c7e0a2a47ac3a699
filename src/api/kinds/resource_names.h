// The resource names that quotas and limit ranges may name, with Kubernetes' rules and
// messages: standard names ("pods", "requests.cpu"), hugepages, and domain-prefixed
// extended resources ("example.com/gpu", "count/deployments.apps").
// Internal to the strategies. Thread safety: free functions over caller-owned values.
#pragma once

#include <string>
#include <string_view>

#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

// A qualified name that, without a domain prefix, must be a standard resource name.
void ValidateResourceName(std::string_view name, const std::string& path, FieldErrors& errs);
// ValidateResourceName, and without a domain prefix also a resource a quota can count.
void ValidateQuotaResourceName(std::string_view name, const std::string& path, FieldErrors& errs);
// ValidateResourceName for the resources of a container (cpu, memory, ephemeral-storage,
// hugepages-*, or an extended resource).
void ValidateContainerResourceName(std::string_view name, const std::string& path,
                                   FieldErrors& errs);
// A quantity of resource `name` at `path`: never negative, whole for counted resources.
// `value` is the canonical text the codec stored; unparsable text is left to the codec.
void ValidateResourceQuantity(std::string_view name, std::string_view value,
                              const std::string& path, FieldErrors& errs);

// Whether `name` is one of the resources a quota tracks without a domain prefix.
bool IsStandardQuotaResourceName(std::string_view name);
// Whether `name` lives in the kubernetes.io domain (no prefix, or a kubernetes.io/ one).
bool IsNativeResourceName(std::string_view name);
// Whether requests of `name` may be smaller than its limits (not hugepages or extended).
bool IsOvercommitAllowedResource(std::string_view name);

}  // namespace skiff::api::kinds
