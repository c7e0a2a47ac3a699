// Strategies of PersistentVolume(Claim), ReplicationController, DaemonSet, StatefulSet,
// Job, CronJob, PodDisruptionBudget and PriorityClass: defaults, validation messages,
// immutable fields and table rows.
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
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// 2024-05-01T12:00:00Z
const StrategyContext kCtx{std::chrono::system_clock::time_point(std::chrono::seconds(1714564800))};

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

std::vector<std::string> Causes(const KindStrategy& s, const json::object& obj,
                                const json::object* old = nullptr) {
  std::vector<StatusCause> errors;
  s.Validate(obj, old, errors);
  std::vector<std::string> out;
  for (const StatusCause& c : errors) out.push_back(c.field + ": " + c.message);
  return out;
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

const KindStrategy& Strategy(std::string_view group, std::string_view kind) {
  return *StrategyFor(group, kind);
}

constexpr const char* kContainers =
    R"([{"name":"c","image":"busybox","terminationMessagePath":"/dev/termination-log",
        "terminationMessagePolicy":"File","imagePullPolicy":"Always"}])";

json::object JobObject(std::string_view spec_extra, std::string_view restart = "Never") {
  std::string text = R"({"metadata":{"name":"pi","namespace":"ns","uid":"u-1"},"spec":{)" +
                     std::string(spec_extra) + R"("template":{"spec":{"restartPolicy":")" +
                     std::string(restart) + R"(","dnsPolicy":"ClusterFirst","containers":)" +
                     kContainers + "}}}}";
  return Obj(text);
}

// ---------------------------------------------------------------------------
// Schemas

TEST(CatalogueASchemas, ResourcesAreDeclared) {
  auto loaded = SchemaRegistry::LoadBuiltin();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  const SchemaRegistry& reg = **loaded;
  struct Want {
    const char* group;
    const char* plural;
    const char* kind;
    bool namespaced;
    std::vector<std::string> short_names;
    std::vector<std::string> subresources;
  };
  const Want wants[] = {
      {"", "persistentvolumes", "PersistentVolume", false, {"pv"}, {"status"}},
      {"", "persistentvolumeclaims", "PersistentVolumeClaim", true, {"pvc"}, {"status"}},
      {"", "podtemplates", "PodTemplate", true, {}, {}},
      {"", "replicationcontrollers", "ReplicationController", true, {"rc"}, {"status", "scale"}},
      {"", "pods", "Pod", true, {"po"}, {"status", "binding", "eviction"}},
      {"", "namespaces", "Namespace", false, {"ns"}, {"status", "finalize"}},
      {"apps", "daemonsets", "DaemonSet", true, {"ds"}, {"status"}},
      {"apps", "statefulsets", "StatefulSet", true, {"sts"}, {"status", "scale"}},
      {"apps", "controllerrevisions", "ControllerRevision", true, {}, {}},
      {"batch", "jobs", "Job", true, {}, {"status"}},
      {"batch", "cronjobs", "CronJob", true, {"cj"}, {"status"}},
      {"policy", "poddisruptionbudgets", "PodDisruptionBudget", true, {"pdb"}, {"status"}},
      {"scheduling.k8s.io", "priorityclasses", "PriorityClass", false, {"pc"}, {}},
  };
  for (const Want& w : wants) {
    const ResourceDecl* found = nullptr;
    for (const ResourceDecl& r : reg.resources()) {
      if (r.group == w.group && r.plural == w.plural) found = &r;
    }
    ASSERT_NE(found, nullptr) << w.plural;
    EXPECT_EQ(found->kind, w.kind);
    EXPECT_EQ(found->namespaced, w.namespaced) << w.plural;
    EXPECT_EQ(found->short_names, w.short_names) << w.plural;
    EXPECT_EQ(found->subresources, w.subresources) << w.plural;
  }
  const Schema* eviction = reg.Find("io.k8s.api.policy.v1.Eviction");
  ASSERT_NE(eviction, nullptr);
  const Property* options = eviction->FindProperty("deleteOptions");
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(options->proto_number, 2);
  EXPECT_TRUE(options->pointer);
  const Property* completions =
      reg.Find("io.k8s.api.batch.v1.JobSpec")->FindProperty("completions");
  EXPECT_EQ(completions->proto_number, 2);
  EXPECT_TRUE(completions->pointer);
}

// ---------------------------------------------------------------------------
// Job

TEST(JobStrategy, CreateGeneratesSelectorLabelsAndDefaults) {
  const KindStrategy& s = Strategy("batch", "Job");
  json::object job = JobObject("");
  s.PrepareForCreate(job);
  s.ApplyDefaults(job);
  EXPECT_EQ(json::serialize(job.at("spec").at("selector")),
            R"({"matchLabels":{"batch.kubernetes.io/controller-uid":"u-1"}})");
  const json::object& labels =
      job.at("spec").at("template").at("metadata").at("labels").as_object();
  EXPECT_EQ(labels.at("controller-uid"), "u-1");
  EXPECT_EQ(labels.at("batch.kubernetes.io/controller-uid"), "u-1");
  EXPECT_EQ(labels.at("job-name"), "pi");
  EXPECT_EQ(labels.at("batch.kubernetes.io/job-name"), "pi");
  const json::object& spec = job.at("spec").as_object();
  EXPECT_EQ(spec.at("completions"), 1);
  EXPECT_EQ(spec.at("parallelism"), 1);
  EXPECT_EQ(spec.at("backoffLimit"), 6);
  EXPECT_EQ(spec.at("completionMode"), "NonIndexed");
  EXPECT_EQ(spec.at("suspend"), false);
  EXPECT_EQ(spec.at("manualSelector"), false);
  EXPECT_EQ(spec.at("podReplacementPolicy"), "TerminatingOrFailed");
  EXPECT_EQ(job.at("metadata").at("generation"), 1);
  EXPECT_THAT(Causes(s, job), IsEmpty());
}

TEST(JobStrategy, ParallelismAloneLeavesCompletionsUnset) {
  const KindStrategy& s = Strategy("batch", "Job");
  json::object job = JobObject(R"("parallelism":3,"backoffLimitPerIndex":1,)");
  s.ApplyDefaults(job);
  EXPECT_FALSE(job.at("spec").as_object().contains("completions"));
  EXPECT_EQ(job.at("spec").at("backoffLimit"), 2147483647);
}

TEST(JobStrategy, ValidationMessages) {
  const KindStrategy& s = Strategy("batch", "Job");
  json::object job = JobObject("", "Always");
  s.PrepareForCreate(job);
  s.ApplyDefaults(job);
  EXPECT_THAT(Causes(s, job),
              ElementsAre("spec.template.spec.restartPolicy: Required value: valid values: "
                          "\"OnFailure\", \"Never\""));

  json::object indexed = JobObject(R"("completionMode":"Indexed","parallelism":2,)");
  s.PrepareForCreate(indexed);
  s.ApplyDefaults(indexed);
  EXPECT_THAT(Causes(s, indexed),
              ElementsAre("spec.completions: Required value: when completion mode is Indexed"));

  json::object manual = JobObject(R"("selector":{"matchLabels":{"app":"x"}},)");
  s.PrepareForCreate(manual);
  s.ApplyDefaults(manual);
  EXPECT_THAT(Causes(s, manual), Contains(HasSubstr("`selector` not auto-generated")));

  json::object negative = JobObject(R"("backoffLimit":-1,)");
  s.PrepareForCreate(negative);
  s.ApplyDefaults(negative);
  EXPECT_THAT(
      Causes(s, negative),
      ElementsAre("spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0"));
}

TEST(JobStrategy, TemplateImmutableUnlessSuspendedAndNeverStarted) {
  const KindStrategy& s = Strategy("batch", "Job");
  json::object old = JobObject(R"("suspend":true,)");
  s.PrepareForCreate(old);
  s.ApplyDefaults(old);
  json::object scheduling = old;
  scheduling.at("spec").at("template").at("spec").as_object()["nodeSelector"] =
      json::object{{"disk", "ssd"}};
  EXPECT_THAT(Causes(s, scheduling, &old), IsEmpty());

  json::object image = old;
  image.at("spec").at("template").at("spec").at("containers").as_array()[0].as_object()["image"] =
      "busybox:2";
  EXPECT_THAT(Causes(s, image, &old), ElementsAre(HasSubstr("spec.template: Invalid value:")));
  EXPECT_THAT(Causes(s, image, &old), ElementsAre(HasSubstr("field is immutable")));

  json::object started = old;
  started["status"] = json::object{{"startTime", "2024-05-01T11:00:00Z"}};
  json::object moved = scheduling;
  EXPECT_THAT(Causes(s, moved, &started), ElementsAre(HasSubstr("spec.template")));

  json::object completions = old;
  completions.at("spec").as_object()["completions"] = 3;
  EXPECT_THAT(Causes(s, completions, &old),
              ElementsAre("spec.completions: Invalid value: 3: field is immutable"));
}

TEST(JobStrategy, Rows) {
  const KindStrategy& s = Strategy("batch", "Job");
  json::object job = Obj(R"({"metadata":{"name":"pi","creationTimestamp":"2024-05-01T11:00:00Z"},
      "spec":{"completions":2,"selector":{"matchLabels":{"a":"b"}},
              "template":{"spec":{"containers":[{"name":"c","image":"perl"}]}}},
      "status":{"succeeded":2,"startTime":"2024-05-01T11:00:00Z","completionTime":"2024-05-01T11:02:05Z",
                "conditions":[{"type":"Complete","status":"True"}]}})");
  EXPECT_THAT(RowStrings(s, job),
              ElementsAre("pi", "Complete", "2/2", "2m5s", "60m", "c", "perl", "a=b"));
  json::object parallel = Obj(R"({"metadata":{"name":"p"},"spec":{"parallelism":3}})");
  EXPECT_EQ(RowStrings(s, parallel)[2], "0/1 of 3");
  EXPECT_EQ(RowStrings(s, parallel)[1], "Running");
}

// ---------------------------------------------------------------------------
// CronJob

json::object CronJobObject(std::string_view schedule, std::string_view extra = "") {
  std::string text = R"({"metadata":{"name":"hello"},"spec":{"schedule":")" +
                     std::string(schedule) + "\"," + std::string(extra) +
                     R"("concurrencyPolicy":"Allow","jobTemplate":{"spec":{"template":{"spec":{
                     "restartPolicy":"OnFailure","dnsPolicy":"ClusterFirst","containers":)" +
                     kContainers + "}}}}}}";
  return Obj(text);
}

TEST(CronJobStrategy, ScheduleAndTimeZone) {
  const KindStrategy& s = Strategy("batch", "CronJob");
  EXPECT_THAT(Causes(s, CronJobObject("*/5 * * * *")), IsEmpty());
  EXPECT_THAT(Causes(s, CronJobObject("* * *")),
              ElementsAre("spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, "
                          "found 3: [* * *]"));
  EXPECT_THAT(Causes(s, CronJobObject("CRON_TZ=UTC 0 * * * *")),
              ElementsAre("spec.schedule: Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ "
                          "or CRON_TZ in schedule, use timeZone field instead"));
  EXPECT_THAT(Causes(s, CronJobObject("0 * * * *", R"("timeZone":"Nowhere/Land",)")),
              ElementsAre("spec.timeZone: Invalid value: \"Nowhere/Land\": unknown time zone "
                          "Nowhere/Land"));
  EXPECT_THAT(Causes(s, CronJobObject("0 * * * *", R"("timeZone":"Local",)")),
              ElementsAre("spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit "
                          "time zone as defined in https://www.iana.org/time-zones"));
  EXPECT_THAT(Causes(s, CronJobObject("0 * * * *", R"("timeZone":"",)")),
              ElementsAre("spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty "
                          "string"));
  json::object long_name = CronJobObject("0 * * * *");
  long_name.at("metadata").as_object()["name"] = std::string(53, 'a');
  EXPECT_THAT(Causes(s, long_name), ElementsAre(HasSubstr("must be no more than 52 characters")));
}

TEST(CronJobStrategy, Row) {
  const KindStrategy& s = Strategy("batch", "CronJob");
  json::object cj = CronJobObject("0 * * * *", R"("suspend":false,)");
  EXPECT_THAT(RowStrings(s, cj), ElementsAre("hello", "0 * * * *", "<none>", "False", "0", "<none>",
                                             "<unknown>", "c", "busybox", "<none>"));
}

// ---------------------------------------------------------------------------
// StatefulSet and DaemonSet

json::object StatefulSetObject() {
  json::object sts = Obj(R"({"metadata":{"name":"web"},"spec":{"serviceName":"nginx",
      "selector":{"matchLabels":{"app":"nginx"}},
      "template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"restartPolicy":"Always",
        "containers":[{"name":"nginx","image":"nginx"}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"]}}]}})");
  Strategy("apps", "StatefulSet").ApplyDefaults(sts);
  return sts;
}

TEST(StatefulSetStrategy, DefaultsAndForbiddenUpdates) {
  const KindStrategy& s = Strategy("apps", "StatefulSet");
  json::object sts = StatefulSetObject();
  sts.at("spec").as_object()["podManagementPolicy"] = "OrderedReady";
  sts.at("spec").as_object()["persistentVolumeClaimRetentionPolicy"] =
      json::object{{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}};
  EXPECT_EQ(json::serialize(sts.at("spec").at("updateStrategy")),
            R"({"type":"RollingUpdate","rollingUpdate":{"partition":0}})");
  const json::object& claim = sts.at("spec").at("volumeClaimTemplates").as_array()[0].as_object();
  EXPECT_EQ(claim.at("kind"), "PersistentVolumeClaim");
  EXPECT_EQ(claim.at("status").at("phase"), "Pending");
  EXPECT_THAT(Causes(s, sts), IsEmpty());

  json::object scaled = sts;
  scaled.at("spec").as_object()["replicas"] = 5;
  EXPECT_THAT(Causes(s, scaled, &sts), IsEmpty());
  json::object renamed = sts;
  renamed.at("spec").as_object()["serviceName"] = "other";
  EXPECT_THAT(Causes(s, renamed, &sts),
              ElementsAre("spec: Forbidden: updates to statefulset spec for fields other than "
                          "'replicas', 'ordinals', 'template', 'updateStrategy', "
                          "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                          "'minReadySeconds' are forbidden"));
  json::object bad_policy = sts;
  bad_policy.at("spec").as_object()["podManagementPolicy"] = "Sequential";
  EXPECT_THAT(Causes(s, bad_policy),
              ElementsAre("spec.podManagementPolicy: Invalid value: \"Sequential\": must be "
                          "'OrderedReady' or 'Parallel'"));
}

TEST(DaemonSetStrategy, DefaultsRulesAndImmutableSelector) {
  const KindStrategy& s = Strategy("apps", "DaemonSet");
  json::object ds = Obj(R"({"metadata":{"name":"agent"},"spec":{
      "selector":{"matchLabels":{"name":"agent"}},
      "template":{"metadata":{"labels":{"name":"agent"}},"spec":{"containers":[{"name":"a","image":"busybox"}]}}}})");
  s.ApplyDefaults(ds);
  EXPECT_EQ(json::serialize(ds.at("spec").at("updateStrategy")),
            R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}})");
  EXPECT_THAT(Causes(s, ds), IsEmpty());
  json::object both = ds;
  both.at("spec").at("updateStrategy").at("rollingUpdate").as_object()["maxSurge"] = 1;
  EXPECT_THAT(Causes(s, both),
              ElementsAre("spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "
                          "intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when "
                          "maxUnavailable is non-zero"));
  json::object moved = ds;
  moved.at("spec").at("selector").at("matchLabels").as_object()["name"] = "x";
  moved.at("spec").at("template").at("metadata").at("labels").as_object()["name"] = "x";
  EXPECT_THAT(Causes(s, moved, &ds),
              ElementsAre(HasSubstr("spec.selector: Invalid value: "
                                    "v1.LabelSelector{MatchLabels:map[string]"
                                    "string{\"name\":\"x\"}")));
}

// ---------------------------------------------------------------------------
// PersistentVolume and PersistentVolumeClaim

TEST(PersistentVolumeStrategy, OneSourceAccessModesAndImmutableSource) {
  const KindStrategy& s = Strategy("", "PersistentVolume");
  json::object pv = Obj(R"({"metadata":{"name":"pv1"},"spec":{"capacity":{"storage":"1Gi"},
      "accessModes":["ReadWriteOnce"],"hostPath":{"path":"/data"},"persistentVolumeReclaimPolicy":"Retain"}})");
  s.PrepareForCreate(pv);
  EXPECT_EQ(pv.at("status").at("phase"), "Pending");
  EXPECT_THAT(Causes(s, pv), IsEmpty());
  json::object two = pv;
  two.at("spec").as_object()["nfs"] = json::object{{"server", "s"}, {"path", "/x"}};
  EXPECT_THAT(Causes(s, two),
              ElementsAre("spec.nfs: Forbidden: may not specify more than 1 volume type"));
  json::object rwop = pv;
  rwop.at("spec").as_object()["accessModes"] = json::array{"ReadWriteOncePod", "ReadOnlyMany"};
  EXPECT_THAT(Causes(s, rwop), ElementsAre("spec.accessModes: Forbidden: may not use "
                                           "ReadWriteOncePod with other access modes"));
  json::object moved = pv;
  moved.at("spec").at("hostPath").as_object()["path"] = "/other";
  EXPECT_THAT(Causes(s, moved, &pv),
              ElementsAre("spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is "
                          "immutable after creation"));
  pv.at("spec").as_object()["claimRef"] = json::object{{"namespace", "ns"}, {"name", "c"}};
  pv.at("spec").as_object()["accessModes"] = json::array{"ReadWriteMany", "ReadWriteOnce"};
  std::vector<std::string> row = RowStrings(s, pv);
  EXPECT_THAT(std::vector<std::string>(row.begin(), row.begin() + 9),
              ElementsAre("pv1", "1Gi", "RWO,RWX", "Retain", "Pending", "ns/c", "", "<unset>", ""));
}

TEST(PersistentVolumeClaimStrategy, SpecImmutableButBoundClaimsGrow) {
  const KindStrategy& s = Strategy("", "PersistentVolumeClaim");
  json::object pvc = Obj(R"({"metadata":{"name":"c"},"spec":{"accessModes":["ReadWriteOnce"],
      "resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"},"status":{"phase":"Pending"}})");
  EXPECT_THAT(Causes(s, pvc), IsEmpty());
  json::object grown = pvc;
  grown.at("spec").at("resources").at("requests").as_object()["storage"] = "2Gi";
  EXPECT_THAT(Causes(s, grown, &pvc),
              ElementsAre("spec: Forbidden: spec is immutable after creation except "
                          "resources.requests for bound claims"));
  json::object bound = pvc;
  bound["status"] =
      json::object{{"phase", "Bound"}, {"capacity", json::object{{"storage", "1Gi"}}}};
  json::object bound_grown = grown;
  bound_grown["status"] = bound["status"];
  EXPECT_THAT(Causes(s, bound_grown, &bound), IsEmpty());
  json::object shrunk = bound;
  shrunk.at("spec").at("resources").at("requests").as_object()["storage"] = "500Mi";
  EXPECT_THAT(Causes(s, shrunk, &bound_grown),
              ElementsAre("spec.resources.requests.storage: Forbidden: field can not be less than "
                          "status.capacity"));
  json::object named = pvc;
  named.at("spec").as_object()["volumeName"] = "pv1";
  EXPECT_THAT(Causes(s, named, &pvc), IsEmpty());
}

// ---------------------------------------------------------------------------
// PodDisruptionBudget, PriorityClass, ReplicationController

TEST(PodDisruptionBudgetStrategy, RulesAndRow) {
  const KindStrategy& s = Strategy("policy", "PodDisruptionBudget");
  json::object pdb = Obj(R"({"metadata":{"name":"zk"},"spec":{"minAvailable":"50%",
      "selector":{"matchLabels":{"app":"zk"}}},"status":{"disruptionsAllowed":1}})");
  EXPECT_THAT(Causes(s, pdb), IsEmpty());
  EXPECT_THAT(RowStrings(s, pdb), ElementsAre("zk", "50%", "N/A", "1", "<unknown>"));
  json::object both = pdb;
  both.at("spec").as_object()["maxUnavailable"] = 1;
  EXPECT_THAT(Causes(s, both),
              ElementsAre(HasSubstr("minAvailable and maxUnavailable cannot be both set")));
  json::object bad = pdb;
  bad.at("spec").as_object()["minAvailable"] = "half";
  EXPECT_THAT(Causes(s, bad), ElementsAre(HasSubstr("a valid percent string must be")));
}

TEST(PriorityClassStrategy, ReservedNamesCeilingAndImmutableValue) {
  const KindStrategy& s = Strategy("scheduling.k8s.io", "PriorityClass");
  json::object pc =
      Obj(R"({"metadata":{"name":"high"},"value":1000,"preemptionPolicy":"PreemptLowerPriority"})");
  EXPECT_THAT(Causes(s, pc), IsEmpty());
  json::object system = Obj(R"({"metadata":{"name":"system-node-critical"},"value":2000001000})");
  EXPECT_THAT(Causes(s, system), IsEmpty());
  json::object wrong = Obj(R"({"metadata":{"name":"system-node-critical"},"value":5})");
  EXPECT_THAT(Causes(s, wrong),
              ElementsAre("metadata.name: Forbidden: priority class names with 'system-' prefix "
                          "are reserved for system use only. error: value of system-node-critical "
                          "PriorityClass must be 2000001000"));
  json::object changed = pc;
  changed["value"] = 7;
  EXPECT_THAT(Causes(s, changed, &pc),
              ElementsAre("value: Forbidden: may not be changed in an update."));
}

TEST(ReplicationControllerStrategy, DefaultsFromTemplate) {
  const KindStrategy& s = Strategy("", "ReplicationController");
  json::object rc =
      Obj(R"({"metadata":{"name":"nginx"},"spec":{"template":{"metadata":{"labels":{"app":"nginx"}},
      "spec":{"containers":[{"name":"nginx","image":"nginx"}]}}}})");
  s.ApplyDefaults(rc);
  EXPECT_EQ(json::serialize(rc.at("spec").at("selector")), R"({"app":"nginx"})");
  EXPECT_EQ(json::serialize(rc.at("metadata").at("labels")), R"({"app":"nginx"})");
  EXPECT_EQ(rc.at("spec").at("replicas"), 1);
  EXPECT_THAT(Causes(s, rc), IsEmpty());
  EXPECT_THAT(RowStrings(s, rc),
              ElementsAre("nginx", "1", "0", "0", "<unknown>", "nginx", "nginx", "app=nginx"));
}

}  // namespace
}  // namespace skiff::api
