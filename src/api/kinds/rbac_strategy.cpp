// Role, ClusterRole, RoleBinding and ClusterRoleBinding (rbac.authorization.k8s.io/v1):
// rule and subject validation with Kubernetes' messages, subject and roleRef defaults,
// an unchangeable roleRef, and the tables `kubectl get` prints (CREATED AT for roles;
// ROLE, and USERS/GROUPS/SERVICEACCOUNTS with -o wide, for bindings).
// These are objects only: nothing here authorizes requests.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_names.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";

void ValidatePolicyRules(const json::object& obj, bool namespaced, FieldErrors& errs) {
  const json::array* rules = FindArr(obj, {"rules"});
  if (!rules) return;
  for (size_t i = 0; i < rules->size(); ++i) {
    const json::object* rule = (*rules)[i].if_object();
    if (!rule) continue;
    std::string rp = Index("rules", i);
    if (CountAt(*rule, {"verbs"}) == 0) {
      errs.Required(Child(rp, "verbs"), "verbs must contain at least one value");
    }
    if (CountAt(*rule, {"nonResourceURLs"}) > 0) {
      std::string urls = GoStringSlice(FindArr(*rule, {"nonResourceURLs"}));
      if (namespaced) {
        errs.Invalid(Child(rp, "nonResourceURLs"), urls,
                     "namespaced rules cannot apply to non-resource URLs");
      }
      if (CountAt(*rule, {"apiGroups"}) > 0 || CountAt(*rule, {"resources"}) > 0 ||
          CountAt(*rule, {"resourceNames"}) > 0) {
        errs.Invalid(Child(rp, "nonResourceURLs"), urls,
                     "rules cannot apply to both regular resources and non-resource URLs");
      }
      continue;
    }
    if (CountAt(*rule, {"apiGroups"}) == 0) {
      errs.Required(Child(rp, "apiGroups"), "resource rules must supply at least one api group");
    }
    if (CountAt(*rule, {"resources"}) == 0) {
      errs.Required(Child(rp, "resources"), "resource rules must supply at least one resource");
    }
  }
}

// %#v of an rbac.RoleRef, as "cannot change roleRef" shows it.
std::string GoRoleRef(const json::object* ref) {
  static const json::object kEmpty;
  const json::object& r = ref ? *ref : kEmpty;
  return "rbac.RoleRef{APIGroup:" + GoQuote(FindStr(r, {"apiGroup"})) +
         ", Kind:" + GoQuote(FindStr(r, {"kind"})) + ", Name:" + GoQuote(FindStr(r, {"name"})) +
         "}";
}

void ApplyBindingDefaults(json::object& obj) {
  if (json::object* ref = FindMutObj(obj, {"roleRef"}); ref && IsUnsetString(*ref, "apiGroup")) {
    (*ref)["apiGroup"] = kRbacGroup;
  }
  json::array* subjects = FindMutArr(obj, {"subjects"});
  if (!subjects) return;
  for (json::value& v : *subjects) {
    json::object* subject = v.if_object();
    if (!subject || !IsUnsetString(*subject, "apiGroup")) continue;
    std::string_view kind = FindStr(*subject, {"kind"});
    if (kind == "ServiceAccount") {
      (*subject)["apiGroup"] = "";
    } else if (kind == "User" || kind == "Group") {
      (*subject)["apiGroup"] = kRbacGroup;
    }
  }
}

void ValidateBinding(const json::object& obj, const json::object* old, bool namespaced,
                     std::vector<StatusCause>& errors) {
  FieldErrors errs(errors);
  static const json::object kEmpty;
  const json::object* ref_ptr = FindObj(obj, {"roleRef"});
  const json::object& ref = ref_ptr ? *ref_ptr : kEmpty;
  std::string_view group = FindStr(ref, {"apiGroup"});
  if (group != kRbacGroup) errs.NotSupported("roleRef.apiGroup", group, {kRbacGroup});
  std::string_view kind = FindStr(ref, {"kind"});
  if (namespaced) {
    if (kind != "Role" && kind != "ClusterRole") {
      errs.NotSupported("roleRef.kind", kind, {"Role", "ClusterRole"});
    }
  } else if (kind != "ClusterRole") {
    errs.NotSupported("roleRef.kind", kind, {"ClusterRole"});
  }
  std::string_view name = FindStr(ref, {"name"});
  if (name.empty()) {
    errs.Required("roleRef.name");
  } else {
    errs.InvalidEach("roleRef.name", name, IsValidPathSegmentName(name));
  }
  if (const json::array* subjects = FindArr(obj, {"subjects"})) {
    for (size_t i = 0; i < subjects->size(); ++i) {
      const json::object* s = (*subjects)[i].if_object();
      if (!s) continue;
      std::string sp = Index("subjects", i);
      std::string_view sname = FindStr(*s, {"name"});
      std::string_view skind = FindStr(*s, {"kind"});
      std::string_view sgroup = FindStr(*s, {"apiGroup"});
      if (sname.empty()) errs.Required(Child(sp, "name"));
      if (skind == "ServiceAccount") {
        if (!sname.empty())
          errs.InvalidEach(Child(sp, "name"), sname, Dns1123SubdomainErrors(sname));
        if (!sgroup.empty()) errs.NotSupported(Child(sp, "apiGroup"), sgroup, {""});
        if (!namespaced && FindStr(*s, {"namespace"}).empty()) {
          errs.Required(Child(sp, "namespace"));
        }
      } else if (skind == "User" || skind == "Group") {
        if (sname.empty()) {
          errs.InvalidString(
              Child(sp, "name"), sname,
              skind == "User" ? "user name cannot be empty" : "group name cannot be empty");
        }
        if (sgroup != kRbacGroup) errs.NotSupported(Child(sp, "apiGroup"), sgroup, {kRbacGroup});
      } else {
        errs.NotSupported(Child(sp, "kind"), skind, {"ServiceAccount", "User", "Group"});
      }
    }
  }
  if (old) {
    const json::object* old_ref = FindObj(*old, {"roleRef"});
    static const json::object kNone;
    const json::object& before = old_ref ? *old_ref : kNone;
    bool same = FindStr(before, {"apiGroup"}) == group && FindStr(before, {"kind"}) == kind &&
                FindStr(before, {"name"}) == name;
    if (!same) errs.Invalid("roleRef", GoRoleRef(ref_ptr), "cannot change roleRef");
  }
}

std::vector<TableColumn> RoleColumns() {
  TableColumn created = AgeColumn();
  created.name = "Created At";
  created.type = "date";
  return {NameColumn(), created};
}

void RoleRow(const json::object& obj, json::array& cells) {
  cells.emplace_back(FindStr(obj, {"metadata", "name"}));
  cells.emplace_back(FindStr(obj, {"metadata", "creationTimestamp"}));
}

std::vector<TableColumn> BindingColumns(std::string_view kind) {
  std::string what(kind);
  return {NameColumn(),
          {"Role", "string", "",
           "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
           "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
           0},
          AgeColumn(),
          {"Users", "string", "", "Users in the " + what, 1},
          {"Groups", "string", "", "Groups in the " + what, 1},
          {"ServiceAccounts", "string", "", "ServiceAccounts in the " + what, 1}};
}

void BindingRow(const json::object& obj, const StrategyContext& ctx, json::array& cells) {
  std::string users, groups, accounts;
  auto append = [](std::string& list, std::string_view item) {
    if (!list.empty()) list += ", ";
    list += item;
  };
  if (const json::array* subjects = FindArr(obj, {"subjects"})) {
    for (const json::value& v : *subjects) {
      const json::object* s = v.if_object();
      if (!s) continue;
      std::string_view kind = FindStr(*s, {"kind"});
      std::string_view name = FindStr(*s, {"name"});
      if (kind == "ServiceAccount") {
        append(accounts, std::string(FindStr(*s, {"namespace"})) + "/" + std::string(name));
      } else if (kind == "User") {
        append(users, name);
      } else if (kind == "Group") {
        append(groups, name);
      }
    }
  }
  cells.emplace_back(FindStr(obj, {"metadata", "name"}));
  cells.emplace_back(std::string(FindStr(obj, {"roleRef", "kind"})) + "/" +
                     std::string(FindStr(obj, {"roleRef", "name"})));
  cells.emplace_back(AgeCell(obj, ctx));
  cells.emplace_back(users);
  cells.emplace_back(groups);
  cells.emplace_back(accounts);
}

class RoleStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    ValidatePolicyRules(obj, /*namespaced=*/true, errs);
  }
  std::vector<TableColumn> Columns() const override { return RoleColumns(); }
  void Row(const json::object& obj, const StrategyContext& /*ctx*/,
           json::array& cells) const override {
    RoleRow(obj, cells);
  }
};

class ClusterRoleStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    ValidatePolicyRules(obj, /*namespaced=*/false, errs);
    const json::object* aggregation = FindObj(obj, {"aggregationRule"});
    if (!aggregation) return;
    const json::array* selectors = FindArr(*aggregation, {"clusterRoleSelectors"});
    if (!selectors || selectors->empty()) {
      errs.Required("aggregationRule.clusterRoleSelectors",
                    "at least one clusterRoleSelector required if aggregationRule is non-nil");
      return;
    }
    for (size_t i = 0; i < selectors->size(); ++i) {
      if (const json::object* selector = (*selectors)[i].if_object()) {
        ValidateLabelSelector(*selector, Index("aggregationRule.clusterRoleSelectors", i), errs);
      }
    }
  }
  std::vector<TableColumn> Columns() const override { return RoleColumns(); }
  void Row(const json::object& obj, const StrategyContext& /*ctx*/,
           json::array& cells) const override {
    RoleRow(obj, cells);
  }
};

class RoleBindingStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void ApplyDefaults(json::object& obj) const override { ApplyBindingDefaults(obj); }
  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    ValidateBinding(obj, old, /*namespaced=*/true, errors);
  }
  std::vector<TableColumn> Columns() const override { return BindingColumns("roleBinding"); }
  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    BindingRow(obj, ctx, cells);
  }
};

class ClusterRoleBindingStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void ApplyDefaults(json::object& obj) const override { ApplyBindingDefaults(obj); }
  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    ValidateBinding(obj, old, /*namespaced=*/false, errors);
  }
  std::vector<TableColumn> Columns() const override { return BindingColumns("clusterRoleBinding"); }
  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    BindingRow(obj, ctx, cells);
  }
};

}  // namespace

const KindStrategy& RoleStrategy() {
  static const RoleStrategyImpl strategy;
  return strategy;
}

const KindStrategy& ClusterRoleStrategy() {
  static const ClusterRoleStrategyImpl strategy;
  return strategy;
}

const KindStrategy& RoleBindingStrategy() {
  static const RoleBindingStrategyImpl strategy;
  return strategy;
}

const KindStrategy& ClusterRoleBindingStrategy() {
  static const ClusterRoleBindingStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
