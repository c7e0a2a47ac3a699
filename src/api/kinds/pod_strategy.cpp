// Pod: PodSpec defaults and validation, phase Pending and the QoS class on create,
// the narrow set of spec changes an update may make, and the `kubectl get pods`
// table (READY, STATUS as kubectl computes it, RESTARTS with "(5m ago)").
#include <algorithm>
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;
using TimePoint = std::chrono::system_clock::time_point;

constexpr std::string_view kUpdatableFields =
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
    "negative)";

const json::object& EmptyObject() {
  static const json::object kEmpty;
  return kEmpty;
}

const json::object& ObjOr(const json::object* o) { return o ? *o : EmptyObject(); }

// ---------------------------------------------------------------------------
// Table

bool HasCondition(const json::object& status, std::string_view type) {
  const json::array* conditions = FindArr(status, {"conditions"});
  if (!conditions) return false;
  for (const json::value& cv : *conditions) {
    const json::object* c = cv.if_object();
    if (c && FindStr(*c, {"type"}) == type && FindStr(*c, {"status"}) == "True") return true;
  }
  return false;
}

bool IsRestartableInit(const json::object& spec, std::string_view name) {
  const json::array* init = FindArr(spec, {"initContainers"});
  if (!init) return false;
  for (const json::value& cv : *init) {
    const json::object* c = cv.if_object();
    if (c && FindStr(*c, {"name"}) == name) return FindStr(*c, {"restartPolicy"}) == "Always";
  }
  return false;
}

// The later of `current` and the container's last termination time.
void TrackLastRestart(const json::object& container_status, std::optional<TimePoint>& current) {
  std::string_view finished = FindStr(container_status, {"lastState", "terminated", "finishedAt"});
  if (!FindObj(container_status, {"lastState", "terminated"})) return;
  auto t = ParseTimestamp(finished);
  if (t && (!current || *t > *current)) current = t;
}

// Restart counts are int32 in the API; clamping keeps sums of hostile values defined.
int64_t ClampedCount(std::optional<int64_t> n) {
  return std::clamp<int64_t>(n.value_or(0), 0, 2147483647);
}

struct PodSummary {
  int ready = 0;
  int total = 0;
  std::string reason;
  int64_t restarts = 0;
  std::optional<TimePoint> last_restart;
};

// kubectl's pod printer: the STATUS column is the first thing that explains why the
// pod is not simply Running, looking at init containers first, then containers from
// the last to the first.
PodSummary SummarizePod(const json::object& pod) {
  const json::object& spec = ObjOr(FindObj(pod, {"spec"}));
  const json::object& status = ObjOr(FindObj(pod, {"status"}));
  PodSummary s;
  s.total = static_cast<int>(CountAt(spec, {"containers"}));
  std::string_view phase = FindStr(status, {"phase"});
  s.reason = std::string(phase);
  if (std::string_view r = FindStr(status, {"reason"}); !r.empty()) s.reason = r;
  if (const json::array* conditions = FindArr(status, {"conditions"})) {
    for (const json::value& cv : *conditions) {
      const json::object* c = cv.if_object();
      if (c && FindStr(*c, {"type"}) == "PodScheduled" &&
          FindStr(*c, {"reason"}) == "SchedulingGated") {
        s.reason = "SchedulingGated";
      }
    }
  }
  size_t init_count = CountAt(spec, {"initContainers"});
  if (const json::array* init = FindArr(spec, {"initContainers"})) {
    for (const json::value& cv : *init) {
      const json::object* c = cv.if_object();
      if (c && FindStr(*c, {"restartPolicy"}) == "Always") ++s.total;
    }
  }

  int64_t sidecar_restarts = 0;
  std::optional<TimePoint> sidecar_last_restart;
  bool initializing = false;
  if (const json::array* init_statuses = FindArr(status, {"initContainerStatuses"})) {
    for (size_t i = 0; i < init_statuses->size(); ++i) {
      const json::object* cs = (*init_statuses)[i].if_object();
      if (!cs) continue;
      int64_t restarts = ClampedCount(FindInt(*cs, {"restartCount"}));
      s.restarts += restarts;
      TrackLastRestart(*cs, s.last_restart);
      bool sidecar = IsRestartableInit(spec, FindStr(*cs, {"name"}));
      if (sidecar) {
        sidecar_restarts += restarts;
        TrackLastRestart(*cs, sidecar_last_restart);
      }
      const json::object* terminated = FindObj(*cs, {"state", "terminated"});
      const json::object* waiting = FindObj(*cs, {"state", "waiting"});
      if (terminated && FindInt(*terminated, {"exitCode"}).value_or(0) == 0) continue;
      if (sidecar && FindBool(*cs, {"started"})) {
        if (FindBool(*cs, {"ready"})) ++s.ready;
        continue;
      }
      if (terminated) {
        std::string_view reason = FindStr(*terminated, {"reason"});
        if (reason.empty()) {
          int64_t signal = FindInt(*terminated, {"signal"}).value_or(0);
          s.reason = signal != 0
                         ? "Init:Signal:" + std::to_string(signal)
                         : "Init:ExitCode:" +
                               std::to_string(FindInt(*terminated, {"exitCode"}).value_or(0));
        } else {
          s.reason = "Init:" + std::string(reason);
        }
      } else if (waiting && !FindStr(*waiting, {"reason"}).empty() &&
                 FindStr(*waiting, {"reason"}) != "PodInitializing") {
        s.reason = "Init:" + std::string(FindStr(*waiting, {"reason"}));
      } else {
        s.reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_count);
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || HasCondition(status, "Initialized")) {
    s.restarts = sidecar_restarts;
    s.last_restart = sidecar_last_restart;
    bool has_running = false;
    if (const json::array* statuses = FindArr(status, {"containerStatuses"})) {
      for (size_t k = statuses->size(); k-- > 0;) {
        const json::object* cs = (*statuses)[k].if_object();
        if (!cs) continue;
        s.restarts += ClampedCount(FindInt(*cs, {"restartCount"}));
        TrackLastRestart(*cs, s.last_restart);
        const json::object* waiting = FindObj(*cs, {"state", "waiting"});
        const json::object* terminated = FindObj(*cs, {"state", "terminated"});
        if (waiting && !FindStr(*waiting, {"reason"}).empty()) {
          s.reason = FindStr(*waiting, {"reason"});
        } else if (terminated && !FindStr(*terminated, {"reason"}).empty()) {
          s.reason = FindStr(*terminated, {"reason"});
        } else if (terminated) {
          int64_t signal = FindInt(*terminated, {"signal"}).value_or(0);
          s.reason =
              signal != 0
                  ? "Signal:" + std::to_string(signal)
                  : "ExitCode:" + std::to_string(FindInt(*terminated, {"exitCode"}).value_or(0));
        } else if (FindBool(*cs, {"ready"}) && FindObj(*cs, {"state", "running"})) {
          has_running = true;
          ++s.ready;
        }
      }
    }
    if (s.reason == "Completed" && has_running) {
      s.reason = HasCondition(status, "Ready") ? "Running" : "NotReady";
    }
  }

  bool deleting = !FindStr(pod, {"metadata", "deletionTimestamp"}).empty();
  if (deleting && FindStr(status, {"reason"}) == "NodeLost") {
    s.reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    s.reason = "Terminating";
  }
  return s;
}

std::string PodIp(const json::object& pod) {
  if (const json::array* ips = FindArr(pod, {"status", "podIPs"}); ips && !ips->empty()) {
    if (const json::object* first = (*ips)[0].if_object())
      return std::string(FindStr(*first, {"ip"}));
    return {};
  }
  return std::string(FindStr(pod, {"status", "podIP"}));
}

std::string OrNone(std::string_view s) { return s.empty() ? "<none>" : std::string(s); }

std::string ReadinessGatesCell(const json::object& pod) {
  const json::array* gates = FindArr(pod, {"spec", "readinessGates"});
  if (!gates || gates->empty()) return "<none>";
  const json::array* conditions = FindArr(pod, {"status", "conditions"});
  int true_conditions = 0;
  for (const json::value& gv : *gates) {
    const json::object* g = gv.if_object();
    std::string_view type = g ? FindStr(*g, {"conditionType"}) : std::string_view();
    if (!conditions) continue;
    for (const json::value& cv : *conditions) {
      const json::object* c = cv.if_object();
      if (!c || FindStr(*c, {"type"}) != type) continue;
      if (FindStr(*c, {"status"}) == "True") ++true_conditions;
      break;
    }
  }
  return std::to_string(true_conditions) + "/" + std::to_string(gates->size());
}

// ---------------------------------------------------------------------------
// Update rules

bool ValidateContainerUpdates(const json::object& spec, const json::object& old_spec,
                              std::string_view list, FieldErrors& errs) {
  std::string path = Child("spec", list);
  size_t n = CountAt(spec, {list});
  if (n != CountAt(old_spec, {list})) {
    errs.Forbidden(path, "pod updates may not add or remove containers");
    return false;
  }
  const json::array* containers = FindArr(spec, {list});
  for (size_t i = 0; containers && i < containers->size(); ++i) {
    const json::object* c = (*containers)[i].if_object();
    std::string_view image = c ? FindStr(*c, {"image"}) : std::string_view();
    if (image.empty()) errs.Required(Child(Index(path, i), "image"));
    auto is_space = [](char ch) {
      return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
    };
    if (!image.empty() && (is_space(image.front()) || is_space(image.back()))) {
      errs.InvalidString(Child(Index(path, i), "image"), image,
                         "must not have leading or trailing whitespace");
    }
  }
  return true;
}

bool SameExceptSeconds(const json::value& old_toleration, const json::value& new_toleration) {
  const json::object* a = old_toleration.if_object();
  const json::object* b = new_toleration.if_object();
  if (!a || !b) return SemanticEqual(old_toleration, new_toleration);
  json::object x = *a;
  json::object y = *b;
  x.erase("tolerationSeconds");
  y.erase("tolerationSeconds");
  return SemanticEqual(x, y);
}

// A rough "what changed" listing, in the spirit of the diff Kubernetes appends.
std::string SpecDiff(const json::object& old_spec, const json::object& new_spec) {
  std::string out = "  core.PodSpec{\n";
  auto line = [&](char sign, std::string_view key, const json::value* v) {
    out += sign;
    out += " \t";
    out += key;
    out += ": ";
    out += v ? json::serialize(*v) : std::string("null");
    out += ",\n";
  };
  for (const auto& kv : old_spec) {
    const json::value* now = new_spec.if_contains(kv.key());
    if (SemanticEqualMember(&kv.value(), now)) continue;
    line('-', kv.key(), &kv.value());
    if (now) line('+', kv.key(), now);
  }
  for (const auto& kv : new_spec) {
    if (old_spec.contains(kv.key()) || SemanticEqualMember(&kv.value(), nullptr)) continue;
    line('+', kv.key(), &kv.value());
  }
  return out + "  }\n";
}

void ValidatePodUpdate(const json::object& pod, const json::object& old, FieldErrors& errs) {
  const json::object& spec = ObjOr(FindObj(pod, {"spec"}));
  const json::object& old_spec = ObjOr(FindObj(old, {"spec"}));
  if (!ValidateContainerUpdates(spec, old_spec, "containers", errs)) return;
  if (!ValidateContainerUpdates(spec, old_spec, "initContainers", errs)) return;

  auto deadline = FindInt(spec, {"activeDeadlineSeconds"});
  auto old_deadline = FindInt(old_spec, {"activeDeadlineSeconds"});
  if (deadline) {
    if (*deadline < 0 || *deadline > 2147483647) {
      errs.InvalidInt("spec.activeDeadlineSeconds", *deadline,
                      "must be between 0 and 2147483647, inclusive");
      return;
    }
    if (old_deadline && *old_deadline < *deadline) {
      errs.InvalidInt("spec.activeDeadlineSeconds", *deadline,
                      "must be less than or equal to previous value");
      return;
    }
  } else if (old_deadline) {
    errs.Invalid("spec.activeDeadlineSeconds", "null",
                 "must not update from a positive integer to nil value");
  }

  // Tolerations: existing ones may only change their tolerationSeconds.
  const json::array* tolerations = FindArr(spec, {"tolerations"});
  if (const json::array* old_tolerations = FindArr(old_spec, {"tolerations"})) {
    for (const json::value& ot : *old_tolerations) {
      bool found = false;
      for (size_t i = 0; tolerations && i < tolerations->size() && !found; ++i) {
        found = SameExceptSeconds(ot, (*tolerations)[i]);
      }
      if (!found) {
        errs.Forbidden("spec.tolerations",
                       "existing toleration can not be modified except its tolerationSeconds");
        break;
      }
    }
  }

  // Scheduling gates may only be removed.
  if (const json::array* gates = FindArr(spec, {"schedulingGates"})) {
    const json::array* old_gates = FindArr(old_spec, {"schedulingGates"});
    for (size_t i = 0; i < gates->size(); ++i) {
      const json::object* g = (*gates)[i].if_object();
      std::string_view name = g ? FindStr(*g, {"name"}) : std::string_view();
      bool existed = false;
      for (size_t k = 0; old_gates && k < old_gates->size(); ++k) {
        const json::object* og = (*old_gates)[k].if_object();
        if (og && FindStr(*og, {"name"}) == name) existed = true;
      }
      if (!existed) {
        errs.Forbidden(
            Child(Index("spec.schedulingGates", i), "name"),
            "only deletion is allowed, but found new scheduling gate '" + std::string(name) + "'");
      }
    }
  }

  if (SemanticEqual(spec, old_spec)) return;

  // Put back every field an update may change; anything still different is forbidden.
  json::object munged = spec;
  for (std::string_view list : {"containers", "initContainers"}) {
    json::array* containers = FindMutArr(munged, {list});
    const json::array* old_containers = FindArr(old_spec, {list});
    for (size_t i = 0;
         containers && old_containers && i < containers->size() && i < old_containers->size();
         ++i) {
      json::object* c = (*containers)[i].if_object();
      const json::object* oc = (*old_containers)[i].if_object();
      if (!c || !oc) continue;
      if (const json::value* image = oc->if_contains("image")) {
        (*c)["image"] = *image;
      } else {
        c->erase("image");
      }
    }
  }
  for (std::string_view f : {"activeDeadlineSeconds", "schedulingGates", "tolerations"}) {
    if (const json::value* v = old_spec.if_contains(f)) {
      munged[f] = *v;
    } else {
      munged.erase(f);
    }
  }
  auto old_grace = FindInt(old_spec, {"terminationGracePeriodSeconds"});
  auto new_grace = FindInt(munged, {"terminationGracePeriodSeconds"});
  if (old_grace && *old_grace < 0 && new_grace && *new_grace == 1) {
    munged["terminationGracePeriodSeconds"] = *old_grace;
  }
  // A pod still gated from scheduling may gain node selector entries.
  if (CountAt(old_spec, {"schedulingGates"}) > 0) {
    const json::object* selector = FindObj(munged, {"nodeSelector"});
    const json::object& old_selector = ObjOr(FindObj(old_spec, {"nodeSelector"}));
    bool only_additions = true;
    for (const auto& kv : old_selector) {
      const json::value* now = selector ? selector->if_contains(kv.key()) : nullptr;
      if (!now || !SemanticEqual(*now, kv.value())) only_additions = false;
    }
    if (only_additions) {
      if (const json::value* v = old_spec.if_contains("nodeSelector")) {
        munged["nodeSelector"] = *v;
      } else {
        munged.erase("nodeSelector");
      }
    }
  }
  if (!SemanticEqual(munged, old_spec)) {
    errs.Forbidden("spec", "pod updates may not change fields other than " +
                               std::string(kUpdatableFields) + "\n" + SpecDiff(old_spec, munged));
  }
}

class PodStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    if (json::object* spec = FindMutObj(obj, {"spec"})) {
      ApplyPodSpecDefaults(*spec, PodSpecOwner::kPod);
      // ServiceAccount admission: a pod runs as "default" unless it names an account; the
      // deprecated serviceAccount field mirrors serviceAccountName, as v1 conversion does.
      std::string account(FindStr(*spec, {"serviceAccountName"}));
      if (account.empty()) account = std::string(FindStr(*spec, {"serviceAccount"}));
      if (account.empty()) account = "default";
      (*spec)["serviceAccountName"] = account;
      (*spec)["serviceAccount"] = account;
    }
  }

  void PrepareForCreate(json::object& obj) const override {
    // Computed before inserting into obj, which may move its members.
    const json::object& spec = ObjOr(FindObj(obj, {"spec"}));
    std::string qos = PodQosClass(spec);
    bool gated = CountAt(spec, {"schedulingGates"}) > 0;
    json::value& status_value = obj["status"];
    if (!status_value.is_object()) status_value = json::object();
    json::object& status = status_value.get_object();
    if (IsUnsetString(status, "phase")) status["phase"] = "Pending";
    if (IsUnsetString(status, "qosClass")) status["qosClass"] = qos;
    if (gated) {
      json::value& conditions = status["conditions"];
      if (!conditions.is_array()) conditions = json::array();
      bool has_scheduled = false;
      for (const json::value& cv : conditions.get_array()) {
        const json::object* c = cv.if_object();
        if (c && FindStr(*c, {"type"}) == "PodScheduled") has_scheduled = true;
      }
      if (!has_scheduled) {
        conditions.get_array().push_back(
            json::object{{"type", "PodScheduled"},
                         {"status", "False"},
                         {"reason", "SchedulingGated"},
                         {"message", "Scheduling is blocked due to non-empty scheduling gates"}});
      }
    }
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    ValidatePodSpec(ObjOr(FindObj(obj, {"spec"})), "spec", errs);
    if (old) ValidatePodUpdate(obj, *old, errs);
  }

  std::optional<std::string> FieldValue(const json::object& obj,
                                        std::string_view field) const override {
    if (field == "spec.nodeName" || field == "spec.restartPolicy" ||
        field == "spec.schedulerName" || field == "spec.serviceAccountName") {
      return std::string(FindStr(obj, {"spec", field.substr(5)}));
    }
    if (field == "spec.hostNetwork")
      return FindBool(obj, {"spec", "hostNetwork"}) ? "true" : "false";
    if (field == "status.phase") return std::string(FindStr(obj, {"status", "phase"}));
    if (field == "status.podIP") return PodIp(obj);
    if (field == "status.nominatedNodeName") {
      return std::string(FindStr(obj, {"status", "nominatedNodeName"}));
    }
    return std::nullopt;
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
         0},
        {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
        {"Restarts", "string", "",
         "The number of times the containers in this pod have been restarted and when the last "
         "container in this pod has restarted.",
         0},
        AgeColumn(),
        {"IP", "string", "",
         "podIP address allocated to the pod. Routable at least within the cluster. Empty if not "
         "yet allocated.",
         1},
        {"Node", "string", "",
         "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
         "candidate for scheduling by the scheduler defined in schedulerName. Once this field is "
         "set, the kubelet for this node becomes responsible for the lifecycle of this pod. This "
         "field should not be used to express a desire for the pod to be scheduled on a specific "
         "node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
         1},
        {"Nominated Node", "string", "",
         "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
         "cannot be scheduled right away as preemption victims receive their graceful "
         "termination periods. This field does not guarantee that the pod will be scheduled on "
         "this node. Scheduler may decide to place the pod elsewhere if other nodes become "
         "available sooner. Scheduler may also decide to give the resources on this node to a "
         "higher priority pod that is created after preemption. As a result, this field may be "
         "different than PodSpec.nodeName when the pod is scheduled.",
         1},
        {"Readiness Gates", "string", "",
         "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready "
         "when all its containers are ready AND all conditions specified in the readiness gates "
         "have status equal to \"True\" More info: "
         "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
         1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    PodSummary s = SummarizePod(obj);
    std::string restarts = std::to_string(s.restarts);
    if (s.restarts != 0 && s.last_restart) {
      restarts += " (" + HumanDurationSince(*s.last_restart, ctx.now) + " ago)";
    }
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(std::to_string(s.ready) + "/" + std::to_string(s.total));
    cells.emplace_back(s.reason);
    cells.emplace_back(restarts);
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(OrNone(PodIp(obj)));
    cells.emplace_back(OrNone(FindStr(obj, {"spec", "nodeName"})));
    cells.emplace_back(OrNone(FindStr(obj, {"status", "nominatedNodeName"})));
    cells.emplace_back(ReadinessGatesCell(obj));
  }
};

}  // namespace

const KindStrategy& PodStrategy() {
  static const PodStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
