// RFC 6902 JSON Patch (with RFC 6901 JSON Pointers) and RFC 7386 JSON Merge Patch, as the
// API server applies them for PATCH requests (application/json-patch+json and
// application/merge-patch+json).
//
// Error codes follow Kubernetes: a patch document that is not a list of operation objects
// is kBadRequest (400); an operation that cannot be applied -- unknown op, missing or bad
// member, path not found, failed "test" -- is kInvalid (422), with the messages of the JSON
// Patch library Kubernetes uses (e.g. "testing value /spec/replicas failed: test failed").
//
// Thread safety: free functions without shared state; safe to call concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>
#include <boost/json/value.hpp>

#include "base/status.h"

namespace skiff {

// Kubernetes refuses JSON patches with more operations than this.
inline constexpr std::size_t kMaxJsonPatchOperations = 10000;

// Splits an RFC 6901 pointer into unescaped reference tokens ("~1" -> "/", "~0" -> "~").
// "" is the whole document (no tokens). Errors: kInvalid when the pointer is neither empty
// nor starts with '/', or contains a '~' not followed by '0' or '1'.
Result<std::vector<std::string>> ParseJsonPointer(std::string_view pointer);

// Applies `patch` (a JSON array of operations) to a copy of `document` and returns the
// result; `document` is not modified. Operations: add, remove, replace, move, copy, test.
// Array indices may be "-" (append, for add/move/copy targets) or negative (counting from
// the end, as Kubernetes' library allows). A null patch is an empty patch.
// Errors: kBadRequest for a malformed patch document; kRequestEntityTooLarge when it holds
// more than `max_operations` operations; kInvalid when an operation fails.
Result<boost::json::value> ApplyJsonPatch(const boost::json::value& document,
                                          const boost::json::value& patch,
                                          std::size_t max_operations = kMaxJsonPatchOperations);

// RFC 7386: objects in `patch` merge recursively into `document`, null members delete, and
// any other patch value (including arrays) replaces the target. A non-object patch replaces
// the whole document. Never fails.
boost::json::value ApplyMergePatch(const boost::json::value& document,
                                   const boost::json::value& patch);

}  // namespace skiff
