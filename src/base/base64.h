// Base64 (RFC 4648), standard and URL-safe alphabets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace skiff {

// Encodes `data` with the standard alphabet and '=' padding.
std::string Base64Encode(std::string_view data);
// Encodes with the URL-safe alphabet ('-', '_') and no padding.
std::string Base64UrlEncode(std::string_view data);
// Decodes either alphabet, padding optional. nullopt on any invalid character.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace skiff
