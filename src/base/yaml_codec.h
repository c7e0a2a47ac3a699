// YAML text <-> JSON values, with the semantics kubectl and the API server use.
//
// Decoding follows sigs.k8s.io/yaml (YAML -> JSON through go-yaml v2): plain scalars are
// resolved with the YAML 1.1 rules Kubernetes inherits (null/~/empty -> null;
// y/yes/on/true/n/no/off/false in their three spellings -> bool; integers in decimal, 0x, 0o,
// 0b and leading-0 octal, with '_' separators -> int64 or uint64; floats -> double, with an
// integral float such as 1.0 or 1e3 becoming an integer as it does once the object travels
// as JSON); quoted and block scalars are always strings; map keys are converted to strings
// (true -> "true", 10 -> "10"); merge keys (<<) are honoured. Anchors and aliases are
// expanded under the same alias-ratio guard as go-yaml, plus a byte budget, so a YAML bomb
// fails instead of exhausting memory.
//
// Encoding reproduces what `kubectl get -o yaml` prints (go-yaml v2's emitter): keys sorted,
// block style with 2-space indentation, sequences at their key's indentation ("- " items),
// empty collections as {} and [], strings quoted only when needed ('...' or "..."), strings
// with newlines as literal block scalars (|, |-, |+), long scalars folded at 80 columns.
//
// Thread safety: free functions without shared state; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>
#include <boost/json/value.hpp>

#include "base/status.h"

namespace skiff {

// Parses a stream of YAML documents separated by "---". Documents that are empty, contain
// only comments, or hold an explicit null are skipped, as kubectl skips them.
//
// If `duplicate_fields` is non-null it receives the path of every repeated mapping key
// (same format as ParseJson: "metadata.name", "spec.containers[0].name"); it is cleared
// first. The last occurrence of a repeated key wins.
//
// Errors (kBadRequest): "malformed YAML: <detail> at line L, column C" for syntax errors;
// "YAML nesting exceeds N levels" when collections nest deeper than `max_depth` (counting
// aliased content where it is inserted); "yaml: document contains excessive aliasing" for
// alias bombs; "unsupported map key: ..." for null or collection keys; and
// "json: unsupported value: +Inf" (or -Inf, NaN) for .inf/.nan values, which JSON cannot
// carry. On error nothing is returned.
// REQUIRES: max_depth >= 1.
Result<std::vector<boost::json::value>> ParseYamlDocuments(
    std::string_view text, int max_depth = 100,
    std::vector<std::string>* duplicate_fields = nullptr);

// Parses text that must hold at most one document. Returns null for an empty stream.
// Errors: as ParseYamlDocuments, plus kBadRequest when there is more than one document.
Result<boost::json::value> ParseYaml(std::string_view text, int max_depth = 100);

// Renders `value` as one YAML document (no leading "---"), ending with a newline.
// Strings that are not valid UTF-8 have the bad bytes replaced by U+FFFD first.
std::string ToYaml(const boost::json::value& value);

}  // namespace skiff
