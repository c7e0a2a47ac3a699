#include "client/client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/test_api_server.h"

namespace skiff {
namespace {

namespace json = boost::json;

const ResourcePath kConfigMaps{"", "v1", "configmaps"};
const ResourcePath kDeployments{"apps", "v1", "deployments"};

json::object ConfigMap(const std::string& name, const std::string& value) {
  return json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
                     R"("},"data":{"k":")" + value + R"("}})")
      .as_object();
}

std::string Str(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = nullptr;
  const json::object* cur = &o;
  for (auto key : path) {
    v = cur ? cur->if_contains(key) : nullptr;
    if (!v) return {};
    cur = v->if_object();
  }
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

TEST(ResourcePathTest, Paths) {
  EXPECT_EQ(kConfigMaps.Collection("default"), "/api/v1/namespaces/default/configmaps");
  EXPECT_EQ(kConfigMaps.Collection(""), "/api/v1/configmaps");
  EXPECT_EQ(kDeployments.Item("ns", "web", "scale"),
            "/apis/apps/v1/namespaces/ns/deployments/web/scale");
  EXPECT_EQ((ResourcePath{"", "v1", "nodes"}).Item("", "n1"), "/api/v1/nodes/n1");
  EXPECT_EQ(QueryEscape("app in (a,b)"), "app%20in%20%28a%2Cb%29");
}

TEST(InProcessClientTest, VerbsAndErrorsAsTheApiAnswersThem) {
  TestApiServer server;
  Client& c = server.client();
  auto created = c.Create(kConfigMaps, "default", ConfigMap("one", "1"));
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_FALSE(Str(*created, {"metadata", "uid"}).empty());

  auto again = c.Create(kConfigMaps, "default", ConfigMap("one", "1"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.error().message(), "configmaps \"one\" already exists");

  auto got = c.Get(kConfigMaps, "default", "one");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Str(*got, {"data", "k"}), "1");

  json::object stale = *got;
  stale["data"].as_object()["k"] = "2";
  auto updated = c.Update(kConfigMaps, "default", stale);
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  stale["data"].as_object()["k"] = "3";  // still carries the first resourceVersion
  auto conflict = c.Update(kConfigMaps, "default", stale);
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().code(), StatusCode::kConflict);

  auto patched = c.Patch(kConfigMaps, "default", "one", "application/merge-patch+json",
                         R"({"data":{"k":"4"}})");
  ASSERT_TRUE(patched.has_value()) << patched.error().ToString();
  EXPECT_EQ(Str(*patched, {"data", "k"}), "4");

  auto list = c.List(kConfigMaps, "default", "fieldSelector=" + QueryEscape("metadata.name=one"));
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->at("items").as_array().size(), 1u);

  EXPECT_TRUE(c.Delete(kConfigMaps, "default", "one").ok());
  auto gone = c.Get(kConfigMaps, "default", "one");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.Delete(kConfigMaps, "default", "one").code(), StatusCode::kNotFound);

  auto invalid = c.Create(kConfigMaps, "default", ConfigMap("Not_Valid", "x"));
  ASSERT_FALSE(invalid.has_value());
  EXPECT_EQ(invalid.error().code(), StatusCode::kInvalid);
  auto missing_ns = c.Create(kConfigMaps, "no-such-namespace", ConfigMap("x", "x"));
  ASSERT_FALSE(missing_ns.has_value());
  EXPECT_EQ(missing_ns.error().code(), StatusCode::kNotFound);
}

TEST(InProcessClientTest, WatchStreamsEventsUntilStopped) {
  TestApiServer server;
  Client& c = server.client();
  auto list = c.List(kConfigMaps, "default");
  ASSERT_TRUE(list.has_value());
  std::string rv(list->at("metadata").as_object().at("resourceVersion").as_string());
  auto watch = c.Watch(kConfigMaps.Collection("default") + "?watch=true&resourceVersion=" + rv);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  ASSERT_TRUE(c.Create(kConfigMaps, "default", ConfigMap("w", "1")).has_value());
  ASSERT_TRUE(c.Delete(kConfigMaps, "default", "w").ok());
  std::vector<std::string> types;
  while (types.size() < 2) {
    auto line = (*watch)->Next();
    ASSERT_TRUE(line.has_value());
    json::object e = json::parse(*line).as_object();
    types.emplace_back(e.at("type").as_string());
    EXPECT_EQ(Str(e, {"object", "metadata", "name"}), "w");
  }
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "DELETED"}));
  (*watch)->Stop();
  EXPECT_FALSE((*watch)->Next().has_value());

  auto too_old = c.Watch(kConfigMaps.Collection("") + "?watch=true&resourceVersion=notanumber");
  EXPECT_FALSE(too_old.has_value());
}

}  // namespace
}  // namespace skiff
