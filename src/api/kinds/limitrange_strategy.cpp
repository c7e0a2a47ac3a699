// LimitRange: limit types, the resource names of each bound, bounds that agree with one
// another, and the CREATED AT column.
#include <map>
#include <optional>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/resource_names.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_time.h"
#include "base/quantity.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

bool IsStandardLimitType(std::string_view type) {
  return type == "Pod" || type == "Container" || type == "PersistentVolumeClaim";
}

void ValidateLimitType(std::string_view type, const std::string& path, FieldErrors& errs) {
  size_t before = errs.size();
  errs.InvalidEach(path, type, QualifiedNameErrors(type));
  if (errs.size() != before) return;
  if (type.find('/') == std::string_view::npos && !IsStandardLimitType(type)) {
    errs.InvalidString(path, type, "must be a standard limit type or fully qualified");
  }
}

// The parsed quantities of one bound (max, min, ...) of an item, by resource name.
using Bound = std::map<std::string, Quantity>;

// Checks the names of one bound of `item` and returns its parseable quantities.
Bound ReadBound(const json::object& item, std::string_view field, std::string_view type,
                const std::string& item_path, FieldErrors& errs) {
  Bound bound;
  const json::object* map = FindObj(item, {field});
  if (!map) return bound;
  std::string path = Child(item_path, field);
  for (const auto& kv : *map) {
    std::string key_path = KeyOf(path, kv.key());
    if (type == "Pod" || type == "Container") {
      ValidateContainerResourceName(kv.key(), key_path, errs);
    } else {
      ValidateResourceName(kv.key(), key_path, errs);
    }
    if (const json::string* s = kv.value().if_string()) {
      if (auto q = Quantity::Parse(*s)) bound.emplace(std::string(kv.key()), *q);
    }
  }
  return bound;
}

std::optional<Quantity> Lookup(const Bound& bound, const std::string& key) {
  auto it = bound.find(key);
  return it == bound.end() ? std::nullopt : std::optional<Quantity>(it->second);
}

// Validates one item; `types` collects the types seen so far, which must not repeat.
void ValidateItem(const json::object& item, const std::string& path, std::set<std::string>& types,
                  FieldErrors& errs) {
  std::string_view type = FindStr(item, {"type"});
  std::string type_path = Child(path, "type");
  ValidateLimitType(type, type_path, errs);
  if (!types.emplace(type).second) errs.Duplicate(type_path, GoQuote(type));

  Bound max = ReadBound(item, "max", type, path, errs);
  Bound min = ReadBound(item, "min", type, path, errs);
  Bound defaults;
  Bound default_requests;
  if (type == "Pod") {
    if (CountAt(item, {"default"}) > 0) {
      errs.Forbidden(Child(path, "default"), "may not be specified when `type` is 'Pod'");
    }
    if (CountAt(item, {"defaultRequest"}) > 0) {
      errs.Forbidden(Child(path, "defaultRequest"), "may not be specified when `type` is 'Pod'");
    }
  } else {
    defaults = ReadBound(item, "default", type, path, errs);
    default_requests = ReadBound(item, "defaultRequest", type, path, errs);
  }
  if (type == "PersistentVolumeClaim" && !max.contains("storage") && !min.contains("storage")) {
    errs.Required(Child(path, "limits"),
                  "either minimum or maximum storage value is required, but neither was provided");
  }
  Bound ratios = ReadBound(item, "maxLimitRequestRatio", type, path, errs);

  std::set<std::string> keys;
  for (const Bound* b : {&max, &min, &defaults, &default_requests, &ratios}) {
    for (const auto& [k, q] : *b) keys.insert(k);
  }
  for (const std::string& k : keys) {
    auto lo = Lookup(min, k);
    auto hi = Lookup(max, k);
    auto def = Lookup(defaults, k);
    auto req = Lookup(default_requests, k);
    auto ratio = Lookup(ratios, k);
    auto invalid = [&](std::string_view field, const Quantity& shown, const std::string& detail) {
      errs.InvalidString(KeyOf(Child(path, field), k), shown.ToString(), detail);
    };
    if (lo && hi && *lo > *hi) {
      invalid("min", *lo,
              "min value " + lo->ToString() + " is greater than max value " + hi->ToString());
    }
    if (req && lo && *lo > *req) {
      invalid("defaultRequest", *req,
              "min value " + lo->ToString() + " is greater than default request value " +
                  req->ToString());
    }
    if (req && hi && *req > *hi) {
      invalid("defaultRequest", *req,
              "default request value " + req->ToString() + " is greater than max value " +
                  hi->ToString());
    }
    if (req && def && *req > *def) {
      invalid("defaultRequest", *req,
              "default request value " + req->ToString() + " is greater than default limit value " +
                  def->ToString());
    }
    if (def && lo && *lo > *def) {
      invalid("default", *lo,
              "min value " + lo->ToString() + " is greater than default value " + def->ToString());
    }
    if (def && hi && *def > *hi) {
      invalid("default", *hi,
              "default value " + def->ToString() + " is greater than max value " + hi->ToString());
    }
    if (ratio && *ratio < Quantity::FromInt(1)) {
      invalid("maxLimitRequestRatio", *ratio, "ratio " + ratio->ToString() + " is less than 1");
    }
    if (!IsOvercommitAllowedResource(k) && def && req && *def != *req) {
      invalid("defaultRequest", *req,
              "default value " + def->ToString() + " must equal to defaultRequest value " +
                  req->ToString() + " in " + k);
    }
  }
}

// Go's time.RFC3339 rendering of creationTimestamp in UTC, zero time when absent.
std::string CreatedAtCell(const json::object& obj) {
  auto t = ParseTimestamp(FindStr(obj, {"metadata", "creationTimestamp"}));
  if (!t) return "0001-01-01T00:00:00Z";
  return FormatRfc3339(*t);
}

class LimitRangeStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    const json::array* limits = FindArr(obj, {"spec", "limits"});
    if (!limits) return;
    std::set<std::string> types;
    for (size_t i = 0; i < limits->size(); ++i) {
      const json::object* item = (*limits)[i].if_object();
      if (!item) continue;
      ValidateItem(*item, Index("spec.limits", i), types, errs);
    }
  }

  std::vector<TableColumn> Columns() const override {
    TableColumn created = AgeColumn();
    created.name = "Created At";
    created.type = "date";
    return {NameColumn(), created};
  }

  void Row(const json::object& obj, const StrategyContext& /*ctx*/,
           json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(CreatedAtCell(obj));
  }
};

}  // namespace

const KindStrategy& LimitRangeStrategy() {
  static const LimitRangeStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
