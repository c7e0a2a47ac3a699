#include "base/strategic_merge_patch.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace skiff {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

// Patch metadata shaped like the Kubernetes schemas for Pods and Deployments.
constexpr std::string_view kContainer = R"({"fields":{
    "env":{"strategy":"merge","mergeKey":"name"},
    "ports":{"strategy":"merge","mergeKey":"containerPort"},
    "volumeMounts":{"strategy":"merge","mergeKey":"mountPath"}}})";

std::string PodSpecMeta() {
  return std::string(R"({"fields":{
      "containers":{"strategy":"merge","mergeKey":"name","items":)") +
         std::string(kContainer) +
         R"(},
      "initContainers":{"strategy":"merge","mergeKey":"name","items":)" +
         std::string(kContainer) +
         R"(},
      "volumes":{"strategy":"merge,retainKeys","mergeKey":"name"},
      "imagePullSecrets":{"strategy":"merge","mergeKey":"name"}}})";
}

std::string ObjectMetaMeta() {
  return R"({"fields":{"finalizers":{"strategy":"merge"},
                       "ownerReferences":{"strategy":"merge","mergeKey":"uid"}}})";
}

std::unique_ptr<PatchMeta> DeploymentMeta() {
  return PatchMetaFromJson(J(R"({"fields":{"metadata":)" + ObjectMetaMeta() + R"(,
      "spec":{"fields":{
        "strategy":{"strategy":"retainKeys"},
        "template":{"fields":{"metadata":)" +
                             ObjectMetaMeta() + R"(,"spec":)" + PodSpecMeta() + R"(}}}}}})"));
}

std::unique_ptr<PatchMeta> PodMeta() {
  return PatchMetaFromJson(
      J(R"({"fields":{"metadata":)" + ObjectMetaMeta() + R"(,"spec":)" + PodSpecMeta() + "}}"));
}

json::value MustPatch(const json::value& original, std::string_view patch, const PatchMeta* meta) {
  auto r = ApplyStrategicMergePatch(original, J(patch), meta);
  EXPECT_TRUE(r.has_value()) << patch << ": " << (r ? "" : r.error().message());
  return r ? *r : json::value();
}

Status PatchError(const json::value& original, std::string_view patch, const PatchMeta* meta) {
  auto r = ApplyStrategicMergePatch(original, J(patch), meta);
  EXPECT_FALSE(r.has_value()) << patch;
  return r ? Status::Ok() : r.error();
}

const json::value kDeployment = J(R"({
  "apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","labels":{"app":"web","old":"x"},"finalizers":["a","b","c"]},
  "spec":{"replicas":2,
    "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},
    "template":{"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[
        {"name":"web","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
         "ports":[{"containerPort":80,"name":"http"}]},
        {"name":"sidecar","image":"busybox","args":["sleep","3600"]}],
        "volumes":[{"name":"data","emptyDir":{}}]}}}})");

TEST(StrategicMergePatchTest, MapsMergeAndNullDeletes) {
  auto meta = DeploymentMeta();
  json::value out =
      MustPatch(kDeployment,
                R"({"metadata":{"labels":{"old":null,"tier":"frontend"}},"spec":{"replicas":3}})",
                meta.get());
  EXPECT_EQ(out.at("metadata").at("labels"), J(R"({"app":"web","tier":"frontend"})"));
  EXPECT_EQ(out.at("spec").at("replicas"), json::value(3));
  EXPECT_EQ(out.at("spec").at("template"), kDeployment.at("spec").at("template"));
}

TEST(StrategicMergePatchTest, KubectlApplyStylePatchWithSetElementOrder) {
  auto meta = DeploymentMeta();
  // What kubectl apply sends after changing the image, adding env C and removing env B.
  json::value out = MustPatch(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],
      "containers":[{"name":"web","image":"nginx:2",
        "$setElementOrder/env":[{"name":"A"},{"name":"C"}],
        "env":[{"name":"C","value":"3"},{"name":"B","$patch":"delete"}]}]}}}})",
                              meta.get());
  EXPECT_EQ(out.at("spec").at("template").at("spec").at("containers"), J(R"([
      {"name":"web","image":"nginx:2","env":[{"name":"A","value":"1"},{"name":"C","value":"3"}],
       "ports":[{"containerPort":80,"name":"http"}]},
      {"name":"sidecar","image":"busybox","args":["sleep","3600"]}])"));
}

TEST(StrategicMergePatchTest, SetElementOrderReordersAndInserts) {
  auto meta = DeploymentMeta();
  json::value out = MustPatch(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"sidecar"},{"name":"init"},{"name":"web"}],
      "containers":[{"name":"init","image":"alpine"}]}}}})",
                              meta.get());
  const json::array& containers =
      out.at("spec").at("template").at("spec").at("containers").get_array();
  ASSERT_EQ(containers.size(), 3u);
  EXPECT_EQ(containers[0].at("name"), json::value("sidecar"));
  EXPECT_EQ(containers[1], J(R"({"name":"init","image":"alpine"})"));
  EXPECT_EQ(containers[2].at("name"), json::value("web"));
}

TEST(StrategicMergePatchTest, MergeWithoutOrderPutsNewItemsBeforeLiveOnes) {
  auto meta = DeploymentMeta();
  json::value out = MustPatch(kDeployment, R"({"spec":{"template":{"spec":{"containers":[
      {"name":"log","image":"fluentd"},{"name":"sidecar","image":"busybox:2"}]}}}})",
                              meta.get());
  const json::array& containers =
      out.at("spec").at("template").at("spec").at("containers").get_array();
  // Patch order wins; live items keep their place relative to patched ones.
  ASSERT_EQ(containers.size(), 3u);
  EXPECT_EQ(containers[0].at("name"), json::value("log"));
  EXPECT_EQ(containers[1].at("name"), json::value("web"));
  EXPECT_EQ(containers[2], J(R"({"name":"sidecar","image":"busybox:2","args":["sleep","3600"]})"));
}

TEST(StrategicMergePatchTest, NumericMergeKeys) {
  auto meta = PodMeta();
  json::value pod =
      J(R"({"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"}]}]}})");
  json::value out = MustPatch(pod, R"({"spec":{"containers":[{"name":"c","ports":[
      {"containerPort":443,"name":"https"},{"containerPort":80,"protocol":"TCP"}]}]}})",
                              meta.get());
  EXPECT_EQ(
      out.at("spec").at("containers").at(0).at("ports"),
      J(R"([{"containerPort":443,"name":"https"},{"containerPort":80,"name":"http","protocol":"TCP"}])"));
}

TEST(StrategicMergePatchTest, PatchReplaceAndDeleteDirectives) {
  auto meta = DeploymentMeta();
  json::value out = MustPatch(kDeployment, R"({"spec":{"template":{"spec":{"containers":[
      {"name":"only","image":"x"},{"$patch":"replace"}]}}}})",
                              meta.get());
  EXPECT_EQ(out.at("spec").at("template").at("spec").at("containers"),
            J(R"([{"name":"only","image":"x"}])"));

  out = MustPatch(kDeployment, R"({"spec":{"template":{"spec":{"containers":[
      {"name":"sidecar","$patch":"delete"}]}}}})",
                  meta.get());
  ASSERT_EQ(out.at("spec").at("template").at("spec").at("containers").get_array().size(), 1u);

  out = MustPatch(kDeployment, R"({"metadata":{"labels":{"$patch":"delete"}}})", meta.get());
  EXPECT_EQ(out.at("metadata").at("labels"), J("{}"));

  out = MustPatch(kDeployment, R"({"spec":{"strategy":{"$patch":"replace","type":"Recreate"}}})",
                  meta.get());
  EXPECT_EQ(out.at("spec").at("strategy"), J(R"({"type":"Recreate"})"));

  out = MustPatch(kDeployment, R"({"metadata":{"labels":{"$patch":"merge","x":"y"}}})", meta.get());
  EXPECT_EQ(out.at("metadata").at("labels"), J(R"({"app":"web","old":"x","x":"y"})"));

  EXPECT_EQ(PatchError(kDeployment, R"({"metadata":{"labels":{"$patch":"frob"}}})", meta.get())
                .message()
                .rfind("unknown patch type: \"frob\" in map: ", 0),
            0u);
  EXPECT_EQ(PatchError(
                kDeployment,
                R"({"spec":{"template":{"spec":{"containers":[{"name":"web","$patch":"frob"}]}}}})",
                meta.get())
                .code(),
            StatusCode::kBadRequest);
}

TEST(StrategicMergePatchTest, RetainKeys) {
  auto meta = DeploymentMeta();
  json::value out = MustPatch(kDeployment, R"({"spec":{
      "strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null},
      "template":{"spec":{"volumes":[
        {"name":"data","hostPath":{"path":"/srv"},"$retainKeys":["hostPath","name"]}]}}}})",
                              meta.get());
  EXPECT_EQ(out.at("spec").at("strategy"), J(R"({"type":"Recreate"})"));
  EXPECT_EQ(out.at("spec").at("template").at("spec").at("volumes"),
            J(R"([{"name":"data","hostPath":{"path":"/srv"}}])"));

  Status s =
      PatchError(kDeployment,
                 R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":2}}}})",
                 meta.get());
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  EXPECT_EQ(s.message(), "invalid patch format of retainKeys");
  EXPECT_EQ(PatchError(kDeployment, R"({"spec":{"strategy":{"$retainKeys":"type"}}})", meta.get())
                .message(),
            "invalid patch format of retainKeys");
}

TEST(StrategicMergePatchTest, PrimitiveListsMergeAsSets) {
  auto meta = DeploymentMeta();
  json::value out = MustPatch(kDeployment, R"({"metadata":{"finalizers":["d","b"]}})", meta.get());
  EXPECT_EQ(out.at("metadata").at("finalizers"), J(R"(["d","a","b","c"])"));

  out = MustPatch(kDeployment, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b","zz"]}})",
                  meta.get());
  EXPECT_EQ(out.at("metadata").at("finalizers"), J(R"(["a","c"])"));

  out = MustPatch(kDeployment, R"({"metadata":{
      "$setElementOrder/finalizers":["c","e","a"],"finalizers":["e"],
      "$deleteFromPrimitiveList/finalizers":["b"]}})",
                  meta.get());
  EXPECT_EQ(out.at("metadata").at("finalizers"), J(R"(["c","e","a"])"));

  // A delete list for a field the object lacks changes nothing.
  json::value bare = J(R"({"metadata":{}})");
  out =
      MustPatch(bare, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]}})", meta.get());
  EXPECT_EQ(out, bare);

  EXPECT_EQ(
      PatchError(kDeployment, R"({"metadata":{"$deleteFromPrimitiveList":["x"]}})", meta.get())
          .message(),
      "invalid patch format of primitive list");
}

TEST(StrategicMergePatchTest, ListsWithoutMergeStrategyAreReplaced) {
  auto meta = DeploymentMeta();
  json::value out = MustPatch(kDeployment, R"({"spec":{"template":{"spec":{"containers":[
      {"name":"sidecar","args":["sleep","60"]}]}}}})",
                              meta.get());
  EXPECT_EQ(out.at("spec").at("template").at("spec").at("containers").at(1).at("args"),
            J(R"(["sleep","60"])"));
  // Without metadata every list is replaced, as in JSON merge patch.
  out = MustPatch(kDeployment, R"({"spec":{"template":{"spec":{"containers":[{"name":"x"}]}}}})",
                  nullptr);
  EXPECT_EQ(out.at("spec").at("template").at("spec").at("containers"), J(R"([{"name":"x"}])"));
  EXPECT_EQ(out.at("spec").at("replicas"), json::value(2));
}

TEST(StrategicMergePatchTest, NewValuesAreCleaned) {
  auto meta = PodMeta();
  json::value pod = J(R"({"metadata":{"name":"p"},"spec":{}})");
  json::value out = MustPatch(pod, R"({"metadata":{"annotations":{"a":"1","b":null}},
      "spec":{"$setElementOrder/containers":[{"name":"c"}],
              "containers":[{"name":"c","image":"i","resources":null}]}})",
                              meta.get());
  EXPECT_EQ(out, J(R"({"metadata":{"name":"p","annotations":{"a":"1"}},
                       "spec":{"containers":[{"name":"c","image":"i"}]}})"));
}

TEST(StrategicMergePatchTest, TypeChangesReplace) {
  auto meta = PodMeta();
  json::value doc = J(R"({"spec":{"x":"s","y":{"a":1},"z":[1]}})");
  json::value out =
      MustPatch(doc, R"({"spec":{"x":{"k":"v"},"y":"flat","z":{"a":null,"b":1}}})", meta.get());
  EXPECT_EQ(out, J(R"({"spec":{"x":{"k":"v"},"y":"flat","z":{"b":1}}})"));
}

TEST(StrategicMergePatchTest, UnknownDirectivesAreRejected) {
  auto meta = PodMeta();
  json::value pod = J(R"({"spec":{}})");
  EXPECT_EQ(PatchError(pod, R"({"spec":{"$frob":1}})", meta.get()).message(),
            "unknown strategic merge patch directive \"$frob\"");
  EXPECT_EQ(PatchError(pod, R"({"$setElementOrder":[]})", meta.get()).message(),
            "invalid patch format of setElementOrder list");
  // A field the schema declares may start with '$'.
  auto schema_meta = PatchMetaFromJson(J(R"({"fields":{"$ref":{}}})"));
  EXPECT_EQ(MustPatch(J("{}"), R"({"$ref":"#/x"})", schema_meta.get()), J(R"({"$ref":"#/x"})"));
}

TEST(StrategicMergePatchTest, MalformedPatches) {
  auto meta = DeploymentMeta();
  EXPECT_EQ(
      PatchError(kDeployment, R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})",
                 meta.get())
          .message(),
      "map: {\"image\":\"x\"} does not contain declared merge key: name");
  EXPECT_EQ(PatchError(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"web"}],
      "containers":[{"name":"sidecar","image":"y"}]}}}})",
                       meta.get())
                .message()
                .rfind("The order in patch list:", 0),
            0u);
  EXPECT_EQ(PatchError(J(R"({"metadata":{"finalizers":[["x"]]}})"),
                       R"({"metadata":{"finalizers":[["a"]]}})", meta.get())
                .message(),
            "lists of lists are not supported");
  EXPECT_EQ(PatchError(J(R"({"metadata":{"finalizers":[["x"]]}})"),
                       R"({"metadata":{"finalizers":[["a"]]}})", meta.get())
                .code(),
            StatusCode::kInvalid);
  EXPECT_EQ(PatchError(kDeployment, R"({"metadata":{"finalizers":[1]}})", meta.get())
                .message()
                .rfind("list element types are not identical", 0),
            0u);
  EXPECT_EQ(PatchError(kDeployment, "[1]", meta.get()).message(), "invalid JSON document");
  EXPECT_EQ(PatchError(J("[]"), "{}", meta.get()).message(), "invalid JSON document");
  auto unchanged = ApplyStrategicMergePatch(kDeployment, json::value(nullptr), meta.get());
  ASSERT_TRUE(unchanged.has_value());
  EXPECT_EQ(*unchanged, kDeployment);
}

TEST(StrategicMergePatchTest, InputsAreNotModified) {
  auto meta = DeploymentMeta();
  const json::value before = kDeployment;
  const json::value patch = J(R"({"metadata":{"labels":{"app":null}},"spec":{"replicas":9}})");
  const json::value patch_before = patch;
  auto r = ApplyStrategicMergePatch(kDeployment, patch, meta.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(kDeployment, before);
  EXPECT_EQ(patch, patch_before);
}

}  // namespace
}  // namespace skiff
