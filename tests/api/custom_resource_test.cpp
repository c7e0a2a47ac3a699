#include "api/custom_resource.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/object_codec.h"

namespace skiff::api {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

constexpr std::string_view kAppsDefinition = R"({
  "metadata": {"name": "apps.foo.bar", "uid": "u-1"},
  "spec": {"group": "foo.bar", "scope": "Namespaced",
    "names": {"plural": "apps", "singular": "app", "kind": "App", "listKind": "AppList", "shortNames": ["ap"]},
    "versions": [
      {"name": "v1beta1", "served": true, "storage": false,
       "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
      {"name": "v1", "served": true, "storage": true,
       "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
       "additionalPrinterColumns": [
         {"name": "Port", "type": "integer", "jsonPath": ".spec.port"},
         {"name": "Mode", "type": "string", "jsonPath": ".spec.mode", "priority": 1}],
       "schema": {"openAPIV3Schema": {"type": "object", "properties": {
         "spec": {"type": "object", "required": ["port"], "properties": {
           "port": {"type": "integer", "minimum": 1, "maximum": 65535},
           "path": {"type": "string", "pattern": "^/", "default": "/", "maxLength": 10},
           "mode": {"type": "string", "enum": ["fast", "safe"]},
           "since": {"type": "string", "format": "date-time"},
           "size": {"x-kubernetes-int-or-string": true},
           "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "minLength": 1}},
           "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                     "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
           "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
         "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}}}
    ]}
})";

class CustomResourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto builtin = SchemaRegistry::LoadBuiltin();
    ASSERT_TRUE(builtin.has_value());
    builtin_ = std::move(*builtin);
    auto set = BuildCustomResourceSet(Obj(kAppsDefinition), *builtin_);
    ASSERT_TRUE(set.has_value()) << set.error().message();
    set_ = std::move(*set);
  }
  const ResourceInfo& Version(std::string_view v) {
    for (const auto& r : set_->served) {
      if (r->version() == v) return *r;
    }
    ADD_FAILURE() << "no version " << v;
    return *set_->served.front();
  }
  std::vector<std::string> Errors(std::string_view spec) {
    json::object obj = Obj(
        std::string(R"({"apiVersion":"foo.bar/v1","kind":"App","metadata":{"name":"a"},"spec":)") +
        std::string(spec) + "}");
    std::vector<StatusCause> causes;
    Version("v1").strategy->Validate(obj, nullptr, causes);
    std::vector<std::string> out;
    for (const auto& c : causes) out.push_back(c.field + ": " + c.message);
    return out;
  }
  std::unique_ptr<SchemaRegistry> builtin_;
  std::unique_ptr<CustomResourceSet> set_;
};

TEST_F(CustomResourceTest, DescribesEveryServedVersionOverOneStorage) {
  ASSERT_EQ(set_->served.size(), 2u);
  const ResourceInfo& v1 = Version("v1");
  const ResourceInfo& beta = Version("v1beta1");
  EXPECT_EQ(set_->storage, &v1);
  EXPECT_EQ(beta.storage, &v1);
  EXPECT_EQ(v1.key_prefix, "/registry/foo.bar/apps/");
  EXPECT_EQ(beta.key_prefix, v1.key_prefix);
  EXPECT_EQ(v1.group_version, "foo.bar/v1");
  EXPECT_EQ(v1.list_kind, "AppList");
  EXPECT_TRUE(v1.custom);
  EXPECT_TRUE(v1.namespaced());
  EXPECT_THAT(v1.decl->short_names, ElementsAre("ap"));
  EXPECT_THAT(v1.decl->subresources, ElementsAre("status", "scale"));
  EXPECT_TRUE(beta.decl->subresources.empty());
  EXPECT_EQ(v1.scale_spec_replicas_path, ".spec.replicas");
  EXPECT_EQ(v1.decl->schema->name, "bar.foo.v1.App");
  EXPECT_TRUE(v1.strategy->HasStatusSubresource());
  EXPECT_TRUE(v1.strategy->TracksGeneration());
  EXPECT_NE(v1.decl->schema->FindProperty("metadata"), nullptr);
  EXPECT_NE(v1.decl->schema->FindProperty("apiVersion"), nullptr);
}

TEST_F(CustomResourceTest, DecodesPrunesAndDefaultsFromTheSchema) {
  json::value obj = json::parse(R"({"apiVersion":"foo.bar/v1","kind":"App","metadata":{"name":"a"},
    "spec":{"port":80,"colour":"red","labels":{"a":"b"}},"extra":1})");
  DecodeReport report;
  DecodeAgainstSchema(obj, *Version("v1").decl->schema, report);
  EXPECT_THAT(report.unknown_fields, ::testing::UnorderedElementsAre("extra", "spec.colour"));
  ApplySchemaDefaults(obj, *Version("v1").decl->schema);
  EXPECT_EQ(obj.at("spec"), json::parse(R"({"port":80,"labels":{"a":"b"},"path":"/"})"));
}

TEST_F(CustomResourceTest, ValidatesWithKubernetesMessages) {
  EXPECT_TRUE(Errors(R"({"port":80,"path":"/x","mode":"fast","size":"50%","tags":["a"]})").empty());
  EXPECT_THAT(Errors(R"({"port":"http"})"),
              ElementsAre("spec.port: Invalid value: \"string\": spec.port in body must be of type "
                          "integer: \"string\""));
  EXPECT_THAT(Errors(R"({})"), ElementsAre("spec.port: Required value"));
  EXPECT_THAT(Errors(R"({"port":70000})"),
              ElementsAre("spec.port: Invalid value: 70000: spec.port in body should be less than "
                          "or equal to 65535"));
  EXPECT_THAT(
      Errors(R"({"port":0})"),
      ElementsAre(
          "spec.port: Invalid value: 0: spec.port in body should be greater than or equal to 1"));
  EXPECT_THAT(
      Errors(R"({"port":80,"mode":"turbo"})"),
      ElementsAre("spec.mode: Unsupported value: \"turbo\": supported values: \"fast\", \"safe\""));
  EXPECT_THAT(Errors(R"({"port":80,"path":"x"})"),
              ElementsAre("spec.path: Invalid value: \"x\": spec.path in body should match '^/'"));
  EXPECT_THAT(Errors(R"({"port":80,"path":"/0123456789"})"),
              ElementsAre("spec.path: Too long: may not be more than 10 bytes"));
  EXPECT_THAT(Errors(R"({"port":80,"tags":["a","b","c"]})"),
              ElementsAre("spec.tags: Too many: 3: must have at most 2 items"));
  EXPECT_THAT(Errors(R"({"port":80,"size":true})"),
              ElementsAre("spec.size: Invalid value: \"boolean\": spec.size in body must be of "
                          "type integer,string: \"boolean\""));
  EXPECT_THAT(
      Errors(R"({"port":80,"ports":[{"name":"a"},{"name":"a"}]})"),
      ElementsAre("spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"a\"}"));
  EXPECT_TRUE(Errors(R"({"port":80,"since":"2024-05-01T12:00:00.5Z"})").empty());
  EXPECT_THAT(
      Errors(R"({"port":80,"since":"yesterday"})"),
      ElementsAre("spec.since: Invalid value: \"yesterday\": spec.since in body must be of type "
                  "date-time: \"yesterday\""));
  EXPECT_THAT(Errors(R"({"port":80,"labels":{"a":1}})"),
              ElementsAre("spec.labels.a: Invalid value: \"integer\": spec.labels.a in body must "
                          "be of type string: \"integer\""));
}

TEST_F(CustomResourceTest, PrinterColumnsFollowJsonPaths) {
  std::vector<TableColumn> cols = Version("v1").strategy->Columns();
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].name, "Name");
  EXPECT_EQ(cols[1].name, "Port");
  EXPECT_EQ(cols[2].priority, 1);
  json::array cells;
  Version("v1").strategy->Row(Obj(R"({"metadata":{"name":"a"},"spec":{"port":80}})"),
                              StrategyContext{std::chrono::system_clock::now()}, cells);
  EXPECT_EQ(json::serialize(cells), R"(["a",80,null])");
  // Without printer columns: Name and Age.
  std::vector<TableColumn> beta = Version("v1beta1").strategy->Columns();
  ASSERT_EQ(beta.size(), 2u);
  EXPECT_EQ(beta[1].name, "Age");
}

TEST(JsonPathTest, EvaluatesAndSetsSimplePaths) {
  json::value obj = json::parse(R"({"spec":{"replicas":3,"list":[{"n":"x"}],"m":{"a.b":1}}})");
  ASSERT_NE(EvaluateJsonPath(obj, ".spec.replicas"), nullptr);
  EXPECT_EQ(*EvaluateJsonPath(obj, ".spec.replicas"), 3);
  EXPECT_EQ(*EvaluateJsonPath(obj, ".spec.list[0].n"), "x");
  EXPECT_EQ(*EvaluateJsonPath(obj, "{.spec.m['a.b']}"), 1);
  EXPECT_EQ(EvaluateJsonPath(obj, ".spec.list[4]"), nullptr);
  EXPECT_EQ(EvaluateJsonPath(obj, "spec"), nullptr);
  json::object o;
  EXPECT_TRUE(SetJsonPath(o, ".spec.replicas", 5));
  EXPECT_EQ(json::serialize(o), R"({"spec":{"replicas":5}})");
  EXPECT_FALSE(SetJsonPath(o, ".spec.list[0]", 1));
}

TEST(CatalogueCustomTest, AddsReplacesAndRemovesCustomResources) {
  auto loaded = Catalogue::LoadBuiltin();
  ASSERT_TRUE(loaded.has_value());
  Catalogue& cat = **loaded;
  uint64_t generation = cat.generation();
  auto build = [&](std::string_view text) {
    auto set = BuildCustomResourceSet(Obj(text), cat.schemas());
    EXPECT_TRUE(set.has_value());
    return std::move(*set);
  };
  ASSERT_TRUE(cat.AddCustom(build(kAppsDefinition)).ok());
  EXPECT_GT(cat.generation(), generation);
  const ResourceInfo* v1 = cat.Find("foo.bar", "v1", "apps");
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(cat.FindByKind("foo.bar", "v1beta1", "App")->storage, v1);
  EXPECT_THAT(cat.group_versions().at("foo.bar"), ElementsAre("v1", "v1beta1"));
  EXPECT_EQ(cat.group_order().back(), "foo.bar");
  EXPECT_THAT(cat.CustomNames(), ElementsAre("apps.foo.bar"));

  // Another definition may not take the plural or the kind of the group.
  std::string other(kAppsDefinition);
  other.replace(other.find("apps.foo.bar"), 12, "other.foo.bar");
  Status conflict = cat.AddCustom(build(other));
  EXPECT_EQ(conflict.code(), StatusCode::kConflict);
  EXPECT_EQ(conflict.reason_override(), "PluralConflict");
  EXPECT_EQ(conflict.message(), "\"apps\" is already in use");

  // The same definition again replaces its resources; the old ones stay valid.
  ASSERT_TRUE(cat.AddCustom(build(kAppsDefinition)).ok());
  EXPECT_NE(cat.Find("foo.bar", "v1", "apps"), v1);
  EXPECT_EQ(v1->plural(), "apps");

  cat.RemoveCustom("apps.foo.bar");
  EXPECT_EQ(cat.Find("foo.bar", "v1", "apps"), nullptr);
  EXPECT_FALSE(cat.group_versions().contains("foo.bar"));
  EXPECT_TRUE(cat.CustomNames().empty());
  EXPECT_EQ(cat.FindCustom("apps.foo.bar"), nullptr);
}

}  // namespace
}  // namespace skiff::api
