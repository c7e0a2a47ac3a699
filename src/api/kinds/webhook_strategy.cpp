// ValidatingWebhookConfiguration and MutatingWebhookConfiguration
// (admissionregistration.k8s.io/v1): webhook validation with Kubernetes' messages
// (fully qualified names, rules, client config, side effects, review versions),
// generation tracking, and the WEBHOOKS column. Objects only: the server does not call
// webhooks yet.
#include <set>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_names.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr size_t kMaxMatchConditions = 64;

bool Contains(const json::array& list, std::string_view item) {
  for (const json::value& v : list) {
    if (const json::string* s = v.if_string(); s && *s == item) return true;
  }
  return false;
}

// %#v of a []admissionregistration.OperationType.
std::string GoOperations(const json::array& ops) {
  std::string out = "[]admissionregistration.OperationType{";
  for (size_t i = 0; i < ops.size(); ++i) {
    const json::string* s = ops[i].if_string();
    out += (i ? ", " : "") + GoQuote(s ? std::string_view(*s) : std::string_view());
  }
  return out + "}";
}

void ValidateFullyQualifiedName(std::string_view name, const std::string& path, FieldErrors& errs) {
  if (name.empty()) {
    errs.Required(path);
    return;
  }
  std::vector<std::string> problems = Dns1123SubdomainErrors(name);
  if (!problems.empty()) {
    std::string joined;
    for (const std::string& p : problems) joined += (joined.empty() ? "" : ",") + p;
    errs.InvalidString(path, name, joined);
    return;
  }
  size_t dots = 0;
  for (char c : name) dots += c == '.';
  if (dots < 2) {
    errs.InvalidString(path, name,
                       "should be a domain with at least three segments separated by dots");
  }
}

void ValidateResources(const json::array* resources, const std::string& path, FieldErrors& errs) {
  if (!resources || resources->empty()) {
    errs.Required(path);
    return;
  }
  bool double_wildcard = false, single_wildcard = false, plain = false;
  std::set<std::string> wildcard_sub, wildcard_res;
  for (size_t i = 0; i < resources->size(); ++i) {
    const json::string* s = (*resources)[i].if_string();
    std::string_view r = s ? std::string_view(*s) : std::string_view();
    if (r.empty()) {
      errs.Required(Index(path, i));
      continue;
    }
    if (r == "*/*") double_wildcard = true;
    if (r == "*") single_wildcard = true;
    size_t slash = r.find('/');
    if (slash == std::string_view::npos) {
      plain = r != "*";
      continue;
    }
    std::string res(r.substr(0, slash)), sub(r.substr(slash + 1));
    if (wildcard_sub.contains(res)) {
      errs.InvalidString(Index(path, i), r,
                         "if '" + res + "/*' is present, must not specify " + std::string(r));
    }
    if (wildcard_res.contains(sub)) {
      errs.InvalidString(Index(path, i), r,
                         "if '*/" + sub + "' is present, must not specify " + std::string(r));
    }
    if (sub == "*") wildcard_sub.insert(res);
    if (res == "*") wildcard_res.insert(sub);
  }
  if (resources->size() > 1 && double_wildcard) {
    errs.Invalid(path, GoStringSlice(resources),
                 "if '*/*' is present, must not specify other resources");
  }
  if (single_wildcard && plain) {
    errs.Invalid(path, GoStringSlice(resources),
                 "if '*' is present, must not specify other resources without subresources");
  }
}

void ValidateRule(const json::object& rule, const std::string& path, FieldErrors& errs) {
  const json::array* ops = FindArr(rule, {"operations"});
  if (!ops || ops->empty()) errs.Required(Child(path, "operations"));
  if (ops && ops->size() > 1 && Contains(*ops, "*")) {
    errs.Invalid(Child(path, "operations"), GoOperations(*ops),
                 "if '*' is present, must not specify other operations");
  }
  if (ops) {
    for (size_t i = 0; i < ops->size(); ++i) {
      const json::string* s = (*ops)[i].if_string();
      std::string_view op = s ? std::string_view(*s) : std::string_view();
      if (op != "*" && op != "CONNECT" && op != "CREATE" && op != "DELETE" && op != "UPDATE") {
        errs.NotSupported(Index(Child(path, "operations"), i), op,
                          {"*", "CONNECT", "CREATE", "DELETE", "UPDATE"});
      }
    }
  }
  const json::array* groups = FindArr(rule, {"apiGroups"});
  if (!groups || groups->empty()) errs.Required(Child(path, "apiGroups"));
  if (groups && groups->size() > 1 && Contains(*groups, "*")) {
    errs.Invalid(Child(path, "apiGroups"), GoStringSlice(groups),
                 "if '*' is present, must not specify other API groups");
  }
  const json::array* versions = FindArr(rule, {"apiVersions"});
  if (!versions || versions->empty()) errs.Required(Child(path, "apiVersions"));
  if (versions && versions->size() > 1 && Contains(*versions, "*")) {
    errs.Invalid(Child(path, "apiVersions"), GoStringSlice(versions),
                 "if '*' is present, must not specify other API versions");
  }
  if (versions) {
    for (size_t i = 0; i < versions->size(); ++i) {
      const json::string* s = (*versions)[i].if_string();
      if (!s || s->empty()) errs.Required(Index(Child(path, "apiVersions"), i));
    }
  }
  ValidateResources(FindArr(rule, {"resources"}), Child(path, "resources"), errs);
  if (const json::value* scope = rule.if_contains("scope"); scope && scope->is_string()) {
    std::string_view s = scope->get_string();
    if (s != "*" && s != "Cluster" && s != "Namespaced") {
      errs.NotSupported(Child(path, "scope"), s, {"*", "Cluster", "Namespaced"});
    }
  }
}

void ValidateUrl(std::string_view url, const std::string& path, FieldErrors& errs) {
  static constexpr std::string_view kForm = "; desired format: https://host[/path]";
  std::string_view scheme, rest = url;
  if (size_t colon = url.find("://"); colon != std::string_view::npos) {
    scheme = url.substr(0, colon);
    rest = url.substr(colon + 3);
  } else {
    rest = {};
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string_view after = rest.substr(authority.size());
  if (scheme != "https") {
    errs.InvalidString(path, scheme, "'https' is the only allowed URL scheme" + std::string(kForm));
  }
  std::string_view user;
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    user = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  if (authority.empty())
    errs.InvalidString(path, authority, "host must be specified" + std::string(kForm));
  if (!user.empty()) errs.InvalidString(path, user, "user information is not permitted in the URL");
  std::string_view fragment;
  if (size_t hash = after.find('#'); hash != std::string_view::npos) {
    fragment = after.substr(hash + 1);
    after = after.substr(0, hash);
  }
  if (!fragment.empty())
    errs.InvalidString(path, fragment, "fragments are not permitted in the URL");
  if (size_t q = after.find('?'); q != std::string_view::npos && q + 1 < after.size()) {
    errs.InvalidString(path, after.substr(q + 1), "query parameters are not permitted in the URL");
  }
}

void ValidateService(const json::object& service, const std::string& path, FieldErrors& errs) {
  if (FindStr(service, {"name"}).empty())
    errs.Required(Child(path, "name"), "service name is required");
  if (FindStr(service, {"namespace"}).empty()) {
    errs.Required(Child(path, "namespace"), "service namespace is required");
  }
  int64_t port = FindInt(service, {"port"}).value_or(443);
  if (!PortNumErrors(port).empty()) {
    errs.InvalidInt(Child(path, "port"), port,
                    "port is not valid: must be between 1 and 65535, inclusive");
  }
  const json::value* p = service.if_contains("path");
  if (!p || !p->is_string()) return;
  std::string_view url_path = p->get_string();
  std::string pp = Child(path, "path");
  if (url_path == "/" || url_path.empty()) return;
  if (url_path == "//") {
    errs.InvalidString(pp, url_path, "segment[0] may not be empty");
    return;
  }
  if (!url_path.starts_with('/')) errs.InvalidString(pp, url_path, "must start with a '/'");
  std::string_view check = url_path.substr(1);
  if (check.ends_with('/')) check.remove_suffix(1);
  size_t index = 0;
  while (true) {
    size_t slash = check.find('/');
    std::string_view step = check.substr(0, slash);
    if (step.empty()) {
      errs.InvalidString(pp, url_path, "segment[" + std::to_string(index) + "] may not be empty");
    } else {
      for (const std::string& m : Dns1123SubdomainErrors(step)) {
        errs.InvalidString(pp, url_path, "segment[" + std::to_string(index) + "]: " + m);
      }
    }
    if (slash == std::string_view::npos) break;
    check = check.substr(slash + 1);
    ++index;
  }
}

void ValidateReviewVersions(const json::array* versions, const std::string& path,
                            FieldErrors& errs) {
  if (!versions || versions->empty()) {
    errs.Required(path, "must specify one of v1, v1beta1");
    return;
  }
  std::set<std::string> seen;
  bool accepted = false;
  for (size_t i = 0; i < versions->size(); ++i) {
    const json::string* s = (*versions)[i].if_string();
    std::string v(s ? std::string_view(*s) : std::string_view());
    if (!seen.insert(v).second) {
      errs.InvalidString(Index(path, i), v, "duplicate version");
      continue;
    }
    errs.InvalidEach(Index(path, i), v, IsDns1035Label(v));
    if (v == "v1" || v == "v1beta1") accepted = true;
  }
  if (!accepted)
    errs.Invalid(path, GoStringSlice(versions), "must include at least one of v1, v1beta1");
}

void ValidateMatchConditions(const json::array* conditions, const std::string& path,
                             FieldErrors& errs, std::vector<StatusCause>& errors) {
  if (!conditions) return;
  if (conditions->size() > kMaxMatchConditions) {
    errors.push_back(
        {"FieldValueTooMany",
         "Too many: " + std::to_string(conditions->size()) + ": must have at most 64 items", path});
  }
  std::set<std::string> names;
  for (size_t i = 0; i < conditions->size(); ++i) {
    const json::object* c = (*conditions)[i].if_object();
    if (!c) continue;
    std::string cp = Index(path, i);
    std::string_view name = FindStr(*c, {"name"});
    if (name.empty()) {
      errs.Required(Child(cp, "name"));
    } else {
      errs.InvalidEach(Child(cp, "name"), name, QualifiedNameErrors(name));
      if (!names.emplace(name).second) errs.Duplicate(Child(cp, "name"), GoQuote(name));
    }
    if (FindStr(*c, {"expression"}).empty()) errs.Required(Child(cp, "expression"));
  }
}

void ValidateWebhook(const json::object& hook, const std::string& path, bool mutating,
                     FieldErrors& errs, std::vector<StatusCause>& errors) {
  ValidateFullyQualifiedName(FindStr(hook, {"name"}), Child(path, "name"), errs);
  if (const json::array* rules = FindArr(hook, {"rules"})) {
    for (size_t i = 0; i < rules->size(); ++i) {
      if (const json::object* r = (*rules)[i].if_object()) {
        ValidateRule(*r, Index(Child(path, "rules"), i), errs);
      }
    }
  }
  if (const json::value* v = hook.if_contains("failurePolicy"); v && v->is_string()) {
    if (v->get_string() != "Fail" && v->get_string() != "Ignore") {
      errs.NotSupported(Child(path, "failurePolicy"), v->get_string(), {"Fail", "Ignore"});
    }
  }
  if (const json::value* v = hook.if_contains("matchPolicy"); v && v->is_string()) {
    if (v->get_string() != "Equivalent" && v->get_string() != "Exact") {
      errs.NotSupported(Child(path, "matchPolicy"), v->get_string(), {"Equivalent", "Exact"});
    }
  }
  const json::value* side = hook.if_contains("sideEffects");
  if (!side || !side->is_string()) {
    errs.Required(Child(path, "sideEffects"), "must specify one of None, NoneOnDryRun");
  } else if (side->get_string() != "None" && side->get_string() != "NoneOnDryRun") {
    errs.NotSupported(Child(path, "sideEffects"), side->get_string(), {"None", "NoneOnDryRun"});
  }
  if (auto t = FindInt(hook, {"timeoutSeconds"}); t && (*t > 30 || *t < 1)) {
    errs.InvalidInt(Child(path, "timeoutSeconds"), *t,
                    "the timeout value must be between 1 and 30 seconds");
  }
  if (const json::object* s = FindObj(hook, {"namespaceSelector"})) {
    ValidateLabelSelector(*s, Child(path, "namespaceSelector"), errs);
  }
  if (const json::object* s = FindObj(hook, {"objectSelector"})) {
    ValidateLabelSelector(*s, Child(path, "objectSelector"), errs);
  }
  if (mutating) {
    if (const json::value* v = hook.if_contains("reinvocationPolicy"); v && v->is_string()) {
      if (v->get_string() != "IfNeeded" && v->get_string() != "Never") {
        errs.NotSupported(Child(path, "reinvocationPolicy"), v->get_string(),
                          {"IfNeeded", "Never"});
      }
    }
  }
  static const json::object kEmpty;
  const json::object* cc_ptr = FindObj(hook, {"clientConfig"});
  const json::object& cc = cc_ptr ? *cc_ptr : kEmpty;
  const json::value* url = cc.if_contains("url");
  const json::object* service = FindObj(cc, {"service"});
  bool has_url = url && url->is_string();
  std::string cp = Child(path, "clientConfig");
  if (has_url == (service != nullptr)) {
    errs.Required(cp, "exactly one of url or service is required");
  } else if (has_url) {
    ValidateUrl(url->get_string(), Child(cp, "url"), errs);
  } else {
    ValidateService(*service, Child(cp, "service"), errs);
  }
  ValidateMatchConditions(FindArr(hook, {"matchConditions"}), Child(path, "matchConditions"), errs,
                          errors);
}

class WebhookConfigurationStrategyImpl final : public KindStrategy {
 public:
  explicit WebhookConfigurationStrategyImpl(bool mutating) : mutating_(mutating) {}

  // KindStrategy
  bool TracksGeneration() const override { return true; }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    const json::array* hooks = FindArr(obj, {"webhooks"});
    if (!hooks) return;
    std::set<std::string> names;
    for (size_t i = 0; i < hooks->size(); ++i) {
      const json::object* hook = (*hooks)[i].if_object();
      if (!hook) continue;
      std::string hp = Index("webhooks", i);
      ValidateWebhook(*hook, hp, mutating_, errs, errors);
      ValidateReviewVersions(FindArr(*hook, {"admissionReviewVersions"}),
                             Child(hp, "admissionReviewVersions"), errs);
      std::string_view name = FindStr(*hook, {"name"});
      if (!name.empty() && !names.emplace(name).second) {
        errs.Duplicate(Child(hp, "name"), GoQuote(name));
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Webhooks", "integer", "",
             "Webhooks indicates the number of webhooks registered in this configuration", 0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(static_cast<int64_t>(CountAt(obj, {"webhooks"})));
    cells.emplace_back(AgeCell(obj, ctx));
  }

 private:
  const bool mutating_;  // constant after construction
};

}  // namespace

const KindStrategy& ValidatingWebhookConfigurationStrategy() {
  static const WebhookConfigurationStrategyImpl strategy(/*mutating=*/false);
  return strategy;
}

const KindStrategy& MutatingWebhookConfigurationStrategy() {
  static const WebhookConfigurationStrategyImpl strategy(/*mutating=*/true);
  return strategy;
}

}  // namespace skiff::api::kinds
