// JSON text <-> boost::json::value, with the guards an API server needs for untrusted
// request bodies (nesting limit, duplicate-key reporting), a deterministic serializer whose
// number formatting matches Go's encoding/json, and null-safe lookups into documents.
//
// Thread safety: free functions without shared state; safe to call concurrently.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>
#include <boost/json/value.hpp>

#include "base/status.h"

namespace skiff {

// The nesting limit applied when callers do not choose one.
inline constexpr int kDefaultJsonMaxDepth = 100;

// Parses one JSON document (RFC 8259; no comments, no trailing commas, UTF-8 only).
// Leading and trailing whitespace is allowed; anything else after the value is an error.
// Objects keep their members in document order; when a key repeats, the last value wins
// (as in Go's encoding/json).
//
// If `duplicate_fields` is non-null, it receives the path of every repeated key in the
// form Kubernetes' strict decoder prints it: "metadata.name", "spec.containers[0].name",
// or just "name" at top level. It is cleared first.
//
// Errors (kBadRequest): "malformed JSON: <detail> at offset N" for a syntax error, and
// "JSON nesting exceeds N levels" when arrays/objects nest deeper than `max_depth`.
// REQUIRES: max_depth >= 1.
Result<boost::json::value> ParseJson(std::string_view text, int max_depth = kDefaultJsonMaxDepth,
                                     std::vector<std::string>* duplicate_fields = nullptr);

// Like ParseJson, but a repeated key is an error: kBadRequest with the message
// `duplicate field "<path>"` naming the first repeated key.
Result<boost::json::value> ParseJsonStrict(std::string_view text,
                                           int max_depth = kDefaultJsonMaxDepth);

// Serializes `value` compactly. Object members keep their insertion order, so equal
// inputs give byte-identical output. Strings escape only what JSON requires ('"', '\\'
// and control characters, as \n \t ... or \u00XX). Doubles print like Go's encoding/json:
// shortest round-trip digits, plain notation for 1e-6 <= |x| < 1e21 (so 1.0 prints as
// "1"), exponent notation otherwise ("1e+21", "1e-7"); NaN and infinities print as null.
std::string SerializeJson(const boost::json::value& value);

// Appends the serialization of `value` to `*out` (same format as SerializeJson).
void AppendJson(const boost::json::value& value, std::string* out);

// Returns the value reached by following object keys `path` from `root`, or nullptr when
// any step is missing or is not an object. An empty path returns &root.
const boost::json::value* Lookup(const boost::json::value& root,
                                 std::initializer_list<std::string_view> path);

// Mutable variant of Lookup; the same rules apply.
boost::json::value* LookupMutable(boost::json::value& root,
                                  std::initializer_list<std::string_view> path);

// Returns the string at `path`, or `fallback` when it is absent or not a string.
std::string GetString(const boost::json::value& root, std::initializer_list<std::string_view> path,
                      std::string_view fallback = "");

// Returns the integer at `path`, or `fallback` when it is absent or not an integer.
// A double with an integral value in range (e.g. 3.0) counts as an integer; uint64 values
// above INT64_MAX do not.
int64_t GetInt(const boost::json::value& root, std::initializer_list<std::string_view> path,
               int64_t fallback = 0);

// Returns the boolean at `path`, or `fallback` when it is absent or not a boolean.
bool GetBool(const boost::json::value& root, std::initializer_list<std::string_view> path,
             bool fallback = false);

// Semantic equality of JSON values: like boost's operator== except that numbers compare
// by value across int64/uint64/double (1 == 1.0), as they do once decoded by Go.
bool JsonEqual(const boost::json::value& a, const boost::json::value& b);

// Returns the JSON type name used in messages: "object", "array", "string", "number",
// "boolean" or "null".
const char* JsonTypeName(const boost::json::value& value);

}  // namespace skiff
