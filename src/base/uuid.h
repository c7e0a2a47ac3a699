// Random (version 4) UUIDs, e.g. for metadata.uid. Thread-safe.
#pragma once

#include <string>

namespace skiff {

// A new random RFC 4122 version-4 UUID in canonical lowercase form.
std::string NewUuid();

// A random 5-character suffix for metadata.generateName, from the alphabet Kubernetes
// uses (no vowels, no confusable characters): "bcdfghjklmnpqrstvwxz2456789".
std::string GenerateNameSuffix();

}  // namespace skiff
