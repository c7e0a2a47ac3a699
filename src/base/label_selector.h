// Label selectors: the `?labelSelector=` string syntax and metav1.LabelSelector objects,
// with Kubernetes' parsing rules, validation messages and canonical string form.
//
//   app=web, tier!=db, env in (prod,staging), track notin (canary), release, !legacy,
//   replicas>2, generation<5
//
// Requirements are ANDed. An empty selector matches every object; the "nothing" selector
// (a null metav1.LabelSelector) matches none.
//
// Thread safety: LabelSelector is an immutable value after construction; concurrent
// const use is safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "base/status.h"

namespace skiff {

enum class LabelOperator {
  kEquals,        // key=value
  kDoubleEquals,  // key==value
  kNotEquals,     // key!=value
  kIn,            // key in (a,b)
  kNotIn,         // key notin (a,b)
  kExists,        // key
  kDoesNotExist,  // !key
  kGreaterThan,   // key>5 (integer comparison)
  kLessThan,      // key<5
};

// One clause of a selector. `values` is sorted and free of duplicates.
struct LabelRequirement {
  std::string key;
  LabelOperator op = LabelOperator::kExists;
  std::vector<std::string> values;

  // Kubernetes' Requirement.Matches: = == in need the key present with a listed value;
  // != notin match when the key is absent or has another value; > < need the key present
  // with an integer value (base 10, int64) compared to the single integer operand.
  bool Matches(const std::map<std::string, std::string>& labels) const;
  // Canonical text, e.g. "env in (prod,staging)" or "!legacy".
  std::string ToString() const;
};

class LabelSelector {
 public:
  // The empty selector: matches everything.
  LabelSelector() = default;

  static LabelSelector Everything() { return LabelSelector(); }
  static LabelSelector Nothing();

  // Parses the string syntax used by ?labelSelector= and `kubectl -l`. Whitespace around
  // tokens is ignored; "" gives the empty selector. Requirements are sorted by key.
  // Errors: kBadRequest with Kubernetes' message, e.g.
  //   "found 'b', expected: ',' or 'end of string'"
  //   "unable to parse requirement: <nil>: Invalid value: \"a@b\": name part must ..."
  //   "unable to parse requirement: values[0][app]: Invalid value: \"-x\": a valid label ..."
  static Result<LabelSelector> Parse(std::string_view text);

  // Builds a selector from a metav1.LabelSelector object ({"matchLabels": {...},
  // "matchExpressions": [{"key", "operator": In|NotIn|Exists|DoesNotExist, "values"}]}).
  // A JSON null gives Nothing(); an object without requirements gives Everything().
  // Errors: kInvalid with Kubernetes' messages ("\"Foo\" is not a valid label selector
  // operator", "values: Invalid value: []string{}: for 'in', 'notin' operators, values set
  // can't be empty", ...), or a description of a malformed shape.
  static Result<LabelSelector> FromJson(const boost::json::value& selector);

  // A selector requiring each key=value of `labels` (as for Service.spec.selector).
  // Errors: kInvalid when a key or value is not a valid label key/value.
  static Result<LabelSelector> FromMap(const std::map<std::string, std::string>& labels);

  bool Matches(const std::map<std::string, std::string>& labels) const;
  // Matches a metadata.labels value: an object of strings, or null/absent (no labels).
  // Non-string label values are treated as absent.
  bool Matches(const boost::json::value* labels) const;

  // True for the empty selector (matches everything).
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  // True for Nothing().
  bool MatchesNothing() const { return nothing_; }

  // Canonical form: requirements sorted by key, joined by ",". "" for Everything() and
  // Nothing().
  std::string ToString() const;

  // If the selector pins `key` to one value (key=v, key==v or key in (v)), returns it.
  std::optional<std::string> RequiresExactMatch(std::string_view key) const;

  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;  // sorted by key (stable)
  bool nothing_ = false;
};

}  // namespace skiff
