// Name validation as Kubernetes does it, returning its messages word for word.
// Each function returns the list of problems; an empty list means valid.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace skiff {

// RFC 1123 label (max 63): namespaces, container names, port names.
std::vector<std::string> IsDns1123Label(std::string_view value);
// RFC 1123 subdomain (max 253): most object names.
std::vector<std::string> IsDns1123Subdomain(std::string_view value);
// RFC 1035 label (max 63): Service names.
std::vector<std::string> IsDns1035Label(std::string_view value);
// Qualified name `[prefix/]name`: label keys, annotation keys, finalizers.
std::vector<std::string> IsQualifiedName(std::string_view value);
// Label values (may be empty, max 63).
std::vector<std::string> IsValidLabelValue(std::string_view value);
// ConfigMap and Secret data keys.
std::vector<std::string> IsConfigMapKey(std::string_view value);
// Names used as URL path segments (every object name): not "." or "..", no '/' or '%'.
std::vector<std::string> IsValidPathSegmentName(std::string_view value);

// metadata.annotations: the sum of key and value lengths may not exceed 256 KiB.
inline constexpr std::size_t kTotalAnnotationSizeLimit = 256 * 1024;
// Checks the total annotation size (sum of key and value lengths); the message is
// "Too long: must have at most 262144 bytes", reported at metadata.annotations.
std::vector<std::string> IsValidAnnotationsSize(std::size_t total_bytes);

// For metadata.generateName: a trailing '-' is replaced by 'a' (when the prefix is longer
// than one character) so the prefix can be checked with the name rules above.
std::string MaskTrailingDash(std::string_view name);

}  // namespace skiff
