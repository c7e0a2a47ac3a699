// ResourceQuota, LimitRange and the authorization.k8s.io reviews: their schemas,
// resources and strategies.
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
  for (const TableColumn& c : s.Columns()) out.push_back(c.name);
  return out;
}

// "field: message" of each validation failure.
std::vector<std::string> Causes(const KindStrategy& s, const json::object& obj) {
  std::vector<StatusCause> errors;
  s.Validate(obj, nullptr, errors);
  std::vector<std::string> out;
  for (const StatusCause& c : errors) out.push_back(c.field + ": " + c.message);
  return out;
}

const KindStrategy& Quota() { return *StrategyFor("", "ResourceQuota"); }
const KindStrategy& Limits() { return *StrategyFor("", "LimitRange"); }

// ---------------------------------------------------------------------------
// Schemas and resources

TEST(PolicySchemas, RegistryLoadsAndResolvesTheNewTypes) {
  for (std::string_view name :
       {"io.k8s.api.core.v1.ResourceQuota", "io.k8s.api.core.v1.ResourceQuotaList",
        "io.k8s.api.core.v1.ScopedResourceSelectorRequirement", "io.k8s.api.core.v1.LimitRange",
        "io.k8s.api.core.v1.LimitRangeList", "io.k8s.api.core.v1.LimitRangeItem",
        "io.k8s.api.authorization.v1.SubjectAccessReview",
        "io.k8s.api.authorization.v1.SelfSubjectAccessReview",
        "io.k8s.api.authorization.v1.LocalSubjectAccessReview",
        "io.k8s.api.authorization.v1.SelfSubjectRulesReview",
        "io.k8s.api.authorization.v1.ResourceAttributes",
        "io.k8s.api.authorization.v1.SubjectRulesReviewStatus",
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement"}) {
    EXPECT_NE(Builtin().Find(name), nullptr) << name;
  }
  const Schema* quota = Builtin().Find("io.k8s.api.core.v1.ResourceQuota");
  ASSERT_NE(quota, nullptr);
  EXPECT_EQ(quota->gvk_group, "");
  EXPECT_EQ(quota->gvk_kind, "ResourceQuota");
  const Schema* sar = Builtin().Find("io.k8s.api.authorization.v1.SubjectAccessReview");
  ASSERT_NE(sar, nullptr);
  EXPECT_EQ(sar->gvk_group, "authorization.k8s.io");
  EXPECT_EQ(sar->gvk_version, "v1");
}

TEST(PolicySchemas, ProtobufNumbersAndFlags) {
  const Property* hard = Prop("io.k8s.api.core.v1.ResourceQuotaSpec", "hard");
  ASSERT_NE(hard, nullptr);
  EXPECT_EQ(hard->proto_number, 1);
  const Property* selector = Prop("io.k8s.api.core.v1.ResourceQuotaSpec", "scopeSelector");
  ASSERT_NE(selector, nullptr);
  EXPECT_EQ(selector->proto_number, 3);
  EXPECT_TRUE(selector->pointer);
  const Property* ratio = Prop("io.k8s.api.core.v1.LimitRangeItem", "maxLimitRequestRatio");
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(ratio->proto_number, 6);
  const Property* type = Prop("io.k8s.api.core.v1.LimitRangeItem", "type");
  ASSERT_NE(type, nullptr);
  EXPECT_TRUE(type->keep_zero);
  const Property* allowed =
      Prop("io.k8s.api.authorization.v1.SubjectAccessReviewStatus", "allowed");
  ASSERT_NE(allowed, nullptr);
  EXPECT_TRUE(allowed->keep_zero);
  const Property* denied = Prop("io.k8s.api.authorization.v1.SubjectAccessReviewStatus", "denied");
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->proto_number, 4);
  const Property* label = Prop("io.k8s.api.authorization.v1.ResourceAttributes", "labelSelector");
  ASSERT_NE(label, nullptr);
  EXPECT_EQ(label->proto_number, 9);
  EXPECT_TRUE(label->pointer);
  const Property* uid = Prop("io.k8s.api.authorization.v1.SubjectAccessReviewSpec", "uid");
  ASSERT_NE(uid, nullptr);
  EXPECT_EQ(uid->proto_number, 6);
}

TEST(PolicySchemas, ResourcesWithShortNamesScopesAndVerbs) {
  const ResourceDecl* quotas = Resource("", "resourcequotas");
  ASSERT_NE(quotas, nullptr);
  EXPECT_EQ(quotas->kind, "ResourceQuota");
  EXPECT_EQ(quotas->singular, "resourcequota");
  EXPECT_TRUE(quotas->namespaced);
  EXPECT_EQ(quotas->short_names, std::vector<std::string>{"quota"});
  EXPECT_EQ(quotas->subresources, std::vector<std::string>{"status"});
  EXPECT_EQ(quotas->verbs.size(), 8u);

  const ResourceDecl* limits = Resource("", "limitranges");
  ASSERT_NE(limits, nullptr);
  EXPECT_EQ(limits->kind, "LimitRange");
  EXPECT_TRUE(limits->namespaced);
  EXPECT_EQ(limits->short_names, std::vector<std::string>{"limits"});
  EXPECT_THAT(limits->subresources, IsEmpty());

  const std::vector<std::string> create_only{"create"};
  for (auto [plural, namespaced] :
       {std::pair{"selfsubjectaccessreviews", false}, std::pair{"subjectaccessreviews", false},
        std::pair{"localsubjectaccessreviews", true},
        std::pair{"selfsubjectrulesreviews", false}}) {
    const ResourceDecl* r = Resource("authorization.k8s.io", plural);
    ASSERT_NE(r, nullptr) << plural;
    EXPECT_EQ(r->version, "v1");
    EXPECT_EQ(r->namespaced, namespaced) << plural;
    EXPECT_EQ(r->verbs, create_only) << plural;
  }
}

// ---------------------------------------------------------------------------
// ResourceQuota

TEST(ResourceQuotaStrategy, RegisteredWithAStatusSubresource) {
  EXPECT_NE(&Quota(), StrategyFor("example.com", "Widget"));
  EXPECT_TRUE(Quota().HasStatusSubresource());
  EXPECT_FALSE(Quota().KeepsStatusOnCreate());
}

TEST(ResourceQuotaStrategy, ColumnsAsKubectlPrintsThem) {
  EXPECT_THAT(ColumnNames(Quota()), ElementsAre("Name", "Age", "Request", "Limit"));
  EXPECT_EQ(Quota().Columns()[0].format, "name");
}

TEST(ResourceQuotaStrategy, RowSplitsRequestsAndLimitsSortedByName) {
  json::object quota = Obj(R"({
    "metadata": {"name": "compute", "creationTimestamp": "2024-05-01T11:55:00Z"},
    "spec": {"hard": {"pods": "10"}},
    "status": {
      "hard": {"pods": "10", "limits.memory": "2Gi", "requests.cpu": "1", "limits.cpu": "2",
               "configmaps": "5"},
      "used": {"pods": "3", "limits.memory": "512Mi", "requests.cpu": "250m", "limits.cpu": "0"}
    }})");
  EXPECT_THAT(RowStrings(Quota(), quota),
              ElementsAre("compute", "5m", "configmaps: 0/5, pods: 3/10, requests.cpu: 250m/1",
                          "limits.cpu: 0/2, limits.memory: 512Mi/2Gi"));
}

TEST(ResourceQuotaStrategy, RowIsEmptyUntilTheStatusIsFilled) {
  json::object quota = Obj(R"({
    "metadata": {"name": "q", "creationTimestamp": "2024-05-01T10:00:00Z"},
    "spec": {"hard": {"pods": "2"}}, "status": {}})");
  EXPECT_THAT(RowStrings(Quota(), quota), ElementsAre("q", "120m", "", ""));
}

TEST(ResourceQuotaStrategy, AcceptsStandardAndQualifiedNames) {
  json::object quota = Obj(R"({"metadata": {"name": "q"}, "spec": {"hard": {
    "pods": "2", "requests.cpu": "500m", "limits.memory": "1Gi", "count/deployments.apps": "3",
    "requests.nvidia.com/gpu": "1", "hugepages-2Mi": "1Gi", "requests.storage": "10Gi"}}})");
  EXPECT_THAT(Causes(Quota(), quota), IsEmpty());
}

TEST(ResourceQuotaStrategy, RejectsUnknownNamesNegativeAndFractionalCounts) {
  json::object quota = Obj(R"({"metadata": {"name": "q"}, "spec": {"hard": {
    "limits.pods": "1", "storage": "1Gi", "cpu": "-1", "pods": "1500m"}}})");
  EXPECT_THAT(
      Causes(Quota(), quota),
      ElementsAre("spec.hard[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                  "spec.hard[limits.pods]: Invalid value: limits.pods: must be a standard "
                  "resource type or fully qualified",
                  "spec.hard[limits.pods]: Invalid value: limits.pods: must be a standard "
                  "resource for quota",
                  "spec.hard[pods]: Invalid value: \"1500m\": must be an integer",
                  "spec.hard[storage]: Invalid value: storage: must be a standard resource for "
                  "quota"));
}

TEST(ResourceQuotaStrategy, ValidatesScopes) {
  json::object quota = Obj(R"({"metadata": {"name": "q"}, "spec": {
    "hard": {"pods": "2", "services": "1"},
    "scopes": ["BestEffort", "NotBestEffort"]}})");
  std::string shown = R"([]core.ResourceQuotaScope{"BestEffort", "NotBestEffort"})";
  EXPECT_THAT(
      Causes(Quota(), quota),
      ElementsAre(
          "spec.scopes: Invalid value: " + shown + ": unsupported scope applied to resource",
          "spec.scopes: Invalid value: " + shown + ": unsupported scope applied to resource",
          "spec.scopes: Invalid value: " + shown + ": conflicting scopes"));

  json::object ok = Obj(R"({"metadata": {"name": "q"}, "spec": {
    "hard": {"pods": "2", "requests.cpu": "1"}, "scopes": ["NotTerminating"]}})");
  EXPECT_THAT(Causes(Quota(), ok), IsEmpty());
}

TEST(ResourceQuotaStrategy, ValidatesScopeSelectorOperators) {
  json::object quota = Obj(R"({"metadata": {"name": "q"}, "spec": {
    "hard": {"pods": "2"},
    "scopeSelector": {"matchExpressions": [
      {"scopeName": "PriorityClass", "operator": "In"},
      {"scopeName": "BestEffort", "operator": "In", "values": ["x"]},
      {"scopeName": "Bogus", "operator": "Exists"}]}}})");
  EXPECT_THAT(
      Causes(Quota(), quota),
      ElementsAre("spec.scopeSelector.matchExpressions.values: Required value: must be at least "
                  "one value when `operator` is 'In' or 'NotIn' for scope selector",
                  "spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": must be "
                  "'Exist' when scope is any of ResourceQuotaScopeTerminating, "
                  "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, "
                  "ResourceQuotaScopeNotBestEffort or "
                  "ResourceQuotaScopeCrossNamespacePodAffinity",
                  "spec.scopeSelector.matchExpressions.scopeName: Invalid value: \"Bogus\": "
                  "unsupported scope"));

  json::object ok = Obj(R"({"metadata": {"name": "q"}, "spec": {
    "hard": {"pods": "2"},
    "scopeSelector": {"matchExpressions": [
      {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}})");
  EXPECT_THAT(Causes(Quota(), ok), IsEmpty());
}

TEST(ResourceQuotaStrategy, ValidatesTheStatusMaps) {
  json::object quota = Obj(R"({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "2"}},
    "status": {"hard": {"pods": "2"}, "used": {"pods": "-1"}}})");
  EXPECT_THAT(
      Causes(Quota(), quota),
      ElementsAre("status.used[pods]: Invalid value: \"-1\": must be greater than or equal to 0"));
}

// ---------------------------------------------------------------------------
// LimitRange

TEST(LimitRangeStrategy, ColumnsAndRowWithAnRfc3339Timestamp) {
  EXPECT_NE(&Limits(), StrategyFor("example.com", "Widget"));
  EXPECT_FALSE(Limits().HasStatusSubresource());
  EXPECT_THAT(ColumnNames(Limits()), ElementsAre("Name", "Created At"));
  EXPECT_EQ(Limits().Columns()[1].type, "date");
  json::object range = Obj(R"({
    "metadata": {"name": "defaults", "creationTimestamp": "2024-05-01T11:55:07Z"},
    "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}}]}})");
  EXPECT_THAT(RowStrings(Limits(), range), ElementsAre("defaults", "2024-05-01T11:55:07Z"));
}

TEST(LimitRangeStrategy, AcceptsAConsistentRange) {
  json::object range = Obj(R"({"metadata": {"name": "l"}, "spec": {"limits": [
    {"type": "Container", "max": {"cpu": "2", "memory": "1Gi"}, "min": {"cpu": "100m"},
     "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "200m"},
     "maxLimitRequestRatio": {"cpu": "10"}},
    {"type": "Pod", "max": {"cpu": "4"}},
    {"type": "PersistentVolumeClaim", "max": {"storage": "10Gi"}},
    {"type": "example.com/widget", "max": {"example.com/size": "3"}}]}})");
  EXPECT_THAT(Causes(Limits(), range), IsEmpty());
}

TEST(LimitRangeStrategy, RejectsUnknownTypesAndDuplicates) {
  json::object range = Obj(R"({"metadata": {"name": "l"}, "spec": {"limits": [
    {"type": "Node", "max": {"cpu": "1"}},
    {"type": "Container"}, {"type": "Container"}]}})");
  EXPECT_THAT(Causes(Limits(), range),
              ElementsAre("spec.limits[0].type: Invalid value: \"Node\": must be a standard "
                          "limit type or fully qualified",
                          "spec.limits[2].type: Duplicate value: \"Container\""));
}

TEST(LimitRangeStrategy, RejectsInconsistentBounds) {
  json::object range = Obj(R"({"metadata": {"name": "l"}, "spec": {"limits": [
    {"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "2", "pods": "1"},
     "maxLimitRequestRatio": {"memory": "500m"}},
    {"type": "Pod", "default": {"cpu": "1"}},
    {"type": "PersistentVolumeClaim", "max": {"cpu": "1"}}]}})");
  EXPECT_THAT(Causes(Limits(), range),
              ElementsAre("spec.limits[0].min[pods]: Invalid value: pods: must be a standard "
                          "resource for containers",
                          "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater "
                          "than max value 1",
                          "spec.limits[0].maxLimitRequestRatio[memory]: Invalid value: \"500m\": "
                          "ratio 500m is less than 1",
                          "spec.limits[1].default: Forbidden: may not be specified when `type` "
                          "is 'Pod'",
                          "spec.limits[2].limits: Required value: either minimum or maximum "
                          "storage value is required, but neither was provided"));
}

}  // namespace
}  // namespace skiff::api
