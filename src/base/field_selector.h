// Field selectors: the `?fieldSelector=` syntax, e.g. "metadata.name=web,status.phase!=Failed".
//
// Terms are separated by ','; each is <field>=<value>, <field>==<value> or
// <field>!=<value>. Values may contain '\,', '\=' and '\\' escapes (unescaped ',' or '='
// inside a value is an error). Fields are taken literally (no trimming), as Kubernetes does;
// the API server decides which fields a resource supports (see CheckSupported).
//
// Thread safety: FieldSelector is an immutable value after construction; concurrent const
// use is safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace skiff {

struct FieldRequirement {
  std::string field;
  bool not_equals = false;  // "!=" (otherwise "=" or "==")
  std::string value;        // unescaped
};

// Returns `value` with '\', ',' and '=' escaped by a backslash.
std::string EscapeFieldValue(std::string_view value);

// Reverses EscapeFieldValue. Errors (kBadRequest), with Kubernetes' messages:
//   "invalid field selector: invalid escape sequence: \x"
//   "invalid field selector: unescaped character in value: 61" (the rune as a number, as
//   Kubernetes prints it)
Result<std::string> UnescapeFieldValue(std::string_view value);

class FieldSelector {
 public:
  // The empty selector: matches everything.
  FieldSelector() = default;

  // Parses the selector. "" and terms that are empty are ignored. Requirements are ordered
  // by their text, as Kubernetes sorts the terms before parsing.
  // Errors: kBadRequest "invalid selector: '<text>'; can't understand '<term>'" for a term
  // without an operator, and the UnescapeFieldValue errors.
  static Result<FieldSelector> Parse(std::string_view text);

  // Looks up a field's value for Matches: nullopt when the object has no such field, which
  // compares as the empty string (Kubernetes' fields.Set returns "" for a missing field).
  using FieldGetter = std::function<std::optional<std::string>(std::string_view field)>;

  bool Matches(const FieldGetter& get) const;

  bool Empty() const { return requirements_.empty(); }
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }

  // Canonical form: "f=v" / "f!=v" terms (values escaped) joined by ",".
  std::string ToString() const;

  // If the selector requires `field` to equal one value (f=v or f==v), returns it; used to
  // narrow lists, e.g. by metadata.name or spec.nodeName.
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;

  // Returns kBadRequest "field label not supported: <field>" for the first requirement
  // whose field `supported` rejects, OK otherwise.
  Status CheckSupported(const std::function<bool(std::string_view field)>& supported) const;

 private:
  std::vector<FieldRequirement> requirements_;
};

}  // namespace skiff
