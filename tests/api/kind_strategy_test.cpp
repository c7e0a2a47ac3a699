#include "api/kind_strategy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace skiff::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// 2024-05-01T12:00:00Z
const StrategyContext kCtx{std::chrono::system_clock::time_point(std::chrono::seconds(1714564800))};

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

const KindStrategy& S(std::string_view group, std::string_view kind) {
  return *StrategyFor(group, kind);
}

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

std::vector<StatusCause> Validate(const KindStrategy& s, const json::object& obj,
                                  const json::object* old = nullptr) {
  std::vector<StatusCause> errors;
  s.Validate(obj, old, errors);
  return errors;
}

// "field: message" for readable failures.
std::vector<std::string> Causes(const std::vector<StatusCause>& errors) {
  std::vector<std::string> out;
  for (const StatusCause& c : errors) out.push_back(c.field + ": " + c.message);
  return out;
}

// Runs defaults + create preparation as the generic path does before validation.
json::object Created(const KindStrategy& s, json::object obj) {
  s.ApplyDefaults(obj);
  s.PrepareForCreate(obj);
  return obj;
}

// ---------------------------------------------------------------------------
// Registry and generic behaviour

TEST(StrategyRegistryTest, KnownKindsHaveTheirOwnStrategy) {
  const KindStrategy* generic = StrategyFor("example.com", "Widget");
  ASSERT_NE(generic, nullptr);
  for (auto [group, kind] :
       std::vector<std::pair<std::string, std::string>>{{"", "Pod"},
                                                        {"", "Service"},
                                                        {"", "Namespace"},
                                                        {"", "ConfigMap"},
                                                        {"", "Secret"},
                                                        {"", "Node"},
                                                        {"", "Event"},
                                                        {"", "ServiceAccount"},
                                                        {"", "Endpoints"},
                                                        {"coordination.k8s.io", "Lease"},
                                                        {"apps", "Deployment"},
                                                        {"apps", "ReplicaSet"}}) {
    EXPECT_NE(StrategyFor(group, kind), generic) << group << "/" << kind;
  }
  EXPECT_EQ(StrategyFor("", "Deployment"), generic);  // the group matters
}

TEST(StrategyRegistryTest, GenericTableIsNameAndCreatedAt) {
  // Kubernetes' default table convertor: the creation timestamp as it is (CREATED AT).
  const KindStrategy& s = S("example.com", "Widget");
  auto columns = s.Columns();
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[0].name, "Name");
  EXPECT_EQ(columns[0].format, "name");
  EXPECT_EQ(columns[1].name, "Created At");
  EXPECT_EQ(columns[1].type, "date");
  EXPECT_EQ(
      RowStrings(s, Obj(R"({"metadata":{"name":"w","creationTimestamp":"2024-05-01T11:00:00Z"}})")),
      (std::vector<std::string>{"w", "2024-05-01T11:00:00Z"}));
  EXPECT_EQ(RowStrings(s, Obj(R"({"metadata":{"name":"w"}})")),
            (std::vector<std::string>{"w", ""}));
  EXPECT_FALSE(s.FieldValue(Obj("{}"), "spec.x").has_value());
}

// ---------------------------------------------------------------------------
// Pods

json::object PodWithStatus(std::string_view status, std::string_view extra_meta = "") {
  return Obj(std::string(R"({"metadata":{"name":"p","creationTimestamp":"2024-05-01T11:55:00Z")") +
             std::string(extra_meta) +
             R"(},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"nginx"}]},"status":)" +
             std::string(status) + "}");
}

TEST(PodTableTest, Columns) {
  EXPECT_EQ(ColumnNames(S("", "Pod")),
            (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP*", "Node*",
                                      "Nominated Node*", "Readiness Gates*"}));
}

TEST(PodTableTest, RunningPod) {
  auto row =
      RowStrings(S("", "Pod"), PodWithStatus(R"({"phase":"Running","podIPs":[{"ip":"10.0.0.5"}],
      "containerStatuses":[{"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]})"));
  EXPECT_EQ(row, (std::vector<std::string>{"p", "1/1", "Running", "0", "5m", "10.0.0.5", "n1",
                                           "<none>", "<none>"}));
}

TEST(PodTableTest, CrashLoopBackOffWithRecentRestart) {
  auto row = RowStrings(S("", "Pod"), PodWithStatus(R"({"phase":"Running","containerStatuses":[
      {"name":"c","ready":false,"restartCount":5,
       "state":{"waiting":{"reason":"CrashLoopBackOff"}},
       "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"2024-05-01T11:58:00Z"}}}]})"));
  EXPECT_EQ(row[1], "0/1");
  EXPECT_EQ(row[2], "CrashLoopBackOff");
  EXPECT_EQ(row[3], "5 (2m ago)");
  EXPECT_EQ(row[5], "<none>");
}

TEST(PodTableTest, TerminatingWhenDeletionTimestampSet) {
  auto row = RowStrings(
      S("", "Pod"),
      PodWithStatus(
          R"({"phase":"Running","containerStatuses":[{"name":"c","ready":true,"state":{"running":{}}}]})",
          R"(,"deletionTimestamp":"2024-05-01T11:59:00Z")"));
  EXPECT_EQ(row[2], "Terminating");
  // A finished pod being deleted keeps its final status.
  row = RowStrings(S("", "Pod"), PodWithStatus(R"({"phase":"Succeeded","containerStatuses":[
      {"name":"c","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]})",
                                               R"(,"deletionTimestamp":"2024-05-01T11:59:00Z")"));
  EXPECT_EQ(row[2], "Completed");
}

TEST(PodTableTest, WaitingAndInitStates) {
  const KindStrategy& s = S("", "Pod");
  EXPECT_EQ(RowStrings(s, PodWithStatus(R"({"phase":"Pending"})"))[2], "Pending");
  EXPECT_EQ(RowStrings(s, PodWithStatus(R"({"phase":"Pending","containerStatuses":[
      {"name":"c","state":{"waiting":{"reason":"ContainerCreating"}}}]})"))[2],
            "ContainerCreating");
  json::object init = Obj(R"({"metadata":{"name":"p"},"spec":{
      "initContainers":[{"name":"i","image":"busybox"}],"containers":[{"name":"c","image":"nginx"}]},
      "status":{"phase":"Pending","initContainerStatuses":[{"name":"i","state":{"waiting":{"reason":"PodInitializing"}}}]}})");
  EXPECT_EQ(RowStrings(s, init)[2], "Init:0/1");
  init["status"].as_object()["initContainerStatuses"] = json::parse(
      R"([{"name":"i","restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}])");
  auto row = RowStrings(s, init);
  EXPECT_EQ(row[2], "Init:CrashLoopBackOff");
  EXPECT_EQ(row[3], "3");
  init["status"].as_object()["initContainerStatuses"] =
      json::parse(R"([{"name":"i","state":{"terminated":{"exitCode":2}}}])");
  EXPECT_EQ(RowStrings(s, init)[2], "Init:ExitCode:2");
}

TEST(PodTableTest, SidecarCountsAsContainer) {
  json::object pod = Obj(R"({"metadata":{"name":"p"},"spec":{
      "initContainers":[{"name":"side","image":"envoy","restartPolicy":"Always"}],
      "containers":[{"name":"c","image":"nginx"}]},
      "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"}],
        "initContainerStatuses":[{"name":"side","started":true,"ready":true,"state":{"running":{}}}],
        "containerStatuses":[{"name":"c","ready":true,"state":{"running":{}}}]}})");
  auto row = RowStrings(S("", "Pod"), pod);
  EXPECT_EQ(row[1], "2/2");
  EXPECT_EQ(row[2], "Running");
}

TEST(PodTableTest, ReadinessGates) {
  json::object pod =
      Obj(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}],
      "readinessGates":[{"conditionType":"a/b"},{"conditionType":"c/d"}]},
      "status":{"phase":"Running","conditions":[{"type":"a/b","status":"True"}]}})");
  EXPECT_EQ(RowStrings(S("", "Pod"), pod)[8], "1/2");
}

TEST(PodFieldsTest, FieldSelectors) {
  const KindStrategy& s = S("", "Pod");
  json::object pod = Obj(R"({"spec":{"nodeName":"n1","restartPolicy":"Always"},
      "status":{"phase":"Running","podIPs":[{"ip":"10.1.0.4"}]}})");
  EXPECT_EQ(s.FieldValue(pod, "spec.nodeName"), "n1");
  EXPECT_EQ(s.FieldValue(pod, "spec.restartPolicy"), "Always");
  EXPECT_EQ(s.FieldValue(pod, "spec.hostNetwork"), "false");
  EXPECT_EQ(s.FieldValue(pod, "spec.schedulerName"), "");
  EXPECT_EQ(s.FieldValue(pod, "status.phase"), "Running");
  EXPECT_EQ(s.FieldValue(pod, "status.podIP"), "10.1.0.4");
  EXPECT_FALSE(s.FieldValue(pod, "spec.containers").has_value());
}

TEST(PodDefaultsTest, ContainerDefaults) {
  const KindStrategy& s = S("", "Pod");
  json::object pod = Created(s, Obj(R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","image":"nginx"},{"name":"b","image":"nginx:1.25"},
      {"name":"c","image":"nginx:latest"},{"name":"d","image":"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
      {"name":"e","image":"localhost:5000/app"},{"name":"f","image":"x","imagePullPolicy":"Never",
       "ports":[{"containerPort":80}]}]}})"));
  const json::array& c = pod["spec"].as_object()["containers"].as_array();
  std::vector<std::string> policies;
  for (const json::value& v : c)
    policies.emplace_back(v.as_object().at("imagePullPolicy").as_string());
  EXPECT_EQ(policies, (std::vector<std::string>{"Always", "IfNotPresent", "Always", "IfNotPresent",
                                                "Always", "Never"}));
  EXPECT_EQ(c[0].as_object().at("terminationMessagePath"), "/dev/termination-log");
  EXPECT_EQ(c[0].as_object().at("terminationMessagePolicy"), "File");
  EXPECT_EQ(c[5].as_object().at("ports").as_array()[0].as_object().at("protocol"), "TCP");
  const json::object& spec = pod["spec"].as_object();
  EXPECT_EQ(spec.at("restartPolicy"), "Always");
  EXPECT_EQ(spec.at("dnsPolicy"), "ClusterFirst");
  EXPECT_EQ(spec.at("schedulerName"), "default-scheduler");
  EXPECT_EQ(spec.at("terminationGracePeriodSeconds"), 30);
  EXPECT_EQ(pod["status"].as_object().at("phase"), "Pending");
  EXPECT_EQ(pod["status"].as_object().at("qosClass"), "BestEffort");
  EXPECT_TRUE(Validate(s, pod).empty()) << ::testing::PrintToString(Causes(Validate(s, pod)));
}

TEST(PodDefaultsTest, QosClasses) {
  const KindStrategy& s = S("", "Pod");
  auto qos = [&](std::string_view resources) {
    json::object pod = Created(
        s, Obj(std::string(R"({"spec":{"containers":[{"name":"c","image":"x","resources":)") +
               std::string(resources) + "}]}}"));
    return std::string(pod["status"].as_object()["qosClass"].as_string());
  };
  EXPECT_EQ(qos(R"({"limits":{"cpu":"500m","memory":"128Mi"}})"), "Guaranteed");
  EXPECT_EQ(
      qos(R"({"requests":{"cpu":"500m","memory":"128Mi"},"limits":{"cpu":"500m","memory":"128Mi"}})"),
      "Guaranteed");
  EXPECT_EQ(qos(R"({"requests":{"cpu":"100m"}})"), "Burstable");
  EXPECT_EQ(
      qos(R"({"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"1","memory":"64Mi"}})"),
      "Burstable");
  EXPECT_EQ(qos("{}"), "BestEffort");
}

TEST(PodDefaultsTest, QosDoesNotDependOnDefaultingOrder) {
  const KindStrategy& s = S("", "Pod");
  json::object pod = Obj(R"({"spec":{"containers":[{"name":"c","image":"x",
      "resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]}})");
  s.PrepareForCreate(pod);
  EXPECT_EQ(pod["status"].as_object()["qosClass"], "Guaranteed");
}

TEST(PodDefaultsTest, SchedulingGatesAddCondition) {
  const KindStrategy& s = S("", "Pod");
  json::object pod =
      Created(s, Obj(R"({"metadata":{"name":"p"},"spec":{"schedulingGates":[{"name":"g"}],
      "containers":[{"name":"c","image":"x"}]}})"));
  EXPECT_EQ(RowStrings(s, pod)[2], "SchedulingGated");
}

TEST(PodDefaultsTest, HostNetworkDefaultsHostPorts) {
  const KindStrategy& s = S("", "Pod");
  json::object pod = Created(s, Obj(R"({"spec":{"hostNetwork":true,"containers":[
      {"name":"c","image":"x","ports":[{"containerPort":8080}]}]}})"));
  EXPECT_EQ(pod["spec"]
                .as_object()["containers"]
                .as_array()[0]
                .as_object()["ports"]
                .as_array()[0]
                .as_object()["hostPort"],
            8080);
}

TEST(PodValidationTest, ContainersRequired) {
  auto errors = Validate(S("", "Pod"), Created(S("", "Pod"), Obj(R"({"spec":{}})")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec.containers");
  EXPECT_EQ(errors[0].type, "FieldValueRequired");
  EXPECT_EQ(errors[0].message, "Required value");
}

TEST(PodValidationTest, ContainerFields) {
  const KindStrategy& s = S("", "Pod");
  json::object pod = Created(s, Obj(R"({"spec":{"restartPolicy":"Sometimes","containers":[
      {"name":"Web","image":"nginx","ports":[{"containerPort":70000,"protocol":"ICMP"}]},
      {"name":"db"},{"name":"db","image":"postgres"}]}})"));
  auto causes = Causes(Validate(s, pod));
  EXPECT_THAT(causes,
              ::testing::Contains(StartsWith(
                  "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label")));
  EXPECT_THAT(causes,
              ::testing::Contains(
                  "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be "
                  "between 1 and 65535, inclusive"));
  EXPECT_THAT(causes, ::testing::Contains(
                          "spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": "
                          "supported values: \"SCTP\", \"TCP\", \"UDP\""));
  EXPECT_THAT(causes, ::testing::Contains("spec.containers[1].image: Required value"));
  EXPECT_THAT(causes, ::testing::Contains("spec.containers[2].name: Duplicate value: \"db\""));
  EXPECT_THAT(causes, ::testing::Contains(
                          "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
                          "\"Always\", \"OnFailure\", \"Never\""));
}

TEST(PodValidationTest, VolumeMountsMustReferToVolumes) {
  const KindStrategy& s = S("", "Pod");
  json::object pod =
      Created(s, Obj(R"({"spec":{"volumes":[{"name":"data","emptyDir":{}}],"containers":[
      {"name":"c","image":"x","volumeMounts":[{"name":"data","mountPath":"/d"},{"name":"cfg","mountPath":"/c"}]}]}})"));
  EXPECT_EQ(
      Causes(Validate(s, pod)),
      (std::vector<std::string>{"spec.containers[0].volumeMounts[1].name: Not found: \"cfg\""}));
}

TEST(PodValidationTest, RequestsAboveLimits) {
  const KindStrategy& s = S("", "Pod");
  json::object pod = Created(s, Obj(R"({"spec":{"containers":[{"name":"c","image":"x",
      "resources":{"requests":{"cpu":"2"},"limits":{"cpu":"1"}}}]}})"));
  EXPECT_EQ(
      Causes(Validate(s, pod)),
      (std::vector<std::string>{"spec.containers[0].resources.requests: Invalid value: \"2\": "
                                "must be less than or equal to cpu limit of 1"}));
}

TEST(PodValidationTest, UpdateMayChangeImagesOnly) {
  const KindStrategy& s = S("", "Pod");
  json::object old = Created(s, Obj(R"({"spec":{"containers":[{"name":"c","image":"nginx:1"}],
      "tolerations":[{"key":"a","operator":"Exists","effect":"NoSchedule"}]}})"));
  json::object updated = old;
  updated["spec"].as_object()["containers"].as_array()[0].as_object()["image"] = "nginx:2";
  updated["spec"].as_object()["tolerations"].as_array().push_back(json::parse(
      R"({"key":"b","operator":"Exists","effect":"NoExecute","tolerationSeconds":30})"));
  s.ApplyDefaults(updated);
  EXPECT_TRUE(Validate(s, updated, &old).empty())
      << ::testing::PrintToString(Causes(Validate(s, updated, &old)));

  updated["spec"].as_object()["restartPolicy"] = "Never";
  auto errors = Validate(s, updated, &old);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec");
  EXPECT_EQ(errors[0].type, "FieldValueForbidden");
  EXPECT_THAT(errors[0].message,
              StartsWith("Forbidden: pod updates may not change fields other than "
                         "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                         "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                         "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to "
                         "be set to 1 if it was previously negative)\n"));

  json::object removed = old;
  removed["spec"].as_object()["containers"].as_array().push_back(
      json::parse(R"({"name":"d","image":"x"})"));
  s.ApplyDefaults(removed);
  EXPECT_EQ(Causes(Validate(s, removed, &old)),
            (std::vector<std::string>{
                "spec.containers: Forbidden: pod updates may not add or remove containers"}));
}

TEST(PodValidationTest, ExistingTolerationsAreImmutable) {
  const KindStrategy& s = S("", "Pod");
  json::object old = Created(s, Obj(R"({"spec":{"containers":[{"name":"c","image":"x"}],
      "tolerations":[{"key":"a","operator":"Exists","effect":"NoSchedule"}]}})"));
  json::object updated = old;
  updated["spec"].as_object()["tolerations"] = json::array();
  EXPECT_THAT(Causes(Validate(s, updated, &old)),
              ::testing::Contains("spec.tolerations: Forbidden: existing toleration can not be "
                                  "modified except its tolerationSeconds"));
}

// ---------------------------------------------------------------------------
// Services

json::object Svc(std::string_view spec, std::string_view status = "{}") {
  return Obj(std::string(
                 R"({"metadata":{"name":"s","creationTimestamp":"2024-05-01T10:00:00Z"},"spec":)") +
             std::string(spec) + R"(,"status":)" + std::string(status) + "}");
}

TEST(ServiceTableTest, Rows) {
  const KindStrategy& s = S("", "Service");
  EXPECT_EQ(ColumnNames(s), (std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP",
                                                      "Port(s)", "Age", "Selector*"}));
  EXPECT_EQ(
      RowStrings(s, Svc(R"({"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],
      "ports":[{"port":80,"protocol":"TCP","targetPort":8080},{"port":53,"protocol":"UDP"}],
      "selector":{"b":"2","a":"1"}})")),
      (std::vector<std::string>{"s", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "120m",
                                "a=1,b=2"}));
  EXPECT_EQ(RowStrings(s, Svc(R"({"type":"NodePort","clusterIPs":["10.96.0.11"],
      "ports":[{"port":80,"nodePort":30080,"protocol":"TCP"}]})"))[4],
            "80:30080/TCP");
  auto lb = RowStrings(s, Svc(R"({"type":"LoadBalancer","clusterIPs":["10.96.0.12"],"ports":[]})"));
  EXPECT_EQ(lb[3], "<pending>");
  EXPECT_EQ(lb[4], "<none>");
  EXPECT_EQ(lb[6], "<none>");
  EXPECT_EQ(
      RowStrings(
          s,
          Svc(R"({"type":"LoadBalancer","externalIPs":["5.6.7.8"]})",
              R"({"loadBalancer":{"ingress":[{"ip":"9.9.9.9"},{"hostname":"lb.example.com"}]}})"))
          [3],
      "9.9.9.9,lb.example.com,5.6.7.8");
  auto ext = RowStrings(s, Svc(R"({"type":"ExternalName","externalName":"db.example.com"})"));
  EXPECT_EQ(ext[2], "<none>");
  EXPECT_EQ(ext[3], "db.example.com");
  EXPECT_EQ(
      RowStrings(s, Svc(R"({"type":"ClusterIP","clusterIP":"None","clusterIPs":["None"]})"))[2],
      "None");
}

TEST(ServiceDefaultsTest, TypeDependentDefaults) {
  const KindStrategy& s = S("", "Service");
  json::object svc = Created(
      s,
      Svc(R"({"selector":{"app":"web"},"ports":[{"port":80},{"name":"x","port":81,"targetPort":"http"}]})"));
  const json::object& spec = svc["spec"].as_object();
  EXPECT_EQ(spec.at("type"), "ClusterIP");
  EXPECT_EQ(spec.at("sessionAffinity"), "None");
  EXPECT_EQ(spec.at("internalTrafficPolicy"), "Cluster");
  EXPECT_FALSE(spec.contains("externalTrafficPolicy"));
  EXPECT_FALSE(spec.contains("ipFamilyPolicy"));  // no cluster IP yet
  const json::array& ports = spec.at("ports").as_array();
  EXPECT_EQ(ports[0].as_object().at("targetPort"), 80);
  EXPECT_EQ(ports[0].as_object().at("protocol"), "TCP");
  EXPECT_EQ(ports[1].as_object().at("targetPort"), "http");

  json::object np =
      Created(s, Svc(R"({"type":"NodePort","clusterIP":"10.96.0.20","ports":[{"port":80}]})"));
  const json::object& np_spec = np["spec"].as_object();
  EXPECT_EQ(np_spec.at("externalTrafficPolicy"), "Cluster");
  EXPECT_EQ(np_spec.at("clusterIPs"), json::parse(R"(["10.96.0.20"])"));
  EXPECT_EQ(np_spec.at("ipFamilyPolicy"), "SingleStack");
  EXPECT_EQ(np_spec.at("ipFamilies"), json::parse(R"(["IPv4"])"));

  json::object headless = Created(s, Svc(R"({"clusterIP":"None","ports":[{"port":80}]})"));
  EXPECT_EQ(headless["spec"].as_object().at("ipFamilyPolicy"), "RequireDualStack");
}

TEST(ServiceValidationTest, Rules) {
  const KindStrategy& s = S("", "Service");
  auto causes = [&](std::string_view spec) { return Causes(Validate(s, Created(s, Svc(spec)))); };
  EXPECT_EQ(causes(R"({"selector":{"app":"web"}})"),
            (std::vector<std::string>{"spec.ports: Required value"}));
  EXPECT_TRUE(causes(R"({"type":"ExternalName","externalName":"db.example.com"})").empty());
  EXPECT_EQ(causes(R"({"type":"ExternalName"})"),
            (std::vector<std::string>{"spec.externalName: Required value"}));
  EXPECT_THAT(
      causes(R"({"type":"Magic","ports":[{"port":80}]})"),
      ::testing::Contains("spec.type: Unsupported value: \"Magic\": supported values: "
                          "\"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""));
  EXPECT_THAT(causes(R"({"ports":[{"port":80,"name":"a"},{"port":81,"name":"a"},{"port":82}]})"),
              ::testing::IsSupersetOf({"spec.ports[1].name: Duplicate value: \"a\"",
                                       "spec.ports[2].name: Required value"}));
  EXPECT_THAT(causes(R"({"ports":[{"port":0}]})"),
              ::testing::Contains(
                  "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"));
  EXPECT_THAT(causes(R"({"type":"NodePort","clusterIP":"None","ports":[{"port":80}]})"),
              ::testing::Contains("spec.clusterIPs[0]: Invalid value: \"None\": may not be set to "
                                  "'None' for NodePort services"));
  EXPECT_THAT(causes(R"({"ports":[{"port":80,"nodePort":30001}]})"),
              ::testing::Contains(
                  "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"));
  EXPECT_TRUE(causes(R"({"clusterIP":"None"})").empty());  // headless needs no ports
}

TEST(ServiceUpdateTest, ReplaceKeepsAllocatedValues) {
  const KindStrategy& s = S("", "Service");
  json::object old = Created(
      s,
      Svc(R"({"type":"NodePort","clusterIP":"10.96.0.30","ports":[{"name":"http","port":80,"nodePort":30080}]})"));
  json::object updated = Svc(R"({"type":"NodePort","ports":[{"name":"http","port":80}]})");
  s.ApplyDefaults(updated);
  s.PrepareForUpdate(updated, old);
  const json::object& spec = updated["spec"].as_object();
  EXPECT_EQ(spec.at("clusterIP"), "10.96.0.30");
  EXPECT_EQ(spec.at("clusterIPs"), json::parse(R"(["10.96.0.30"])"));
  EXPECT_EQ(spec.at("ports").as_array()[0].as_object().at("nodePort"), 30080);
  EXPECT_TRUE(Validate(s, updated, &old).empty())
      << ::testing::PrintToString(Causes(Validate(s, updated, &old)));

  // Switching to ClusterIP drops the node ports and the external traffic policy.
  json::object to_cluster_ip = old;
  to_cluster_ip["spec"].as_object()["type"] = "ClusterIP";
  s.ApplyDefaults(to_cluster_ip);
  s.PrepareForUpdate(to_cluster_ip, old);
  EXPECT_FALSE(
      to_cluster_ip["spec"].as_object()["ports"].as_array()[0].as_object().contains("nodePort"));
  EXPECT_TRUE(Validate(s, to_cluster_ip, &old).empty())
      << ::testing::PrintToString(Causes(Validate(s, to_cluster_ip, &old)));
}

TEST(ServiceDefaultsTest, ClientIpAffinityGetsTimeout) {
  const KindStrategy& s = S("", "Service");
  json::object svc = Created(s, Svc(R"({"sessionAffinity":"ClientIP","ports":[{"port":80}]})"));
  EXPECT_EQ(svc["spec"].as_object().at("sessionAffinityConfig"),
            json::parse(R"({"clientIP":{"timeoutSeconds":10800}})"));
  EXPECT_TRUE(Validate(s, svc).empty());
}

TEST(ServiceFieldsTest, FieldSelectors) {
  json::object svc = Svc(R"({"type":"NodePort","clusterIP":"10.0.0.1"})");
  EXPECT_EQ(S("", "Service").FieldValue(svc, "spec.type"), "NodePort");
  EXPECT_EQ(S("", "Service").FieldValue(svc, "spec.clusterIP"), "10.0.0.1");
}

// ---------------------------------------------------------------------------
// Nodes

TEST(NodeTableTest, StatusRolesAndAddresses) {
  const KindStrategy& s = S("", "Node");
  EXPECT_EQ(ColumnNames(s), (std::vector<std::string>{"Name", "Status", "Roles", "Age", "Version",
                                                      "Internal-IP*", "External-IP*", "OS-Image*",
                                                      "Kernel-Version*", "Container-Runtime*"}));
  json::object node = Obj(R"J({"metadata":{"name":"n1","creationTimestamp":"2024-04-28T12:00:00Z",
      "labels":{"node-role.kubernetes.io/worker":"","node-role.kubernetes.io/control-plane":"","kubernetes.io/role":"edge"}},
      "spec":{"unschedulable":true},
      "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
        "addresses":[{"type":"Hostname","address":"n1"},{"type":"InternalIP","address":"192.168.1.10"}],
        "nodeInfo":{"kubeletVersion":"v1.33.0","osImage":"Debian GNU/Linux 12 (bookworm)","kernelVersion":"6.1.0","containerRuntimeVersion":"containerd://1.7.0"}}})J");
  EXPECT_EQ(
      RowStrings(s, node),
      (std::vector<std::string>{"n1", "Ready,SchedulingDisabled", "control-plane,edge,worker", "3d",
                                "v1.33.0", "192.168.1.10", "<none>",
                                "Debian GNU/Linux 12 (bookworm)", "6.1.0", "containerd://1.7.0"}));
  EXPECT_EQ(
      RowStrings(
          s,
          Obj(R"({"metadata":{"name":"n2"},"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})")),
      (std::vector<std::string>{"n2", "NotReady", "<none>", "<unknown>", "", "<none>", "<none>",
                                "<unknown>", "<unknown>", "<unknown>"}));
  EXPECT_EQ(RowStrings(s, Obj(R"({"metadata":{"name":"n3"}})"))[1], "Unknown");
  EXPECT_EQ(s.FieldValue(node, "spec.unschedulable"), "true");
}

TEST(NodeValidationTest, DuplicateTaints) {
  json::object node = Obj(
      R"({"spec":{"taints":[{"key":"a","effect":"NoSchedule"},{"key":"a","effect":"NoSchedule"},{"key":"b","effect":"Sometimes"}]}})");
  EXPECT_THAT(Causes(Validate(S("", "Node"), node)),
              ::testing::ElementsAre(
                  "spec.taints[1]: Duplicate value: core.Taint{Key:\"a\", Value:\"\", "
                  "Effect:\"NoSchedule\", "
                  "TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
                  "spec.taints[2].effect: Unsupported value: \"Sometimes\": supported values: "
                  "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""));
}

// ---------------------------------------------------------------------------
// Workloads

json::object Deployment(std::string_view selector, std::string_view labels,
                        std::string_view extra = "") {
  return Obj(
      std::string(
          R"({"metadata":{"name":"web","creationTimestamp":"2024-05-01T11:00:00Z"},"spec":{)") +
      std::string(extra) + R"("selector":)" + std::string(selector) +
      R"(,"template":{"metadata":{"labels":)" + std::string(labels) +
      R"(},"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"},{"name":"log","image":"busybox"}]}}},
             "status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})");
}

TEST(DeploymentTest, DefaultsAndRow) {
  const KindStrategy& s = S("apps", "Deployment");
  json::object d = Created(
      s,
      Deployment(
          R"({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["fe","be"]}]})",
          R"({"app":"web","tier":"fe"})"));
  const json::object& spec = d["spec"].as_object();
  EXPECT_EQ(spec.at("replicas"), 1);
  EXPECT_EQ(
      spec.at("strategy"),
      json::parse(
          R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}})"));
  EXPECT_EQ(spec.at("revisionHistoryLimit"), 10);
  EXPECT_EQ(spec.at("progressDeadlineSeconds"), 600);
  EXPECT_EQ(d["metadata"].as_object().at("generation"), 1);
  const json::object& tmpl_spec = spec.at("template").as_object().at("spec").as_object();
  EXPECT_EQ(tmpl_spec.at("containers").as_array()[1].as_object().at("imagePullPolicy"), "Always");
  EXPECT_FALSE(tmpl_spec.contains("enableServiceLinks"));  // pods only
  EXPECT_TRUE(Validate(s, d).empty()) << ::testing::PrintToString(Causes(Validate(s, d)));

  d["spec"].as_object()["replicas"] = 3;
  EXPECT_EQ(ColumnNames(s),
            (std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age",
                                      "Containers*", "Images*", "Selector*"}));
  EXPECT_EQ(RowStrings(s, d),
            (std::vector<std::string>{"web", "2/3", "3", "2", "60m", "nginx,log",
                                      "nginx:1.25,busybox", "app=web,tier in (be,fe)"}));
}

TEST(DeploymentTest, SelectorRules) {
  const KindStrategy& s = S("apps", "Deployment");
  json::object mismatch = Created(
      s, Deployment(R"({"matchLabels":{"app":"api"}})", R"({"app":"web"})", R"("replicas":-1,)"));
  EXPECT_EQ(Causes(Validate(s, mismatch)),
            (std::vector<std::string>{
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
                "`selector` does not match template `labels`"}));

  json::object no_selector =
      Created(s, Obj(R"({"spec":{"template":{"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[{"name":"c","image":"x"}]}}}})"));
  EXPECT_EQ(
      Causes(Validate(s, no_selector)),
      (std::vector<std::string>{"spec.selector: Required value",
                                "spec.template.metadata.labels: Invalid value: "
                                "map[string]string{\"app\":\"web\"}: `selector` does not match "
                                "template `labels`"}));

  json::object old =
      Created(s, Deployment(R"({"matchLabels":{"app":"web"}})", R"({"app":"web","v":"2"})"));
  json::object changed = Created(
      s, Deployment(R"({"matchLabels":{"app":"web","v":"2"}})", R"({"app":"web","v":"2"})"));
  EXPECT_EQ(Causes(Validate(s, changed, &old)),
            (std::vector<std::string>{
                "spec.selector: Invalid value: "
                "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", "
                "\"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is "
                "immutable"}));
}

TEST(DeploymentTest, GenerationBumpsOnSpecChange) {
  const KindStrategy& s = S("apps", "Deployment");
  json::object old = Created(s, Deployment(R"({"matchLabels":{"app":"web"}})", R"({"app":"web"})"));
  json::object same = old;
  s.PrepareForUpdate(same, old);
  EXPECT_EQ(same["metadata"].as_object().at("generation"), 1);
  json::object scaled = old;
  scaled["spec"].as_object()["replicas"] = 5;
  s.PrepareForUpdate(scaled, old);
  EXPECT_EQ(scaled["metadata"].as_object().at("generation"), 2);
}

TEST(DeploymentTest, RollingUpdateRules) {
  const KindStrategy& s = S("apps", "Deployment");
  json::object d = Created(
      s, Deployment(R"({"matchLabels":{"app":"web"}})", R"({"app":"web"})",
                    R"("strategy":{"rollingUpdate":{"maxSurge":0,"maxUnavailable":"150%"}},)"));
  EXPECT_EQ(Causes(Validate(s, d)),
            (std::vector<std::string>{
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
                "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be "
                "greater than 100%"}));
}

TEST(DeploymentTest, SelectorExpressionsInRow) {
  const KindStrategy& s = S("apps", "Deployment");
  json::object d = Deployment(R"({"matchExpressions":[{"key":"b","operator":"DoesNotExist"},
      {"key":"a","operator":"Exists"},{"key":"c","operator":"NotIn","values":["z","y"]}]})",
                              R"({"a":"1"})");
  EXPECT_EQ(RowStrings(s, d)[7], "a,!b,c notin (y,z)");
  EXPECT_TRUE(Validate(s, Created(s, d)).empty());
  json::object bad = Created(
      s, Deployment(R"({"matchExpressions":[{"key":"a","operator":"In"}]})", R"({"a":"1"})"));
  EXPECT_THAT(
      Causes(Validate(s, bad)),
      ::testing::Contains("spec.selector.matchExpressions[0].values: Required value: must be "
                          "specified when `operator` is 'In' or 'NotIn'"));
}

TEST(ReplicaSetTest, RowAndFields) {
  const KindStrategy& s = S("apps", "ReplicaSet");
  json::object rs = Created(
      s, Deployment(R"({"matchLabels":{"app":"web"}})", R"({"app":"web"})", R"("replicas":3,)"));
  EXPECT_TRUE(Validate(s, rs).empty()) << ::testing::PrintToString(Causes(Validate(s, rs)));
  EXPECT_EQ(ColumnNames(s), (std::vector<std::string>{"Name", "Desired", "Current", "Ready", "Age",
                                                      "Containers*", "Images*", "Selector*"}));
  EXPECT_EQ(RowStrings(s, rs), (std::vector<std::string>{"web", "3", "3", "2", "60m", "nginx,log",
                                                         "nginx:1.25,busybox", "app=web"}));
  EXPECT_EQ(s.FieldValue(rs, "status.replicas"), "3");
}

// ---------------------------------------------------------------------------
// Config and secrets

TEST(ConfigMapTest, RowAndValidation) {
  const KindStrategy& s = S("", "ConfigMap");
  json::object cm =
      Obj(R"({"metadata":{"name":"cfg"},"data":{"a":"1","b.conf":"x"},"binaryData":{"c":"AAEC"}})");
  EXPECT_EQ(RowStrings(s, cm), (std::vector<std::string>{"cfg", "3", "<unknown>"}));
  EXPECT_TRUE(Validate(s, cm).empty());
  json::object bad = Obj(R"({"data":{"bad key":"1","c":"2"},"binaryData":{"c":"AA=="}})");
  EXPECT_EQ(Causes(Validate(s, bad)),
            (std::vector<std::string>{
                "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of "
                "alphanumeric "
                "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
                "regex used "
                "for validation is '[-._a-zA-Z0-9]+')",
                "data[c]: Invalid value: \"c\": duplicate of key present in binaryData"}));
  json::object big = Obj("{}");
  big["data"] =
      json::object{{"a", std::string(600 * 1024, 'x')}, {"b", std::string(600 * 1024, 'y')}};
  auto errors = Validate(s, big);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "FieldValueTooLong");
  EXPECT_EQ(errors[0].field, "");
}

TEST(SecretTest, StringDataTypeAndTls) {
  const KindStrategy& s = S("", "Secret");
  json::object secret = Created(
      s,
      Obj(R"({"metadata":{"name":"sec"},"data":{"a":"eA=="},"stringData":{"b":"hello","a":"y"}})"));
  EXPECT_FALSE(secret.contains("stringData"));
  EXPECT_EQ(secret["type"], "Opaque");
  EXPECT_EQ(secret["data"], json::parse(R"({"a":"eQ==","b":"aGVsbG8="})"));
  EXPECT_EQ(RowStrings(s, secret), (std::vector<std::string>{"sec", "Opaque", "2", "<unknown>"}));
  EXPECT_EQ(s.FieldValue(secret, "type"), "Opaque");

  json::object tls = Created(s, Obj(R"({"type":"kubernetes.io/tls","data":{"tls.crt":"eA=="}})"));
  EXPECT_EQ(Causes(Validate(s, tls)), (std::vector<std::string>{"data[tls.key]: Required value"}));

  json::object retyped = secret;
  retyped["type"] = "kubernetes.io/basic-auth";
  EXPECT_THAT(
      Causes(Validate(s, retyped, &secret)),
      ::testing::Contains("type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"));
}

// ---------------------------------------------------------------------------
// Namespaces, accounts, endpoints, leases, events

TEST(NamespaceTest, CreateAndValidate) {
  const KindStrategy& s = S("", "Namespace");
  json::object ns = Created(s, Obj(R"({"metadata":{"name":"team-a"}})"));
  EXPECT_EQ(ns["status"], json::parse(R"({"phase":"Active"})"));
  EXPECT_EQ(ns["spec"], json::parse(R"({"finalizers":["kubernetes"]})"));
  EXPECT_EQ(ns["metadata"].as_object()["labels"],
            json::parse(R"({"kubernetes.io/metadata.name":"team-a"})"));
  EXPECT_EQ(RowStrings(s, ns), (std::vector<std::string>{"team-a", "Active", "<unknown>"}));
  EXPECT_EQ(s.FieldValue(ns, "status.phase"), "Active");
  EXPECT_TRUE(Validate(s, ns).empty());

  json::object bad = Created(s, Obj(R"({"metadata":{"name":"Team.A"}})"));
  auto errors = Validate(s, bad);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "metadata.name");
  EXPECT_THAT(errors[0].message,
              StartsWith("Invalid value: \"Team.A\": a lowercase RFC 1123 label"));

  // The finalizer is added on create only, so that the namespace controller can remove it.
  json::object finalized = ns;
  finalized["spec"].as_object()["finalizers"] = json::array();
  s.ApplyDefaults(finalized);
  s.PrepareForUpdate(finalized, ns);
  EXPECT_TRUE(finalized["spec"].as_object()["finalizers"].as_array().empty());
}

TEST(ServiceAccountTest, Row) {
  EXPECT_EQ(RowStrings(S("", "ServiceAccount"),
                       Obj(R"({"metadata":{"name":"default"},"secrets":[{"name":"t"}]})")),
            (std::vector<std::string>{"default", "1", "<unknown>"}));
}

TEST(EndpointsTest, RowAndValidation) {
  const KindStrategy& s = S("", "Endpoints");
  json::object ep = Obj(R"({"metadata":{"name":"web"},"subsets":[
      {"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],"ports":[{"port":80}]},
      {"addresses":[{"ip":"10.0.0.3"},{"ip":"fd00::4"}],"ports":[{"port":8080}]}]})");
  EXPECT_EQ(RowStrings(s, ep)[1], "10.0.0.1:80,10.0.0.2:80,10.0.0.3:8080 + 1 more...");
  EXPECT_EQ(RowStrings(s, Obj(R"({"metadata":{"name":"x"}})"))[1], "<none>");
  s.ApplyDefaults(ep);
  EXPECT_TRUE(Validate(s, ep).empty()) << ::testing::PrintToString(Causes(Validate(s, ep)));
  json::object bad = Obj(
      R"({"subsets":[{"addresses":[{"ip":"127.0.0.1"}],"ports":[{"port":80,"protocol":"TCP"}]}]})");
  EXPECT_EQ(
      Causes(Validate(s, bad)),
      (std::vector<std::string>{"subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not "
                                "be in the loopback range (127.0.0.0/8, ::1/128)"}));
}

TEST(LeaseTest, RowAndValidation) {
  const KindStrategy& s = S("coordination.k8s.io", "Lease");
  json::object lease =
      Obj(R"({"metadata":{"name":"n1"},"spec":{"holderIdentity":"n1","leaseDurationSeconds":0}})");
  EXPECT_EQ(RowStrings(s, lease), (std::vector<std::string>{"n1", "n1", "<unknown>"}));
  EXPECT_EQ(Causes(Validate(s, lease)),
            (std::vector<std::string>{
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"}));
}

TEST(EventTest, RowFieldsAndValidation) {
  const KindStrategy& s = S("", "Event");
  EXPECT_EQ(ColumnNames(s),
            (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject*",
                                      "Source*", "Message", "First Seen*", "Count*", "Name*"}));
  json::object ev = Obj(R"({"metadata":{"name":"web.17a","namespace":"default"},
      "involvedObject":{"kind":"Pod","name":"web","namespace":"default","fieldPath":"spec.containers{nginx}"},
      "reason":"Pulled","message":"  Pulled image \"nginx\"\n","type":"Normal",
      "source":{"component":"kubelet","host":"n1"},
      "firstTimestamp":"2024-05-01T11:00:00Z","lastTimestamp":"2024-05-01T11:59:30Z","count":4})");
  EXPECT_EQ(
      RowStrings(s, ev),
      (std::vector<std::string>{"30s", "Normal", "Pulled", "pod/web", "spec.containers{nginx}",
                                "kubelet, n1", "Pulled image \"nginx\"", "60m", "4", "web.17a"}));
  EXPECT_EQ(s.FieldValue(ev, "involvedObject.name"), "web");
  EXPECT_EQ(s.FieldValue(ev, "source"), "kubelet");
  EXPECT_EQ(s.FieldValue(ev, "reason"), "Pulled");
  EXPECT_FALSE(s.FieldValue(ev, "involvedObject.bogus").has_value());
  EXPECT_TRUE(Validate(s, ev).empty());

  json::object series = Obj(
      R"({"metadata":{"name":"e","namespace":"default"},"involvedObject":{"kind":"Node","name":"n1"},
      "reportingComponent":"skiff-controller","eventTime":"2024-05-01T11:50:00.000000Z",
      "series":{"count":7,"lastObservedTime":"2024-05-01T11:59:00.000000Z"}})");
  auto row = RowStrings(s, series);
  EXPECT_EQ(row[0], "60s");
  EXPECT_EQ(row[3], "node/n1");
  EXPECT_EQ(row[5], "skiff-controller");
  EXPECT_EQ(row[7], "10m");
  EXPECT_EQ(row[8], "7");
  EXPECT_EQ(s.FieldValue(series, "source"), "skiff-controller");

  json::object mismatch =
      Obj(R"({"metadata":{"namespace":"a"},"involvedObject":{"kind":"Pod","namespace":"b"}})");
  EXPECT_EQ(Causes(Validate(s, mismatch)),
            (std::vector<std::string>{
                "involvedObject.namespace: Invalid value: \"b\": does not match event.namespace"}));
}

// Untrusted shapes never crash: wrong types are simply ignored by every hook.
TEST(StrategyRobustnessTest, WrongTypesDoNotCrash) {
  const char* docs[] = {
      R"({})", R"({"spec":5,"status":"x","metadata":[]})",
      R"({"spec":{"containers":[1,"a",null,{"ports":"x","resources":{"limits":5}}],
                            "ports":[7,{"port":"x"}],"selector":[],"template":3,"strategy":[]},
                            "subsets":[{"addresses":5}],"data":[],"involvedObject":"x"})"};
  for (const auto& [group, kind] :
       std::vector<std::pair<std::string, std::string>>{{"", "Pod"},
                                                        {"", "Service"},
                                                        {"", "Namespace"},
                                                        {"", "ConfigMap"},
                                                        {"", "Secret"},
                                                        {"", "Node"},
                                                        {"", "Event"},
                                                        {"", "ServiceAccount"},
                                                        {"", "Endpoints"},
                                                        {"coordination.k8s.io", "Lease"},
                                                        {"apps", "Deployment"},
                                                        {"apps", "ReplicaSet"}}) {
    const KindStrategy& s = S(group, kind);
    for (const char* doc : docs) {
      json::object obj = Obj(doc);
      json::object old = obj;
      s.ApplyDefaults(obj);
      s.PrepareForCreate(obj);
      s.PrepareForUpdate(obj, old);
      std::vector<StatusCause> errors;
      s.Validate(obj, nullptr, errors);
      s.Validate(obj, &old, errors);
      json::array cells;
      s.Row(obj, kCtx, cells);
      EXPECT_EQ(cells.size(), s.Columns().size()) << kind;
      (void)s.FieldValue(obj, "status.phase");
    }
  }
}

// ---------------------------------------------------------------------------
// HorizontalPodAutoscaler (autoscaling/v2)

TEST(HpaStrategyTest, DefaultsMetricAndBehavior) {
  const KindStrategy& s = S("autoscaling", "HorizontalPodAutoscaler");
  json::object hpa = Created(s, Obj(R"({"metadata":{"name":"a"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"maxReplicas":3,
            "behavior":{"scaleDown":{"stabilizationWindowSeconds":60}}}})"));
  EXPECT_EQ(
      json::serialize(hpa.at("spec").at("metrics")),
      R"([{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}])");
  EXPECT_EQ(
      json::serialize(hpa.at("spec").at("behavior").at("scaleUp")),
      R"({"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]})");
  EXPECT_EQ(
      json::serialize(hpa.at("spec").at("behavior").at("scaleDown")),
      R"({"stabilizationWindowSeconds":60,"selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}]})");
  EXPECT_EQ(json::serialize(hpa.at("status")), R"({"currentMetrics":null,"desiredReplicas":0})");
  EXPECT_TRUE(Validate(s, hpa).empty()) << ::testing::PrintToString(Causes(Validate(s, hpa)));
}

TEST(HpaStrategyTest, ValidatesReplicasAndReference) {
  const KindStrategy& s = S("autoscaling", "HorizontalPodAutoscaler");
  json::object hpa = Created(s, Obj(R"({"metadata":{"name":"a"},
    "spec":{"scaleTargetRef":{"kind":"","name":"a/b"},"minReplicas":0,"maxReplicas":0}})"));
  EXPECT_THAT(Causes(Validate(s, hpa)),
              ::testing::ElementsAre(
                  "spec.scaleTargetRef.kind: Required value",
                  "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
                  "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
                  "spec.maxReplicas: Invalid value: 0: must be greater than 0"));
  json::object inverted = Created(s, Obj(R"({"metadata":{"name":"a"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"minReplicas":5,"maxReplicas":2}})"));
  EXPECT_THAT(
      Causes(Validate(s, inverted)),
      ::testing::ElementsAre(
          "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"));
}

TEST(HpaStrategyTest, ValidatesMetricsAndBehavior) {
  const KindStrategy& s = S("autoscaling", "HorizontalPodAutoscaler");
  json::object hpa = Created(s, Obj(R"({"metadata":{"name":"a"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"maxReplicas":3,
      "metrics":[
        {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":-5}}},
        {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue"}}},
        {"type":"Pods"}],
      "behavior":{"scaleUp":{"stabilizationWindowSeconds":4000,
                             "policies":[{"type":"Nodes","value":0,"periodSeconds":2000}]}}}})"));
  EXPECT_THAT(
      Causes(Validate(s, hpa)),
      ::testing::ElementsAre(
          "spec.metrics[0].resource.target.averageUtilization: Invalid value: -5: must be greater "
          "than 0",
          "spec.metrics[1].resource.target.averageUtilization: Required value: must set either a "
          "target raw value or a target utilization",
          "spec.metrics[2].pods: Required value: must populate information for the given metric "
          "source",
          "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less "
          "than or equal to 3600",
          "spec.behavior.scaleUp.policies[0].type: Invalid value: \"Nodes\": must be either Pods "
          "or Percent",
          "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than "
          "or equal to 1800",
          "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero"));
}

TEST(HpaStrategyTest, TableShowsTargetsAsKubectlDoes) {
  const KindStrategy& s = S("autoscaling", "HorizontalPodAutoscaler");
  EXPECT_THAT(ColumnNames(s), ::testing::ElementsAre("Name", "Reference", "Targets", "MinPods",
                                                     "MaxPods", "Replicas", "Age"));
  json::object hpa = Obj(R"({"metadata":{"name":"web","creationTimestamp":"2024-05-01T11:00:00Z"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":10,
      "metrics":[
        {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}},
        {"type":"Pods","pods":{"metric":{"name":"x"},"target":{"type":"AverageValue","averageValue":"1k"}}},
        {"type":"External","external":{"metric":{"name":"q"},"target":{"type":"AverageValue","averageValue":"30"}}}]},
    "status":{"currentReplicas":2,"desiredReplicas":2,"currentMetrics":[
        {"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":12}}}]}})");
  EXPECT_THAT(RowStrings(s, hpa), ::testing::ElementsAre("web", "Deployment/web",
                                                         "cpu: 12%/80%, <unknown>/1k + 1 more...",
                                                         "1", "10", "2", "60m"));
  json::object fresh = Obj(R"({"metadata":{"name":"a"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"maxReplicas":3,
      "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]}})");
  EXPECT_EQ(RowStrings(s, fresh)[2], "cpu: <unknown>/80%");
  EXPECT_EQ(RowStrings(s, fresh)[3], "<unset>");
}

// ---------------------------------------------------------------------------
// CustomResourceDefinition (apiextensions.k8s.io/v1)

constexpr std::string_view kAppsCrd = R"({"metadata":{"name":"apps.foo.bar"},
  "spec":{"group":"foo.bar","scope":"Namespaced",
    "names":{"plural":"apps","kind":"App","shortNames":["ap"]},
    "versions":[{"name":"v1","served":true,"storage":true,
      "schema":{"openAPIV3Schema":{"type":"object","properties":{
        "spec":{"type":"object","properties":{"port":{"type":"integer"},"path":{"type":"string"}}}}}}}]}})";

TEST(CrdStrategyTest, DefaultsNamesAndPreparesStatus) {
  const KindStrategy& s = S("apiextensions.k8s.io", "CustomResourceDefinition");
  json::object crd = Created(s, Obj(kAppsCrd));
  EXPECT_EQ(crd.at("spec").at("names").at("singular"), "app");
  EXPECT_EQ(crd.at("spec").at("names").at("listKind"), "AppList");
  EXPECT_EQ(json::serialize(crd.at("status").at("storedVersions")), R"(["v1"])");
  EXPECT_EQ(json::serialize(crd.at("metadata").at("finalizers")),
            R"(["customresourcecleanup.apiextensions.k8s.io"])");
  EXPECT_TRUE(Validate(s, crd).empty()) << ::testing::PrintToString(Causes(Validate(s, crd)));
  EXPECT_THAT(ColumnNames(s), ::testing::ElementsAre("Name", "Created At"));
}

TEST(CrdStrategyTest, RejectsBadNamesVersionsAndCel) {
  const KindStrategy& s = S("apiextensions.k8s.io", "CustomResourceDefinition");
  json::object crd = Created(s, Obj(R"({"metadata":{"name":"apps.foo"},
    "spec":{"group":"foobar","scope":"Global","names":{"plural":"apps","kind":"App"},
      "versions":[
        {"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
           "x-kubernetes-validations":[{"rule":"self.x > 0"}],
           "properties":{"spec":{"properties":{"x":{"type":"integer"}}}}}}},
        {"name":"v2","served":true,"storage":true}]}})"));
  EXPECT_THAT(
      Causes(Validate(s, crd)),
      ::testing::ElementsAre(
          "metadata.name: Invalid value: \"apps.foo\": must be spec.names.plural+\".\"+spec.group",
          "spec.group: Invalid value: \"foobar\": should be a domain with at least one dot",
          "spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", "
          "\"Namespaced\"",
          "spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations: Forbidden: CEL "
          "validation "
          "rules (x-kubernetes-validations) are not supported by this server",
          "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not "
          "be "
          "empty for specified object fields",
          "spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required",
          "spec.versions: Invalid value: []v1.CustomResourceDefinitionVersion{...}: must have "
          "exactly "
          "one version marked as storage version"));
}

TEST(CrdStrategyTest, GroupAndScopeAreImmutable) {
  const KindStrategy& s = S("apiextensions.k8s.io", "CustomResourceDefinition");
  json::object old = Created(s, Obj(kAppsCrd));
  json::object changed = old;
  changed["spec"].as_object()["scope"] = "Cluster";
  EXPECT_THAT(Causes(Validate(s, changed, &old)),
              ::testing::ElementsAre("spec.scope: Invalid value: \"Cluster\": field is immutable"));
}

}  // namespace
}  // namespace skiff::api
