// Random (version 4) UUIDs, e.g. for metadata.uid. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace skiff {

// A new random RFC 4122 version-4 UUID in canonical lowercase form.
std::string NewUuid();

// A random 5-character suffix for metadata.generateName, from the alphabet Kubernetes
// uses (no vowels, no confusable characters): "bcdfghjklmnpqrstvwxz2456789".
std::string GenerateNameSuffix();

// The name the API server gives an object created with metadata.generateName: `base` cut
// to 58 characters, followed by GenerateNameSuffix() (63 characters at most).
std::string GenerateName(std::string_view base);

}  // namespace skiff
