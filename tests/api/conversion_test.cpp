#include "api/conversion.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/catalogue.h"

namespace skiff::api {
namespace {

namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

class ConversionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cat = Catalogue::LoadBuiltin();
    ASSERT_TRUE(cat.has_value()) << cat.error().message();
    catalogue_ = cat->release();
  }
  static void TearDownTestSuite() {
    delete catalogue_;
    catalogue_ = nullptr;
  }
  static const ResourceInfo& R(std::string_view group, std::string_view version,
                               std::string_view plural) {
    const ResourceInfo* r = catalogue_->Find(group, version, plural);
    EXPECT_NE(r, nullptr) << group << "/" << version << " " << plural;
    return *r;
  }
  static json::object ToStorage(const ResourceInfo& r, json::object obj) {
    ConvertToStorage(r, obj);
    return obj;
  }
  static json::object FromStorage(const ResourceInfo& r, json::object obj) {
    ConvertFromStorage(r, obj);
    return obj;
  }
  static const Catalogue* catalogue_;
};

const Catalogue* ConversionTest::catalogue_ = nullptr;

TEST_F(ConversionTest, VersionsShareTheStorageOfTheirStorageVersion) {
  const ResourceInfo& v1 = R("autoscaling", "v1", "horizontalpodautoscalers");
  const ResourceInfo& v2 = R("autoscaling", "v2", "horizontalpodautoscalers");
  EXPECT_TRUE(v2.IsStorage());
  EXPECT_FALSE(v1.IsStorage());
  EXPECT_EQ(v1.storage, &v2);
  EXPECT_EQ(v1.key_prefix, "/registry/horizontalpodautoscalers/");
  EXPECT_EQ(v2.key_prefix, v1.key_prefix);

  const ResourceInfo& core = R("", "v1", "events");
  const ResourceInfo& events = R("events.k8s.io", "v1", "events");
  EXPECT_EQ(events.storage, &core);
  EXPECT_EQ(events.key_prefix, "/registry/events/");
  // Preferred version first.
  EXPECT_THAT(catalogue_->group_versions().at("autoscaling"), ::testing::ElementsAre("v2", "v1"));
}

// An autoscaling/v2 HPA as the server stores it: defaults applied, several metrics, the
// CPU target first, behavior, and a status with current metrics and conditions.
constexpr std::string_view kHpaV2 = R"({
  "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7",
               "annotations": {"team": "a"}},
  "spec": {
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
    "minReplicas": 2, "maxReplicas": 10,
    "metrics": [
      {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
      {"type": "Pods", "pods": {"metric": {"name": "packets-per-second"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
      {"type": "Object", "object": {"metric": {"name": "requests-per-second"},
        "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main-route"},
        "target": {"type": "Value", "value": "10k"}}},
      {"type": "External", "external": {"metric": {"name": "queue_messages_ready", "selector": {"matchLabels": {"queue": "worker_tasks"}}},
        "target": {"type": "AverageValue", "averageValue": "30"}}},
      {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "app",
        "target": {"type": "AverageValue", "averageValue": "500Mi"}}}
    ],
    "behavior": {
      "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                  "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]},
      "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Min",
                    "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}
    }
  },
  "status": {
    "observedGeneration": 1, "lastScaleTime": "2024-05-01T12:00:00Z",
    "currentReplicas": 3, "desiredReplicas": 4,
    "currentMetrics": [
      {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 61, "averageValue": "120m"}}},
      {"type": "Pods", "pods": {"metric": {"name": "packets-per-second"}, "current": {"averageValue": "900"}}}
    ],
    "conditions": [
      {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2024-05-01T12:00:00Z", "reason": "ReadyForNewScale", "message": "ok"}
    ]
  }
})";

TEST_F(ConversionTest, HpaV2ThroughV1IsExact) {
  const ResourceInfo& v1 = R("autoscaling", "v1", "horizontalpodautoscalers");
  json::object stored = Obj(kHpaV2);
  json::object as_v1 = FromStorage(v1, stored);
  EXPECT_EQ(as_v1.at("apiVersion"), "autoscaling/v1");
  const json::object& spec = as_v1.at("spec").as_object();
  EXPECT_EQ(spec.at("targetCPUUtilizationPercentage"), 50);
  EXPECT_FALSE(spec.contains("metrics"));
  EXPECT_FALSE(spec.contains("behavior"));
  const json::object& ann = as_v1.at("metadata").at("annotations").as_object();
  EXPECT_EQ(ann.at("team"), "a");
  ASSERT_TRUE(ann.contains("autoscaling.alpha.kubernetes.io/metrics"));
  ASSERT_TRUE(ann.contains("autoscaling.alpha.kubernetes.io/current-metrics"));
  ASSERT_TRUE(ann.contains("autoscaling.alpha.kubernetes.io/conditions"));
  ASSERT_TRUE(ann.contains("autoscaling.alpha.kubernetes.io/behavior"));
  // The metrics annotation uses v1's metric shape.
  json::value metrics = json::parse(ann.at("autoscaling.alpha.kubernetes.io/metrics").as_string());
  EXPECT_EQ(metrics.as_array().at(1).at("pods").at("metricName"), "packets-per-second");
  EXPECT_EQ(metrics.as_array().at(1).at("pods").at("targetAverageValue"), "1k");
  // The behavior annotation uses the field names of Kubernetes' internal type.
  json::value behavior =
      json::parse(ann.at("autoscaling.alpha.kubernetes.io/behavior").as_string());
  EXPECT_EQ(behavior.at("ScaleDown").at("StabilizationWindowSeconds"), 300);
  const json::object& status = as_v1.at("status").as_object();
  EXPECT_EQ(status.at("currentCPUUtilizationPercentage"), 61);
  EXPECT_EQ(status.at("currentReplicas"), 3);
  EXPECT_FALSE(status.contains("conditions"));

  json::object back = ToStorage(v1, as_v1);
  EXPECT_EQ(json::serialize(back), json::serialize(back));  // stable
  EXPECT_EQ(back, stored) << json::serialize(back);
}

TEST_F(ConversionTest, HpaV2WithCpuLastKeepsTheCpuTargetInTheV1Field) {
  const ResourceInfo& v1 = R("autoscaling", "v1", "horizontalpodautoscalers");
  json::object stored = Obj(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
    "metadata":{"name":"a"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"minReplicas":1,"maxReplicas":3,
      "metrics":[
        {"type":"Pods","pods":{"metric":{"name":"x"},"target":{"type":"AverageValue","averageValue":"5"}}},
        {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}}]}})");
  json::object as_v1 = FromStorage(v1, stored);
  EXPECT_EQ(as_v1.at("spec").at("targetCPUUtilizationPercentage"), 70);
  json::value others = json::parse(as_v1.at("metadata")
                                       .at("annotations")
                                       .at("autoscaling.alpha.kubernetes.io/metrics")
                                       .as_string());
  ASSERT_EQ(others.as_array().size(), 1u);
  EXPECT_EQ(others.as_array()[0].at("type"), "Pods");
  EXPECT_EQ(ToStorage(v1, as_v1), stored);

  // A change of the CPU target through v1 wins over the annotation.
  as_v1["spec"].as_object()["targetCPUUtilizationPercentage"] = 90;
  json::object changed = ToStorage(v1, as_v1);
  EXPECT_EQ(changed.at("spec")
                .at("metrics")
                .as_array()
                .at(1)
                .at("resource")
                .at("target")
                .at("averageUtilization"),
            90);
}

TEST_F(ConversionTest, HpaV1ThroughV2IsExact) {
  const ResourceInfo& v1 = R("autoscaling", "v1", "horizontalpodautoscalers");
  json::object v1_obj = Obj(R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler",
    "metadata":{"name":"php-apache","namespace":"default","resourceVersion":"3"},
    "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"php-apache"},
            "minReplicas":1,"maxReplicas":10,"targetCPUUtilizationPercentage":50},
    "status":{"currentReplicas":1,"desiredReplicas":1,"currentCPUUtilizationPercentage":22,
              "lastScaleTime":"2024-05-01T12:00:00Z"}})");
  json::object as_v2 = ToStorage(v1, v1_obj);
  EXPECT_EQ(as_v2.at("apiVersion"), "autoscaling/v2");
  const json::array& metrics = as_v2.at("spec").at("metrics").as_array();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].at("resource").at("target").at("averageUtilization"), 50);
  EXPECT_EQ(as_v2.at("status")
                .at("currentMetrics")
                .as_array()[0]
                .at("resource")
                .at("current")
                .at("averageUtilization"),
            22);
  EXPECT_FALSE(as_v2.at("metadata").as_object().contains("annotations"));
  json::object back = FromStorage(v1, as_v2);
  EXPECT_EQ(back, v1_obj) << json::serialize(back);
  EXPECT_EQ(ToStorage(v1, back), as_v2);
}

TEST_F(ConversionTest, HpaV1WithoutTargetGetsTheDefaultCpuMetric) {
  const ResourceInfo& v1 = R("autoscaling", "v1", "horizontalpodautoscalers");
  json::object as_v2 = ToStorage(v1, Obj(R"({"metadata":{"name":"a"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"maxReplicas":3}})"));
  EXPECT_EQ(
      json::serialize(as_v2.at("spec").at("metrics")),
      R"([{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}])");
}

TEST_F(ConversionTest, HpaV1IgnoresCorruptAnnotations) {
  const ResourceInfo& v1 = R("autoscaling", "v1", "horizontalpodautoscalers");
  json::object as_v2 = ToStorage(v1, Obj(R"({"metadata":{"name":"a","annotations":{
      "autoscaling.alpha.kubernetes.io/metrics":"not json",
      "autoscaling.alpha.kubernetes.io/behavior":"[1]"}},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"maxReplicas":3,
            "targetCPUUtilizationPercentage":40}})"));
  EXPECT_EQ(as_v2.at("spec").at("metrics").as_array().size(), 1u);
  EXPECT_FALSE(as_v2.at("spec").as_object().contains("behavior"));
  EXPECT_FALSE(as_v2.at("metadata").as_object().contains("annotations"));
}

constexpr std::string_view kCoreEvent = R"({
  "apiVersion": "v1", "kind": "Event",
  "metadata": {"name": "web.17c", "namespace": "default", "resourceVersion": "9"},
  "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u", "apiVersion": "v1", "fieldPath": "spec.containers{app}"},
  "reason": "Pulled", "message": "Container image pulled",
  "source": {"component": "kubelet", "host": "node-1"},
  "firstTimestamp": "2024-05-01T12:00:00Z", "lastTimestamp": "2024-05-01T12:01:00Z",
  "count": 3, "type": "Normal",
  "reportingComponent": "", "reportingInstance": ""
})";

TEST_F(ConversionTest, CoreEventThroughEventsV1IsExact) {
  const ResourceInfo& ev = R("events.k8s.io", "v1", "events");
  json::object core = Obj(kCoreEvent);
  json::object as_ev = FromStorage(ev, core);
  EXPECT_EQ(as_ev.at("apiVersion"), "events.k8s.io/v1");
  EXPECT_EQ(as_ev.at("note"), "Container image pulled");
  EXPECT_EQ(as_ev.at("regarding").at("name"), "web");
  EXPECT_EQ(as_ev.at("deprecatedSource").at("component"), "kubelet");
  EXPECT_EQ(as_ev.at("deprecatedCount"), 3);
  EXPECT_EQ(as_ev.at("deprecatedFirstTimestamp"), "2024-05-01T12:00:00Z");
  EXPECT_TRUE(as_ev.at("eventTime").is_null());
  EXPECT_FALSE(as_ev.contains("reportingController"));
  EXPECT_FALSE(as_ev.contains("message"));
  EXPECT_EQ(ToStorage(ev, as_ev), core);
}

TEST_F(ConversionTest, EventsV1ThroughCoreIsExact) {
  const ResourceInfo& ev = R("events.k8s.io", "v1", "events");
  json::object events_v1 = Obj(R"({"apiVersion":"events.k8s.io/v1","kind":"Event",
    "metadata":{"name":"e1","namespace":"default"},
    "eventTime":"2024-05-01T12:00:00.000000Z",
    "series":{"count":2,"lastObservedTime":"2024-05-01T12:05:00.000000Z"},
    "reportingController":"example.com/controller","reportingInstance":"c-1",
    "action":"Scale","reason":"Scaled","regarding":{"kind":"Deployment","name":"web"},
    "related":{"kind":"ReplicaSet","name":"web-1"},"note":"scaled up","type":"Normal"})");
  json::object core = ToStorage(ev, events_v1);
  EXPECT_EQ(core.at("apiVersion"), "v1");
  EXPECT_EQ(core.at("message"), "scaled up");
  EXPECT_EQ(core.at("reportingComponent"), "example.com/controller");
  EXPECT_EQ(core.at("involvedObject").at("kind"), "Deployment");
  EXPECT_EQ(FromStorage(ev, core), events_v1);
}

TEST_F(ConversionTest, ValidationPathsAreReportedInTheRequestVersion) {
  const ResourceInfo& ev = R("events.k8s.io", "v1", "events");
  EXPECT_EQ(FieldPathInVersion(ev, "reportingComponent"), "reportingController");
  EXPECT_EQ(FieldPathInVersion(ev, "involvedObject.namespace"), "regarding.namespace");
  EXPECT_EQ(FieldPathInVersion(ev, "message"), "note");
  EXPECT_EQ(FieldPathInVersion(ev, "metadata.name"), "metadata.name");
  EXPECT_EQ(FieldPathInVersion(R("", "v1", "events"), "message"), "message");
  EXPECT_EQ(
      FieldPathInVersion(R("autoscaling", "v1", "horizontalpodautoscalers"), "spec.maxReplicas"),
      "spec.maxReplicas");
}

}  // namespace
}  // namespace skiff::api
