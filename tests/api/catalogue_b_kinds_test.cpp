// The networking, discovery, RBAC, storage, flowcontrol and admissionregistration kinds
// and TokenReview: their schemas, resources, defaults, validation and table rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "api/kind_strategy.h"
#include "api/schema.h"

namespace skiff::api {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// 2024-05-01T12:00:00Z
const StrategyContext kCtx{std::chrono::system_clock::time_point(std::chrono::seconds(1714564800))};

const SchemaRegistry& Builtin() {
  static const auto* registry = [] {
    auto loaded = SchemaRegistry::LoadBuiltin();
    EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : loaded.error().message());
    return loaded ? loaded->release() : new SchemaRegistry();
  }();
  return *registry;
}

const ResourceDecl* Resource(std::string_view group, std::string_view plural) {
  for (const ResourceDecl& r : Builtin().resources()) {
    if (r.group == group && r.plural == plural) return &r;
  }
  return nullptr;
}

const Property* Prop(std::string_view type, std::string_view name) {
  const Schema* s = Builtin().Find(type);
  return s ? s->FindProperty(name) : nullptr;
}

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

std::vector<std::string> RowStrings(const KindStrategy& s, const json::object& obj) {
  json::array cells;
  s.Row(obj, kCtx, cells);
  std::vector<std::string> out;
  for (const json::value& c : cells) {
    out.push_back(c.is_string() ? std::string(c.as_string()) : json::serialize(c));
  }
  return out;
}

std::vector<std::string> ColumnNames(const KindStrategy& s) {
  std::vector<std::string> out;
  for (const TableColumn& c : s.Columns()) out.push_back(c.name + (c.priority ? "*" : ""));
  return out;
}

// "field: message" of each validation failure (an update when `old` is given).
std::vector<std::string> Causes(const KindStrategy& s, const json::object& obj,
                                const json::object* old = nullptr) {
  std::vector<StatusCause> errors;
  s.Validate(obj, old, errors);
  std::vector<std::string> out;
  for (const StatusCause& c : errors) out.push_back(c.field + ": " + c.message);
  return out;
}

json::object Defaulted(const KindStrategy& s, std::string_view text) {
  json::object obj = Obj(text);
  s.ApplyDefaults(obj);
  return obj;
}

const KindStrategy& Strategy(std::string_view group, std::string_view kind) {
  return *StrategyFor(group, kind);
}

constexpr std::string_view kNet = "networking.k8s.io";
constexpr std::string_view kRbac = "rbac.authorization.k8s.io";
constexpr std::string_view kFlow = "flowcontrol.apiserver.k8s.io";
constexpr std::string_view kAdmission = "admissionregistration.k8s.io";

// ---------------------------------------------------------------------------
// Schemas and resources

TEST(CatalogueBSchemas, ResourcesAsKubernetesServesThem) {
  struct Want {
    std::string_view group, plural, kind;
    bool namespaced;
    std::vector<std::string> short_names, subresources;
  };
  const Want wants[] = {
      {kNet, "ingresses", "Ingress", true, {"ing"}, {"status"}},
      {kNet, "ingressclasses", "IngressClass", false, {}, {}},
      {kNet, "networkpolicies", "NetworkPolicy", true, {"netpol"}, {}},
      {"discovery.k8s.io", "endpointslices", "EndpointSlice", true, {}, {}},
      {kRbac, "roles", "Role", true, {}, {}},
      {kRbac, "clusterroles", "ClusterRole", false, {}, {}},
      {kRbac, "rolebindings", "RoleBinding", true, {}, {}},
      {kRbac, "clusterrolebindings", "ClusterRoleBinding", false, {}, {}},
      {"storage.k8s.io", "storageclasses", "StorageClass", false, {"sc"}, {}},
      {kFlow, "flowschemas", "FlowSchema", false, {}, {"status"}},
      {kFlow, "prioritylevelconfigurations", "PriorityLevelConfiguration", false, {}, {"status"}},
      {kAdmission,
       "validatingwebhookconfigurations",
       "ValidatingWebhookConfiguration",
       false,
       {},
       {}},
      {kAdmission, "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, {}, {}},
  };
  for (const Want& w : wants) {
    const ResourceDecl* r = Resource(w.group, w.plural);
    ASSERT_NE(r, nullptr) << w.plural;
    EXPECT_EQ(r->kind, w.kind);
    EXPECT_EQ(r->version, "v1");
    EXPECT_EQ(r->namespaced, w.namespaced) << w.plural;
    EXPECT_EQ(r->short_names, w.short_names) << w.plural;
    EXPECT_EQ(r->subresources, w.subresources) << w.plural;
    EXPECT_THAT(r->categories, IsEmpty()) << w.plural;
    EXPECT_EQ(r->verbs.size(), 8u) << w.plural;
  }
  const ResourceDecl* reviews = Resource("authentication.k8s.io", "tokenreviews");
  ASSERT_NE(reviews, nullptr);
  EXPECT_FALSE(reviews->namespaced);
  EXPECT_EQ(reviews->verbs, std::vector<std::string>{"create"});
}

TEST(CatalogueBSchemas, ProtobufNumbersPointersAndEmbeddedMessages) {
  const Property* class_name = Prop("io.k8s.api.networking.v1.IngressSpec", "ingressClassName");
  ASSERT_NE(class_name, nullptr);
  EXPECT_EQ(class_name->proto_number, 4);
  EXPECT_TRUE(class_name->pointer);
  const Property* object_selector =
      Prop("io.k8s.api.admissionregistration.v1.MutatingWebhook", "objectSelector");
  ASSERT_NE(object_selector, nullptr);
  EXPECT_EQ(object_selector->proto_number, 11);
  const Property* v_object_selector =
      Prop("io.k8s.api.admissionregistration.v1.ValidatingWebhook", "objectSelector");
  ASSERT_NE(v_object_selector, nullptr);
  EXPECT_EQ(v_object_selector->proto_number, 10);
  const Property* urls = Prop("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule", "nonResourceURLs");
  ASSERT_NE(urls, nullptr);
  EXPECT_EQ(urls->proto_number, 6);
  const Property* address_type = Prop("io.k8s.api.discovery.v1.EndpointSlice", "addressType");
  ASSERT_NE(address_type, nullptr);
  EXPECT_EQ(address_type->proto_number, 4);
  EXPECT_TRUE(address_type->keep_zero);
  const Property* role_ref = Prop("io.k8s.api.rbac.v1.RoleRef", "apiGroup");
  ASSERT_NE(role_ref, nullptr);
  EXPECT_TRUE(role_ref->keep_zero);
  EXPECT_NE(Builtin().Find("io.k8s.api.core.v1.TopologySelectorTerm"), nullptr);
  EXPECT_NE(Builtin().Find("io.k8s.api.authentication.v1.TokenReview"), nullptr);
}

// ---------------------------------------------------------------------------
// networking.k8s.io

TEST(IngressStrategy, ValidatesRulesPathsAndBackends) {
  const KindStrategy& s = Strategy(kNet, "Ingress");
  EXPECT_TRUE(s.HasStatusSubresource());
  EXPECT_TRUE(s.TracksGeneration());
  EXPECT_THAT(Causes(s, Obj(R"({"spec":{}})")),
              ElementsAre("spec: Invalid value: []networking.IngressRule(nil): either "
                          "`defaultBackend` or `rules` must be specified"));
  EXPECT_THAT(
      Causes(s, Obj(R"({"spec":{"rules":[{"host":"*.Example.com","http":{"paths":[
        {"path":"a","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}},
        {"path":"/x","backend":{}},
        {"path":"/y/..","pathType":"Exact","backend":{"service":{"name":"Web","port":{}}}}]}}]}})")),
      ElementsAre(
          "spec.rules[0].host: Invalid value: \"*.Example.com\": a wildcard DNS-1123 subdomain "
          "must start with '*.', followed by a valid DNS subdomain, which must consist of lower "
          "case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. "
          "'*.example.com', regex used for validation is "
          "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
          "spec.rules[0].http.paths[0].path: Invalid value: \"a\": must be an absolute path",
          "spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified",
          "spec.rules[0].http.paths[2].path: Invalid value: \"/y/..\": cannot end with '/..'",
          "spec.rules[0].http.paths[2].backend.service.name: Invalid value: \"Web\": a DNS-1035 "
          "label must consist of lower case alphanumeric characters or '-', start with an "
          "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
          "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
          "spec.rules[0].http.paths[2].backend: Required value: port name or number is required"));
  EXPECT_THAT(Causes(s, Obj(R"({"spec":{"defaultBackend":{"resource":{"kind":"Bucket","name":"b"},
                                "service":{"name":"web","port":{"number":80}}}}})")),
              ElementsAre("spec.defaultBackend: Invalid value: \"\": cannot set both resource and "
                          "service backends"));
}

TEST(IngressStrategy, ClassAnnotationMustMatchOnCreate) {
  const KindStrategy& s = Strategy(kNet, "Ingress");
  json::object ing = Obj(R"({"metadata":{"annotations":{"kubernetes.io/ingress.class":"a"}},
    "spec":{"ingressClassName":"b","defaultBackend":{"service":{"name":"web","port":{"name":"http"}}}}})");
  EXPECT_THAT(Causes(s, ing),
              ElementsAre("annotations.kubernetes.io/ingress.class: Invalid value: \"a\": must "
                          "match `ingressClassName` when both are specified"));
  EXPECT_THAT(Causes(s, ing, &ing), IsEmpty());
}

TEST(IngressStrategy, Row) {
  const KindStrategy& s = Strategy(kNet, "Ingress");
  EXPECT_THAT(ColumnNames(s), ElementsAre("Name", "Class", "Hosts", "Address", "Ports", "Age"));
  json::object ing = Obj(R"({"metadata":{"name":"web","creationTimestamp":"2024-05-01T11:59:00Z"},
    "spec":{"tls":[{"hosts":["a.example.com"]}],"rules":[{"host":"a.example.com"},{"host":"b.example.com"},
      {"host":"c.example.com"},{"host":"d.example.com"},{}]},
    "status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.2"},{"hostname":"lb.example.com"},{"ip":"10.0.0.1"}]}}})");
  EXPECT_THAT(RowStrings(s, ing),
              ElementsAre("web", "<none>", "a.example.com,b.example.com,c.example.com + 2 more...",
                          "10.0.0.1,10.0.0.2,lb.example.com", "80, 443", "60s"));
  EXPECT_THAT(
      RowStrings(s, Obj(R"({"metadata":{"name":"x"},"spec":{"ingressClassName":"nginx"}})")),
      ElementsAre("x", "nginx", "*", "", "80", "<unknown>"));
}

TEST(IngressClassStrategy, DefaultsScopeAndValidatesParameters) {
  const KindStrategy& s = Strategy(kNet, "IngressClass");
  json::object cls = Defaulted(s, R"({"spec":{"controller":"example.com/lb",
    "parameters":{"apiGroup":"k8s.example.com","kind":"Params","name":"p"}}})");
  EXPECT_EQ(json::serialize(cls.at("spec").at("parameters").at("scope")), "\"Cluster\"");
  EXPECT_THAT(Causes(s, cls), IsEmpty());
  EXPECT_THAT(RowStrings(s, cls),
              ElementsAre("", "example.com/lb", "Params.k8s.example.com/p", "<unknown>"));
  EXPECT_THAT(
      Causes(s, Obj(R"({"spec":{"controller":"lb","parameters":{"kind":"a/b","scope":"Zone"}}})")),
      ElementsAre("spec.controller: Invalid value: \"lb\": must be a domain-prefixed path (such as "
                  "\"acme.io/foo\")",
                  "spec.parameters.kind: Invalid value: \"a/b\": may not contain '/'",
                  "spec.parameters.name: Required value",
                  "spec.parameters.scope: Unsupported value: \"Zone\": supported values: "
                  "\"Cluster\", \"Namespace\""));
  json::object changed = cls;
  changed["spec"].as_object()["controller"] = "example.com/other";
  EXPECT_THAT(Causes(s, changed, &cls),
              ElementsAre("spec.controller: Invalid value: \"example.com/other\": field is "
                          "immutable"));
}

TEST(NetworkPolicyStrategy, DefaultsPolicyTypes) {
  const KindStrategy& s = Strategy(kNet, "NetworkPolicy");
  EXPECT_EQ(
      json::serialize(Defaulted(s, R"({"spec":{"podSelector":{}}})").at("spec").at("policyTypes")),
      R"(["Ingress"])");
  EXPECT_EQ(
      json::serialize(Defaulted(s, R"({"spec":{"egress":[{}]}})").at("spec").at("policyTypes")),
      R"(["Ingress","Egress"])");
  EXPECT_EQ(
      json::serialize(
          Defaulted(s, R"({"spec":{"policyTypes":["Egress"]}})").at("spec").at("policyTypes")),
      R"(["Egress"])");
}

TEST(NetworkPolicyStrategy, ValidatesPortsPeersAndCidrs) {
  const KindStrategy& s = Strategy(kNet, "NetworkPolicy");
  EXPECT_THAT(
      Causes(s, Obj(R"({"spec":{"podSelector":{},"ingress":[{"ports":[
          {"protocol":"ICMP","port":"http","endPort":90},{"port":0},{"endPort":5}],
        "from":[{},{"ipBlock":{"cidr":"10.0.0.0/33"}},{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16","192.168.0.0/24"]}}]}],
        "policyTypes":["Ingress","Egress","Both"]}})")),
      ElementsAre("spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported "
                  "values: \"TCP\", \"UDP\", \"SCTP\"",
                  "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when "
                  "`port` is non-numeric",
                  "spec.ingress[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, "
                  "inclusive",
                  "spec.ingress[0].ports[2].endPort: Invalid value: 5: may not be specified when "
                  "`port` is not specified",
                  "spec.ingress[0].from[0]: Required value: must specify a peer",
                  "spec.ingress[0].from[1].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a "
                  "valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                  "spec.ingress[0].from[2].ipBlock.except[1]: Invalid value: \"192.168.0.0/24\": "
                  "must be a strict subset of `cidr`",
                  "spec.policyTypes: Invalid value: []networking.PolicyType{\"Ingress\", "
                  "\"Egress\", \"Both\"}: may not specify more than two policyTypes"));
  json::object np =
      Obj(R"({"metadata":{"name":"db"},"spec":{"podSelector":{"matchLabels":{"role":"db"}}}})");
  EXPECT_THAT(RowStrings(s, np), ElementsAre("db", "role=db", "<unknown>"));
  EXPECT_THAT(RowStrings(s, Obj(R"({"metadata":{"name":"all"},"spec":{"podSelector":{}}})")),
              ElementsAre("all", "<none>", "<unknown>"));
}

// ---------------------------------------------------------------------------
// discovery.k8s.io

TEST(EndpointSliceStrategy, ValidatesAddressesPortsAndImmutableType) {
  const KindStrategy& s = Strategy("discovery.k8s.io", "EndpointSlice");
  json::object slice = Obj(R"({"addressType":"IPv4","endpoints":[
      {"addresses":["10.0.0.1","fd00::1","127.0.0.1","nope"]},{"addresses":[]}],
    "ports":[{"name":"http","protocol":"TCP","port":80},{"name":"http","protocol":"ICMP"}]})");
  EXPECT_THAT(Causes(s, slice),
              ElementsAre("endpoints[0].addresses[1]: Invalid value: \"fd00::1\": must be a valid "
                          "IPv4 address",
                          "endpoints[0].addresses[2]: Invalid value: \"127.0.0.1\": may not be in "
                          "the loopback range (127.0.0.0/8, ::1/128)",
                          "endpoints[0].addresses[3]: Invalid value: \"nope\": must be a valid "
                          "IPv4 address",
                          "endpoints[1].addresses: Required value: must contain at least 1 address",
                          "ports[1].name: Duplicate value: \"http\"",
                          "ports[1].protocol: Unsupported value: \"ICMP\": supported values: "
                          "\"SCTP\", \"TCP\", \"UDP\""));
  json::object v4 = Obj(R"({"addressType":"IPv4","endpoints":[]})");
  json::object v6 = Obj(R"({"addressType":"IPv6","endpoints":[]})");
  EXPECT_THAT(Causes(s, v6, &v4),
              ElementsAre("addressType: Invalid value: \"IPv6\": field is immutable"));
  EXPECT_THAT(Causes(s, Obj(R"({"addressType":"FQDN","endpoints":[{"addresses":["localhost"]}]})")),
              ElementsAre("endpoints[0].addresses[0]: Invalid value: \"localhost\": should be a "
                          "domain with at least two segments separated by dots"));
}

TEST(EndpointSliceStrategy, Row) {
  const KindStrategy& s = Strategy("discovery.k8s.io", "EndpointSlice");
  EXPECT_THAT(ColumnNames(s), ElementsAre("Name", "AddressType", "Ports", "Endpoints", "Age"));
  EXPECT_THAT(RowStrings(s, Obj(R"({"metadata":{"name":"s"},"addressType":"IPv4",
      "ports":[{"port":80},{"name":"dns"},{},{"port":9}],
      "endpoints":[{"addresses":["10.0.0.1","10.0.0.2"]},{"addresses":["10.0.0.3","10.0.0.4"]}]})")),
              ElementsAre("s", "IPv4", "80,dns,* + 1 more...",
                          "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "<unknown>"));
  EXPECT_THAT(RowStrings(s, Obj(R"({"metadata":{"name":"e"},"addressType":"IPv6"})")),
              ElementsAre("e", "IPv6", "<unset>", "<unset>", "<unknown>"));
}

// ---------------------------------------------------------------------------
// rbac.authorization.k8s.io

TEST(RbacStrategies, RolesValidateRules) {
  EXPECT_THAT(Causes(Strategy(kRbac, "Role"), Obj(R"({"rules":[{"verbs":[],"resources":["pods"]},
                                      {"verbs":["get"],"nonResourceURLs":["/healthz"]}]})")),
              ElementsAre("rules[0].verbs: Required value: verbs must contain at least one value",
                          "rules[0].apiGroups: Required value: resource rules must supply at least "
                          "one api group",
                          "rules[1].nonResourceURLs: Invalid value: []string{\"/healthz\"}: "
                          "namespaced rules cannot apply to non-resource URLs"));
  const KindStrategy& cluster_role = Strategy(kRbac, "ClusterRole");
  EXPECT_THAT(
      Causes(cluster_role, Obj(R"({"rules":[{"verbs":["get"],"nonResourceURLs":["/metrics"]}]})")),
      IsEmpty());
  EXPECT_THAT(Causes(cluster_role, Obj(R"({"aggregationRule":{}})")),
              ElementsAre("aggregationRule.clusterRoleSelectors: Required value: at least one "
                          "clusterRoleSelector required if aggregationRule is non-nil"));
  EXPECT_THAT(ColumnNames(cluster_role), ElementsAre("Name", "Created At"));
  EXPECT_THAT(
      RowStrings(cluster_role,
                 Obj(R"({"metadata":{"name":"view","creationTimestamp":"2024-05-01T10:00:00Z"}})")),
      ElementsAre("view", "2024-05-01T10:00:00Z"));
}

TEST(RbacStrategies, BindingsDefaultValidateAndKeepTheirRoleRef) {
  const KindStrategy& s = Strategy(kRbac, "RoleBinding");
  json::object binding = Defaulted(s, R"({"metadata":{"name":"b"},
    "roleRef":{"kind":"Role","name":"reader"},
    "subjects":[{"kind":"User","name":"jane"},{"kind":"Group","name":"devs"},
                {"kind":"ServiceAccount","name":"default","namespace":"ns"}]})");
  EXPECT_EQ(json::serialize(binding.at("roleRef")),
            R"({"kind":"Role","name":"reader","apiGroup":"rbac.authorization.k8s.io"})");
  EXPECT_EQ(json::serialize(binding.at("subjects").at(2).at("apiGroup")), "\"\"");
  EXPECT_EQ(json::serialize(binding.at("subjects").at(1).at("apiGroup")),
            "\"rbac.authorization.k8s.io\"");
  EXPECT_THAT(Causes(s, binding), IsEmpty());
  EXPECT_THAT(ColumnNames(s),
              ElementsAre("Name", "Role", "Age", "Users*", "Groups*", "ServiceAccounts*"));
  EXPECT_THAT(RowStrings(s, binding),
              ElementsAre("b", "Role/reader", "<unknown>", "jane", "devs", "ns/default"));
  json::object changed = binding;
  changed["roleRef"].as_object()["kind"] = "ClusterRole";
  EXPECT_THAT(
      Causes(s, changed, &binding),
      ElementsAre("roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
                  "Kind:\"ClusterRole\", Name:\"reader\"}: cannot change roleRef"));
  EXPECT_THAT(
      Causes(Strategy(kRbac, "ClusterRoleBinding"),
             Obj(R"({"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":""},
                             "subjects":[{"kind":"ServiceAccount","name":"sa","apiGroup":"x"},
                                         {"kind":"Bot","name":"r2"},{"kind":"User"}]})")),
      ElementsAre("roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                  "roleRef.name: Required value",
                  "subjects[0].apiGroup: Unsupported value: \"x\": supported values: \"\"",
                  "subjects[0].namespace: Required value",
                  "subjects[1].kind: Unsupported value: \"Bot\": supported values: "
                  "\"ServiceAccount\", \"User\", \"Group\"",
                  "subjects[2].name: Required value",
                  "subjects[2].name: Invalid value: \"\": user name cannot be empty",
                  "subjects[2].apiGroup: Unsupported value: \"\": supported values: "
                  "\"rbac.authorization.k8s.io\""));
}

// ---------------------------------------------------------------------------
// storage.k8s.io

TEST(StorageClassStrategy, ValidatesAndKeepsImmutableFields) {
  const KindStrategy& s = Strategy("storage.k8s.io", "StorageClass");
  json::object sc = Obj(
      R"({"metadata":{"name":"fast","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
    "provisioner":"example.com/csi","parameters":{"type":"ssd"},"reclaimPolicy":"Delete",
    "volumeBindingMode":"Immediate"})");
  EXPECT_THAT(Causes(s, sc), IsEmpty());
  EXPECT_THAT(RowStrings(s, sc), ElementsAre("fast (default)", "example.com/csi", "Delete",
                                             "Immediate", "false", "<unknown>"));
  json::object changed = sc;
  changed["parameters"] = Obj(R"({"type":"hdd"})");
  changed["provisioner"] = "example.com/other";
  changed["reclaimPolicy"] = "Retain";
  changed["volumeBindingMode"] = "WaitForFirstConsumer";
  EXPECT_THAT(Causes(s, changed, &sc),
              ElementsAre("parameters: Forbidden: updates to parameters are forbidden.",
                          "provisioner: Forbidden: updates to provisioner are forbidden.",
                          "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
                          "volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is "
                          "immutable"));
  EXPECT_THAT(Causes(s, Obj(R"({"reclaimPolicy":"Recycle","volumeBindingMode":"Soon"})")),
              ElementsAre("provisioner: Required value",
                          "reclaimPolicy: Unsupported value: \"Recycle\": supported values: "
                          "\"Delete\", \"Retain\"",
                          "volumeBindingMode: Unsupported value: \"Soon\": supported values: "
                          "\"Immediate\", \"WaitForFirstConsumer\""));
}

// ---------------------------------------------------------------------------
// flowcontrol.apiserver.k8s.io

TEST(FlowcontrolStrategies, FlowSchemaDefaultsValidatesAndPrints) {
  const KindStrategy& s = Strategy(kFlow, "FlowSchema");
  EXPECT_TRUE(s.HasStatusSubresource());
  json::object fs = Defaulted(s, R"({"metadata":{"name":"fs"},"spec":{"matchingPrecedence":0,
    "priorityLevelConfiguration":{"name":"global-default"}}})");
  EXPECT_EQ(json::serialize(fs.at("spec").at("matchingPrecedence")), "1000");
  EXPECT_THAT(Causes(s, fs), IsEmpty());
  EXPECT_THAT(RowStrings(s, fs),
              ElementsAre("fs", "global-default", "1000", "<none>", "<unknown>", "?"));
  EXPECT_THAT(
      Causes(s, Obj(R"({"spec":{"matchingPrecedence":10001,"priorityLevelConfiguration":{},
        "rules":[{"subjects":[{"kind":"User","group":{"name":"g"}}],"resourceRules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}]}})")),
      ElementsAre(
          "spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000",
          "spec.priorityLevelConfiguration.name: Required value: must reference a priority level",
          "spec.rules[0].subjects[0].user: Required value: user is required when subject "
          "kind is 'User'",
          "spec.rules[0].subjects[0].group: Forbidden: group is forbidden when subject kind "
          "is not 'Group'",
          "spec.rules[0].resourceRules[0].namespaces: Required value: resource rules that "
          "are not cluster scoped must supply at least one namespace"));
}

TEST(FlowcontrolStrategies, PriorityLevelDefaultsValidatesAndPrints) {
  const KindStrategy& s = Strategy(kFlow, "PriorityLevelConfiguration");
  json::object pl = Defaulted(s, R"({"metadata":{"name":"pl"},"spec":{"type":"Limited",
    "limited":{"nominalConcurrencyShares":10,"limitResponse":{"type":"Queue","queuing":{"queues":0}}}}})");
  EXPECT_EQ(json::serialize(pl.at("spec").at("limited").at("limitResponse").at("queuing")),
            R"({"queues":64,"handSize":8,"queueLengthLimit":50})");
  EXPECT_THAT(Causes(s, pl), IsEmpty());
  EXPECT_THAT(RowStrings(s, pl), ElementsAre("pl", "Limited", "10", "64", "8", "50", "<unknown>"));
  EXPECT_THAT(RowStrings(s, Obj(R"({"metadata":{"name":"x"},"spec":{"type":"Exempt"}})")),
              ElementsAre("x", "Exempt", "<none>", "<none>", "<none>", "<none>", "<unknown>"));
  EXPECT_THAT(
      Causes(s, Obj(R"({"spec":{"type":"Limited","limited":{"lendablePercent":101,
        "limitResponse":{"type":"Queue","queuing":{"queues":64,"handSize":20,"queueLengthLimit":1}}}}})")),
      ElementsAre(
          "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive",
          "spec.limited.limitResponse.queuing.handSize: Invalid value: 20: required "
          "entropy bits of deckSize 64 and handSize 20 should not be greater than 60"));
  EXPECT_THAT(Causes(s, Obj(R"({"spec":{"type":"Exempt","limited":{}}})")),
              ElementsAre("spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only "
                          "if name is 'exempt'",
                          "spec.limited: Forbidden: must be nil if the type is not Limited"));
  EXPECT_THAT(
      Causes(s, Obj(R"({"metadata":{"name":"exempt"},"spec":{"type":"Exempt","exempt":{}}})")),
      IsEmpty());
}

// ---------------------------------------------------------------------------
// admissionregistration.k8s.io

TEST(WebhookStrategies, ValidateWebhooks) {
  const KindStrategy& s = Strategy(kAdmission, "ValidatingWebhookConfiguration");
  EXPECT_THAT(
      Causes(s, Obj(R"({"webhooks":[{"name":"a.example.com",
        "clientConfig":{"url":"https://user@host.example.com/x?q=1#frag"},
        "rules":[{"operations":["*","CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["*/*","pods"]}],
        "sideEffects":"Some","admissionReviewVersions":["v1","v1"],"failurePolicy":"Retry"},
        {"name":"a.example.com","clientConfig":{"service":{"namespace":"ns","name":"svc","path":"no-slash","port":0}},
         "sideEffects":"None","admissionReviewVersions":["v1"]}]})")),
      ElementsAre(
          "webhooks[0].rules[0].operations: Invalid value: "
          "[]admissionregistration.OperationType{\"*\", \"CREATE\"}: if '*' is present, must not "
          "specify other operations",
          "webhooks[0].rules[0].resources: Invalid value: []string{\"*/*\", \"pods\"}: if '*/*' is "
          "present, must not specify other resources",
          "webhooks[0].failurePolicy: Unsupported value: \"Retry\": supported values: \"Fail\", "
          "\"Ignore\"",
          "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", "
          "\"NoneOnDryRun\"",
          "webhooks[0].clientConfig.url: Invalid value: \"user\": user information is not "
          "permitted in the URL",
          "webhooks[0].clientConfig.url: Invalid value: \"frag\": fragments are not permitted in "
          "the URL",
          "webhooks[0].clientConfig.url: Invalid value: \"q=1\": query parameters are not "
          "permitted in the URL",
          "webhooks[0].admissionReviewVersions[1]: Invalid value: \"v1\": duplicate version",
          "webhooks[1].clientConfig.service.port: Invalid value: 0: port is not valid: must be "
          "between 1 and 65535, inclusive",
          "webhooks[1].clientConfig.service.path: Invalid value: \"no-slash\": must start with a "
          "'/'",
          "webhooks[1].name: Duplicate value: \"a.example.com\""));
  EXPECT_THAT(ColumnNames(s), ElementsAre("Name", "Webhooks", "Age"));
  EXPECT_THAT(RowStrings(s, Obj(R"({"metadata":{"name":"w"},"webhooks":[{},{}]})")),
              ElementsAre("w", "2", "<unknown>"));
}

}  // namespace
}  // namespace skiff::api
