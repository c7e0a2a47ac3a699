// FlowSchema and PriorityLevelConfiguration (flowcontrol.apiserver.k8s.io/v1): defaults
// Kubernetes applies to zero values, validation with its messages, the status subresource,
// generation tracking, and the `kubectl get` tables. Objects only: the server does not
// classify or queue requests by them yet.
#include <cmath>
#include <set>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr int64_t kMaxMatchingPrecedence = 10000;
constexpr double kMaxHashBits = 60;

// Kubernetes defaults these int32 fields when they are 0, not only when absent.
void DefaultZero(json::object& obj, std::string_view key, int64_t value) {
  const json::value* v = obj.if_contains(key);
  if (!v || v->is_null() || (v->is_int64() && v->get_int64() == 0)) obj[key] = value;
}

void ForbidMember(const json::object& subject, std::string_view member, std::string_view kind,
                  const std::string& path, FieldErrors& errs) {
  if (FindObj(subject, {member})) {
    errs.Forbidden(
        Child(path, member),
        std::string(member) + " is forbidden when subject kind is not '" + std::string(kind) + "'");
  }
}

void ValidateSubject(const json::object& subject, const std::string& path, FieldErrors& errs) {
  std::string_view kind = FindStr(subject, {"kind"});
  if (kind == "ServiceAccount") {
    const json::object* sa = FindObj(subject, {"serviceAccount"});
    std::string sp = Child(path, "serviceAccount");
    if (!sa) {
      errs.Required(sp, "serviceAccount is required when subject kind is 'ServiceAccount'");
    } else {
      std::string_view name = FindStr(*sa, {"name"});
      if (name.empty()) {
        errs.Required(Child(sp, "name"));
      } else if (name != "*") {
        errs.InvalidEach(Child(sp, "name"), name, Dns1123SubdomainErrors(name));
      }
      std::string_view ns = FindStr(*sa, {"namespace"});
      if (ns.empty()) {
        errs.Required(Child(sp, "namespace"), "must specify namespace for service account");
      } else {
        errs.InvalidEach(Child(sp, "namespace"), ns, Dns1123LabelErrors(ns));
      }
    }
    ForbidMember(subject, "user", "User", path, errs);
    ForbidMember(subject, "group", "Group", path, errs);
  } else if (kind == "User" || kind == "Group") {
    std::string member = kind == "User" ? "user" : "group";
    const json::object* named = FindObj(subject, {member});
    if (!named) {
      errs.Required(Child(path, member),
                    member + " is required when subject kind is '" + std::string(kind) + "'");
    } else if (FindStr(*named, {"name"}).empty()) {
      errs.Required(Child(Child(path, member), "name"));
    }
    ForbidMember(subject, "serviceAccount", "ServiceAccount", path, errs);
    if (kind == "User") {
      ForbidMember(subject, "group", "Group", path, errs);
    } else {
      ForbidMember(subject, "user", "User", path, errs);
    }
  } else {
    errs.NotSupported(Child(path, "kind"), kind, {"Group", "ServiceAccount", "User"});
  }
}

bool HasWildcard(const json::array* list) {
  if (!list) return false;
  for (const json::value& v : *list) {
    if (const json::string* s = v.if_string(); s && *s == "*") return true;
  }
  return false;
}

// A list that must not be empty, and holds '*' only alone.
void ValidateWildcardList(const json::object& rule, std::string_view key, const std::string& path,
                          std::string_view required, std::string_view what, FieldErrors& errs) {
  const json::array* list = FindArr(rule, {key});
  if (!list || list->empty()) {
    errs.Required(Child(path, key), required);
  } else if (list->size() > 1 && HasWildcard(list)) {
    errs.Invalid(Child(path, key), GoStringSlice(list),
                 "if '*' is present, must not specify other " + std::string(what));
  }
}

void ValidateNonResourceUrl(std::string_view url, const std::string& path, FieldErrors& errs) {
  if (url.empty()) {
    errs.InvalidString(path, url, "must not be empty");
  } else if (url == "/") {
    return;
  } else if (!url.starts_with('/')) {
    errs.InvalidString(path, url, "must start with slash");
  } else if (url.find(' ') != std::string_view::npos) {
    errs.InvalidString(path, url, "must not contain white-space");
  } else if (url.find("//") != std::string_view::npos) {
    errs.InvalidString(path, url, "must not contain double slash");
  } else {
    size_t stars = 0;
    for (char c : url) stars += c == '*';
    if (stars > 1 || (stars == 1 && !url.ends_with("/*"))) {
      errs.InvalidString(path, url, "wildcard can only do suffix matching");
    }
  }
}

void ValidateRule(const json::object& rule, const std::string& path, FieldErrors& errs) {
  const json::array* subjects = FindArr(rule, {"subjects"});
  if (!subjects || subjects->empty()) {
    errs.Required(Child(path, "subjects"), "subjects must contain at least one value");
  } else {
    for (size_t i = 0; i < subjects->size(); ++i) {
      if (const json::object* s = (*subjects)[i].if_object()) {
        ValidateSubject(*s, Index(Child(path, "subjects"), i), errs);
      }
    }
  }
  const json::array* resource_rules = FindArr(rule, {"resourceRules"});
  const json::array* non_resource_rules = FindArr(rule, {"nonResourceRules"});
  if ((!resource_rules || resource_rules->empty()) &&
      (!non_resource_rules || non_resource_rules->empty())) {
    errs.Required(path, "at least one of resourceRules and nonResourceRules has to be non-empty");
  }
  if (resource_rules) {
    for (size_t i = 0; i < resource_rules->size(); ++i) {
      const json::object* r = (*resource_rules)[i].if_object();
      if (!r) continue;
      std::string rp = Index(Child(path, "resourceRules"), i);
      ValidateWildcardList(*r, "verbs", rp, "verbs must contain at least one value", "verbs", errs);
      ValidateWildcardList(*r, "apiGroups", rp, "resource rules must supply at least one api group",
                           "api groups", errs);
      ValidateWildcardList(*r, "resources", rp, "resource rules must supply at least one resource",
                           "resources", errs);
      const json::array* namespaces = FindArr(*r, {"namespaces"});
      if ((!namespaces || namespaces->empty()) && !FindBool(*r, {"clusterScope"})) {
        errs.Required(Child(rp, "namespaces"),
                      "resource rules that are not cluster scoped must supply at least one "
                      "namespace");
      } else if (HasWildcard(namespaces)) {
        if (namespaces->size() > 1) {
          errs.Invalid(Child(rp, "namespaces"), GoStringSlice(namespaces),
                       "if '*' is present, must not specify other namespaces");
        }
      } else if (namespaces) {
        for (size_t k = 0; k < namespaces->size(); ++k) {
          const json::string* ns = (*namespaces)[k].if_string();
          std::string_view value = ns ? std::string_view(*ns) : std::string_view();
          for (const std::string& m : Dns1123LabelErrors(value)) {
            errs.InvalidString(Index(Child(rp, "namespaces"), k), value,
                               "each member of this list must be '*' or a DNS-1123 label; " + m);
          }
        }
      }
    }
  }
  if (non_resource_rules) {
    for (size_t i = 0; i < non_resource_rules->size(); ++i) {
      const json::object* r = (*non_resource_rules)[i].if_object();
      if (!r) continue;
      std::string rp = Index(Child(path, "nonResourceRules"), i);
      ValidateWildcardList(*r, "verbs", rp, "verbs must contain at least one value", "verbs", errs);
      ValidateWildcardList(*r, "nonResourceURLs", rp,
                           "nonResourceURLs must contain at least one value", "non-resource URLs",
                           errs);
      const json::array* urls = FindArr(*r, {"nonResourceURLs"});
      if (urls && !HasWildcard(urls)) {
        for (size_t k = 0; k < urls->size(); ++k) {
          const json::string* u = (*urls)[k].if_string();
          ValidateNonResourceUrl(u ? std::string_view(*u) : std::string_view(),
                                 Index(Child(rp, "nonResourceURLs"), k), errs);
        }
      }
    }
  }
}

// Conditions: each needs a type, and a type appears once.
void ValidateConditions(const json::object& obj, FieldErrors& errs) {
  const json::array* conditions = FindArr(obj, {"status", "conditions"});
  if (!conditions) return;
  std::set<std::string> seen;
  for (size_t i = 0; i < conditions->size(); ++i) {
    const json::object* c = (*conditions)[i].if_object();
    if (!c) continue;
    std::string cp = Index("status.conditions", i);
    std::string_view type = FindStr(*c, {"type"});
    if (!seen.emplace(type).second) errs.Duplicate(Child(cp, "type"), GoQuote(type));
    if (type.empty()) errs.Required(Child(cp, "type"), "must not be empty");
  }
}

std::string FlowSchemaDanglingStatus(const json::object& obj) {
  if (const json::array* conditions = FindArr(obj, {"status", "conditions"})) {
    for (const json::value& v : *conditions) {
      const json::object* c = v.if_object();
      if (c && FindStr(*c, {"type"}) == "Dangling") return std::string(FindStr(*c, {"status"}));
    }
  }
  return "?";
}

class FlowSchemaStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    DefaultZero(EnsureObj(obj, {"spec"}), "matchingPrecedence", 1000);
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    int64_t precedence = FindInt(spec, {"matchingPrecedence"}).value_or(0);
    if (precedence <= 0) {
      errs.InvalidInt("spec.matchingPrecedence", precedence, "must be a positive value");
    }
    if (precedence > kMaxMatchingPrecedence) {
      errs.InvalidInt("spec.matchingPrecedence", precedence, "must not be greater than 10000");
    }
    if (precedence == 1 && FindStr(obj, {"metadata", "name"}) != "exempt") {
      errs.InvalidInt("spec.matchingPrecedence", precedence,
                      "only the schema named 'exempt' may have matchingPrecedence 1");
    }
    if (const json::object* method = FindObj(spec, {"distinguisherMethod"})) {
      std::string_view type = FindStr(*method, {"type"});
      if (type != "ByUser" && type != "ByNamespace") {
        // Kubernetes reports the whole method struct as the unsupported value.
        errors.push_back({"FieldValueNotSupported",
                          "Unsupported value: flowcontrol.FlowDistinguisherMethod{Type:" +
                              GoQuote(type) + "}: supported values: \"ByNamespace\", \"ByUser\"",
                          "spec.distinguisherMethod.type"});
      }
    }
    if (FindStr(spec, {"priorityLevelConfiguration", "name"}).empty()) {
      errs.Required("spec.priorityLevelConfiguration.name", "must reference a priority level");
    }
    if (const json::array* rules = FindArr(spec, {"rules"})) {
      for (size_t i = 0; i < rules->size(); ++i) {
        if (const json::object* r = (*rules)[i].if_object()) {
          ValidateRule(*r, Index("spec.rules", i), errs);
        }
      }
    }
    ValidateConditions(obj, errs);
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"PriorityLevel", "string", "",
         "`name` is the name of the priority level configuration being referenced Required.", 0},
        {"MatchingPrecedence", "string", "",
         "`matchingPrecedence` is used to choose among the FlowSchemas that match a given "
         "request. The chosen FlowSchema is among those with the numerically lowest (which we "
         "take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value "
         "must be ranged in [1,10000]. Note that if the precedence is not specified, it will "
         "be set to 1000 as default.",
         0},
        {"DistinguisherMethod", "string", "",
         "`distinguisherMethod` defines how to compute the flow distinguisher for requests "
         "that match this schema. `nil` specifies that the distinguisher is disabled and thus "
         "will always be the empty string.",
         0},
        AgeColumn(),
        {"MissingPL", "string", "",
         "references a broken or non-existent PriorityLevelConfiguration", 0}};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::object* method = FindObj(obj, {"spec", "distinguisherMethod"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"spec", "priorityLevelConfiguration", "name"}));
    cells.emplace_back(FindInt(obj, {"spec", "matchingPrecedence"}).value_or(0));
    cells.emplace_back(method ? std::string(FindStr(*method, {"type"})) : std::string("<none>"));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(FlowSchemaDanglingStatus(obj));
  }
};

void ValidatePercent(const json::object& cfg, std::string_view key, const std::string& path,
                     FieldErrors& errs) {
  if (auto v = FindInt(cfg, {key}); v && (*v < 0 || *v > 100)) {
    errs.InvalidInt(Child(path, key), *v, "must be between 0 and 100, inclusive");
  }
}

void ValidateQueuing(const json::object& q, const std::string& path, FieldErrors& errs) {
  int64_t limit = FindInt(q, {"queueLengthLimit"}).value_or(0);
  if (limit <= 0) errs.InvalidInt(Child(path, "queueLengthLimit"), limit, "must be positive");
  int64_t queues = FindInt(q, {"queues"}).value_or(0);
  if (queues <= 0) errs.InvalidInt(Child(path, "queues"), queues, "must be positive");
  int64_t hand = FindInt(q, {"handSize"}).value_or(0);
  if (hand <= 0) {
    errs.InvalidInt(Child(path, "handSize"), hand, "must be positive");
  } else if (queues > 0) {
    if (hand > queues) {
      errs.InvalidInt(Child(path, "handSize"), hand,
                      "should not be greater than queues (" + std::to_string(queues) + ")");
    } else {
      // Shuffle sharding needs handSize * log2(queues) bits of a 64-bit hash at most 60.
      double bits = std::ceil(static_cast<double>(hand) * std::log2(static_cast<double>(queues)));
      if (bits > kMaxHashBits) {
        errs.InvalidInt(Child(path, "handSize"), hand,
                        "required entropy bits of deckSize " + std::to_string(queues) +
                            " and handSize " + std::to_string(hand) +
                            " should not be greater than 60");
      }
    }
  }
}

class PriorityLevelConfigurationStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* queuing = FindMutObj(obj, {"spec", "limited", "limitResponse", "queuing"});
    if (!queuing) return;
    DefaultZero(*queuing, "queues", 64);
    DefaultZero(*queuing, "handSize", 8);
    DefaultZero(*queuing, "queueLengthLimit", 50);
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    std::string_view type = FindStr(spec, {"type"});
    const json::object* limited = FindObj(spec, {"limited"});
    const json::object* exempt = FindObj(spec, {"exempt"});
    if ((FindStr(obj, {"metadata", "name"}) == "exempt") != (type == "Exempt")) {
      errs.InvalidString("spec.type", type,
                         "type must be 'Exempt' if and only if name is 'exempt'");
    }
    if (type == "Exempt") {
      if (limited) errs.Forbidden("spec.limited", "must be nil if the type is not Limited");
      if (exempt) {
        ValidateNonNegative(*exempt, "nominalConcurrencyShares", "spec.exempt", errs);
        ValidatePercent(*exempt, "lendablePercent", "spec.exempt", errs);
      }
    } else if (type == "Limited") {
      if (exempt) errs.Forbidden("spec.exempt", "must be nil if the type is Limited");
      if (!limited) {
        errs.Required("spec.limited", "must not be empty when type is Limited");
      } else {
        ValidateLimited(*limited, errs);
      }
    } else {
      errs.NotSupported("spec.type", type, {"Exempt", "Limited"});
    }
    ValidateConditions(obj, errs);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Type", "string", "",
             "`type` indicates whether this priority level is subject to limitation on request "
             "execution.  A value of `\"Exempt\"` means that requests of this priority level are "
             "not subject to a limit (and thus are never queued) and do not detract from the "
             "capacity made available to other priority levels.  A value of `\"Limited\"` means "
             "that (a) requests of this priority level _are_ subject to limits and (b) some of "
             "the server's limited capacity is made available exclusively to this priority "
             "level. Required.",
             0},
            {"NominalConcurrencyShares", "string", "",
             "`nominalConcurrencyShares` (NCS) contributes to the computation of the "
             "NominalConcurrencyLimit (NominalCL) of this level.",
             0},
            {"Queues", "string", "",
             "`queues` is the number of queues for this priority level. The queues exist "
             "independently at each apiserver. The value must be positive.  Setting it to 1 "
             "effectively precludes shufflesharding and thus makes the distinguisher method of "
             "associated flow schemas irrelevant.  This field has a default value of 64.",
             0},
            {"HandSize", "string", "",
             "`handSize` is a small positive number that configures the shuffle sharding of "
             "requests into queues.  When enqueuing a request at this priority level the "
             "request's flow identifier (a string pair) is hashed and the hash value is used to "
             "shuffle the list of queues and deal a hand of the size specified here.",
             0},
            {"QueueLengthLimit", "string", "",
             "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a "
             "given queue of this priority level at a time; excess requests are rejected.  This "
             "value must be positive.  If not specified, it will be defaulted to 50.",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    json::value ncs = "<none>", queues = "<none>", hand = "<none>", limit = "<none>";
    if (const json::object* limited = FindObj(obj, {"spec", "limited"})) {
      ncs = FindInt(*limited, {"nominalConcurrencyShares"}).value_or(0);
      if (const json::object* q = FindObj(*limited, {"limitResponse", "queuing"})) {
        queues = FindInt(*q, {"queues"}).value_or(0);
        hand = FindInt(*q, {"handSize"}).value_or(0);
        limit = FindInt(*q, {"queueLengthLimit"}).value_or(0);
      }
    }
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"spec", "type"}));
    cells.push_back(std::move(ncs));
    cells.push_back(std::move(queues));
    cells.push_back(std::move(hand));
    cells.push_back(std::move(limit));
    cells.emplace_back(AgeCell(obj, ctx));
  }

 private:
  static void ValidateNonNegative(const json::object& cfg, std::string_view key,
                                  const std::string& path, FieldErrors& errs) {
    if (auto v = FindInt(cfg, {key}); v && *v < 0) {
      errs.InvalidInt(Child(path, key), *v, "must be a non-negative integer");
    }
  }

  static void ValidateLimited(const json::object& limited, FieldErrors& errs) {
    const std::string path = "spec.limited";
    ValidateNonNegative(limited, "nominalConcurrencyShares", path, errs);
    ValidatePercent(limited, "lendablePercent", path, errs);
    if (auto v = FindInt(limited, {"borrowingLimitPercent"}); v && *v < 0) {
      errs.InvalidInt(Child(path, "borrowingLimitPercent"), *v,
                      "if specified, must be a non-negative integer");
    }
    static const json::object kEmpty;
    const json::object* response_ptr = FindObj(limited, {"limitResponse"});
    const json::object& response = response_ptr ? *response_ptr : kEmpty;
    std::string rp = Child(path, "limitResponse");
    std::string_view type = FindStr(response, {"type"});
    const json::object* queuing = FindObj(response, {"queuing"});
    if (type == "Queue") {
      if (!queuing) {
        errs.Required(Child(rp, "queuing"),
                      "must not be empty if limited.limitResponse.type is Limited");
      } else {
        ValidateQueuing(*queuing, Child(rp, "queuing"), errs);
      }
    } else if (type == "Reject") {
      if (queuing) {
        errs.Forbidden(Child(rp, "queuing"),
                       "must be nil if limited.limitResponse.type is not Limited");
      }
    } else {
      errs.NotSupported(Child(rp, "type"), type, {"Queue", "Reject"});
    }
  }
};

}  // namespace

const KindStrategy& FlowSchemaStrategy() {
  static const FlowSchemaStrategyImpl strategy;
  return strategy;
}

const KindStrategy& PriorityLevelConfigurationStrategy() {
  static const PriorityLevelConfigurationStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
