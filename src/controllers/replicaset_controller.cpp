#include "controllers/replicaset_controller.h"

#include <algorithm>

#include <boost/json.hpp>

#include "base/label_selector.h"
#include "base/log.h"
#include "controllers/objects.h"

namespace skiff {

namespace json = boost::json;

namespace {

const ResourcePath kPods{"", "v1", "pods"};
const ResourcePath kReplicaSets{"apps", "v1", "replicasets"};
constexpr auto kExpectationTimeout = std::chrono::minutes(5);

std::string KeyOf(std::string_view ns, std::string_view name) {
  return std::string(ns) + "/" + std::string(name);
}

// Kubernetes' order of pods to delete first (controller.ActivePods, simplified to what
// the API carries): unassigned, then pending before unknown before running, not ready
// before ready, ready for less time, more restarts, newer.
int PhaseRank(const json::object& pod) {
  std::string phase = StrAt(pod, {"status", "phase"});
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 0;
}

int64_t Restarts(const json::object& pod) {
  int64_t total = 0;
  const json::value* statuses = nullptr;
  if (const json::object* status = ObjAt(pod, {"status"}))
    statuses = status->if_contains("containerStatuses");
  if (statuses && statuses->is_array()) {
    for (const auto& s : statuses->as_array()) {
      if (s.is_object()) total += IntAt(s.as_object(), {"restartCount"});
    }
  }
  return total;
}

bool DeleteFirst(const ObjectPtr& a, const ObjectPtr& b) {
  bool a_assigned = !StrAt(*a, {"spec", "nodeName"}).empty();
  bool b_assigned = !StrAt(*b, {"spec", "nodeName"}).empty();
  if (a_assigned != b_assigned) return !a_assigned;
  if (PhaseRank(*a) != PhaseRank(*b)) return PhaseRank(*a) < PhaseRank(*b);
  bool a_ready = IsPodReady(*a), b_ready = IsPodReady(*b);
  if (a_ready != b_ready) return !a_ready;
  if (Restarts(*a) != Restarts(*b)) return Restarts(*a) > Restarts(*b);
  std::string ta = StrAt(*a, {"metadata", "creationTimestamp"});
  std::string tb = StrAt(*b, {"metadata", "creationTimestamp"});
  if (ta != tb) return ta > tb;
  return StrAt(*a, {"metadata", "name"}) > StrAt(*b, {"metadata", "name"});
}

}  // namespace

ReplicaSetController::ReplicaSetController(Client& client, Informer& replicasets, Informer& pods,
                                           const Clock* clock)
    : QueueController("replicaset-controller"),
      client_(client),
      replicasets_(replicasets),
      pods_(pods),
      clock_(clock),
      events_(client, "replicaset-controller", clock) {
  replicasets_.AddHandlers(
      {[this](const ObjectPtr& rs) { Enqueue(ObjectKey(*rs)); },
       [this](const ObjectPtr&, const ObjectPtr& rs) { Enqueue(ObjectKey(*rs)); },
       [this](const ObjectPtr& rs) {
         {
           std::lock_guard lock(mu_);
           expectations_.erase(ObjectKey(*rs));
         }
         Enqueue(ObjectKey(*rs));
       }});
  // As client-go's expectations count them: a pod that appears fulfils a creation; one
  // whose deletion starts, and one that is gone, each fulfil a deletion (counting a
  // deletion twice only lets a sync act sooner, never later).
  pods_.AddHandlers({[this](const ObjectPtr& pod) { OnPod(pod, IsPodActive(*pod) ? 1 : 0, 0); },
                     [this](const ObjectPtr& old_pod, const ObjectPtr& pod) {
                       const bool ending = IsPodActive(*old_pod) && !IsPodActive(*pod);
                       // A relabelled pod may leave one ReplicaSet for another.
                       if (LabelsOf(*old_pod) != LabelsOf(*pod)) OnPod(old_pod, 0, 0);
                       OnPod(pod, 0, ending ? 1 : 0);
                     },
                     [this](const ObjectPtr& pod) { OnPod(pod, 0, 1); }});
  pods_.AddIndex("namespace", [](const json::object& o) {
    return std::vector<std::string>{StrAt(o, {"metadata", "namespace"})};
  });
  replicasets_.AddIndex("namespace", [](const json::object& o) {
    return std::vector<std::string>{StrAt(o, {"metadata", "namespace"})};
  });
}

TimePoint ReplicaSetController::Now() const { return clock_ ? clock_->Now() : real_clock_.Now(); }

void ReplicaSetController::OnPod(const ObjectPtr& pod, int64_t created, int64_t deleted) {
  const std::string ns = StrAt(*pod, {"metadata", "namespace"});
  if (auto ref = ControllerOf(*pod)) {
    if (ref->kind != "ReplicaSet") return;
    std::string key = KeyOf(ns, ref->name);
    Observed(key, created, deleted);
    Enqueue(key);
    return;
  }
  if (deleted) return;
  // An orphan: every ReplicaSet whose selector matches may adopt it.
  auto labels = LabelsOf(*pod);
  for (const ObjectPtr& rs : replicasets_.ByIndex("namespace", ns)) {
    const json::object* sel = ObjAt(*rs, {"spec", "selector"});
    if (!sel) continue;
    auto selector = LabelSelector::FromJson(json::value(*sel));
    if (selector && !selector->Empty() && selector->Matches(labels)) Enqueue(ObjectKey(*rs));
  }
}

bool ReplicaSetController::Satisfied(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = expectations_.find(key);
  if (it == expectations_.end()) return true;
  if (it->second.adds <= 0 && it->second.deletes <= 0) return true;
  return Now() - it->second.set_at > kExpectationTimeout;
}

void ReplicaSetController::Expect(const std::string& key, int64_t adds, int64_t deletes) {
  std::lock_guard lock(mu_);
  expectations_[key] = Expectation{adds, deletes, Now()};
}

void ReplicaSetController::Observed(const std::string& key, int64_t adds, int64_t deletes) {
  std::lock_guard lock(mu_);
  auto it = expectations_.find(key);
  if (it == expectations_.end()) return;
  it->second.adds -= adds;
  it->second.deletes -= deletes;
}

Status ReplicaSetController::Sync(const std::string& key) {
  ObjectPtr rs = replicasets_.Get(key);
  if (!rs) return Status::Ok();  // deleted: the garbage collector takes its pods
  const std::string ns = StrAt(*rs, {"metadata", "namespace"});
  const std::string uid = StrAt(*rs, {"metadata", "uid"});
  const json::object* sel = ObjAt(*rs, {"spec", "selector"});
  auto selector = sel ? LabelSelector::FromJson(json::value(*sel))
                      : Result<LabelSelector>(LabelSelector::Nothing());
  if (!selector) return Status::Ok();  // validation keeps these out; nothing to do
  const bool being_deleted =
      ObjAt(*rs, {"metadata"}) && ObjAt(*rs, {"metadata"})->contains("deletionTimestamp");

  std::vector<ObjectPtr> active;
  for (const ObjectPtr& pod : pods_.ByIndex("namespace", ns)) {
    auto ref = ControllerOf(*pod);
    const bool matches = !selector->Empty() && selector->Matches(LabelsOf(*pod));
    const std::string pod_name = StrAt(*pod, {"metadata", "name"});
    if (ref && ref->uid == uid) {
      if (!matches && !being_deleted) {
        // Release: the pod no longer matches; drop our ownerReference.
        std::string patch = R"({"metadata":{"ownerReferences":[{"$patch":"delete","uid":")" + uid +
                            R"("}],"uid":")" + StrAt(*pod, {"metadata", "uid"}) + R"("}})";
        auto r =
            client_.Patch(kPods, ns, pod_name, "application/strategic-merge-patch+json", patch);
        if (!r && r.error().code() != StatusCode::kNotFound) return r.error();
        continue;
      }
      if (IsPodActive(*pod)) active.push_back(pod);
    } else if (!ref && matches && !being_deleted && IsPodActive(*pod)) {
      // Adopt an orphan the selector matches.
      json::array refs;
      if (const json::object* meta = ObjAt(*pod, {"metadata"})) {
        if (auto* existing = meta->if_contains("ownerReferences"); existing && existing->is_array())
          refs = existing->as_array();
      }
      refs.push_back(ControllerRefTo(*rs));
      json::object patch{{"metadata", json::object{{"ownerReferences", std::move(refs)},
                                                   {"uid", StrAt(*pod, {"metadata", "uid"})}}}};
      auto r = client_.Patch(kPods, ns, pod_name, "application/merge-patch+json",
                             json::serialize(patch));
      if (r) {
        active.push_back(std::make_shared<const json::object>(std::move(*r)));
      } else if (r.error().code() != StatusCode::kNotFound &&
                 r.error().code() != StatusCode::kConflict) {
        return r.error();
      }
    }
  }

  Status managed = Status::Ok();
  if (Satisfied(key) && !being_deleted) managed = ManageReplicas(*rs, active);
  Status status = UpdateStatus(*rs, active);
  if (!managed.ok()) return managed;
  return status;
}

Status ReplicaSetController::ManageReplicas(const json::object& rs,
                                            std::vector<ObjectPtr>& active) {
  const std::string ns = StrAt(rs, {"metadata", "namespace"});
  const std::string name = StrAt(rs, {"metadata", "name"});
  const std::string key = KeyOf(ns, name);
  const int64_t want = IntAt(rs, {"spec", "replicas"}, 1);
  const int64_t diff = static_cast<int64_t>(active.size()) - want;
  if (diff < 0) {
    const int64_t to_create = std::min<int64_t>(-diff, kBurstReplicas);
    Expect(key, to_create, 0);
    const json::object* tmpl = ObjAt(rs, {"spec", "template"});
    json::object pod{{"apiVersion", "v1"}, {"kind", "Pod"}};
    json::object meta;
    if (tmpl) {
      if (const json::object* m = ObjAt(*tmpl, {"metadata"})) {
        for (const char* k : {"labels", "annotations", "finalizers"}) {
          if (auto* v = m->if_contains(k)) meta[k] = *v;
        }
      }
      if (auto* spec = tmpl->if_contains("spec")) pod["spec"] = *spec;
    }
    meta["generateName"] = name + "-";
    meta["namespace"] = ns;
    meta["ownerReferences"] = json::array{ControllerRefTo(rs)};
    pod["metadata"] = std::move(meta);
    // Slow start, as Kubernetes: batches of 1, 2, 4, ... stop at the first failure, so a
    // template the server refuses costs one request, not hundreds.
    int64_t created = 0, batch = 1;
    Status failure = Status::Ok();
    while (created < to_create && failure.ok()) {
      int64_t n = std::min(batch, to_create - created);
      for (int64_t i = 0; i < n; ++i) {
        auto r = client_.Create(kPods, ns, pod);
        if (!r) {
          failure = r.error();
          break;
        }
        ++created;
        events_.Record(rs, "Normal", "SuccessfulCreate",
                       "Created pod: " + StrAt(*r, {"metadata", "name"}));
      }
      batch *= 2;
    }
    if (created < to_create) Observed(key, to_create - created, 0);  // never coming
    if (!failure.ok()) {
      events_.Record(rs, "Warning", "FailedCreate", "Error creating: " + failure.message());
      return failure;
    }
  } else if (diff > 0) {
    const int64_t to_delete = std::min<int64_t>(diff, kBurstReplicas);
    std::sort(active.begin(), active.end(), DeleteFirst);
    Expect(key, 0, to_delete);
    for (int64_t i = 0; i < to_delete; ++i) {
      const std::string pod_name = StrAt(*active[i], {"metadata", "name"});
      Status st = client_.Delete(kPods, ns, pod_name);
      if (!st.ok() && st.code() != StatusCode::kNotFound) {
        Observed(key, 0, to_delete - i);
        events_.Record(rs, "Warning", "FailedDelete", "Error deleting: " + st.message());
        return st;
      }
      if (st.code() == StatusCode::kNotFound) Observed(key, 0, 1);
      events_.Record(rs, "Normal", "SuccessfulDelete", "Deleted pod: " + pod_name);
    }
  }
  return Status::Ok();
}

Status ReplicaSetController::UpdateStatus(const json::object& rs,
                                          const std::vector<ObjectPtr>& active) {
  const int64_t min_ready = IntAt(rs, {"spec", "minReadySeconds"});
  std::map<std::string, std::string> template_labels;
  if (const json::object* tmpl = ObjAt(rs, {"spec", "template"})) template_labels = LabelsOf(*tmpl);
  int64_t fully_labeled = 0, ready = 0, available = 0;
  const TimePoint now = Now();
  bool becomes_available_later = false;
  for (const ObjectPtr& pod : active) {
    auto labels = LabelsOf(*pod);
    if (std::all_of(template_labels.begin(), template_labels.end(), [&](const auto& kv) {
          auto it = labels.find(kv.first);
          return it != labels.end() && it->second == kv.second;
        })) {
      ++fully_labeled;
    }
    if (IsPodReady(*pod)) {
      ++ready;
      if (IsPodAvailable(*pod, min_ready, now)) {
        ++available;
      } else {
        becomes_available_later = true;
      }
    }
  }
  const json::object* old = ObjAt(rs, {"status"});
  const int64_t generation = IntAt(rs, {"metadata", "generation"}, 1);
  auto old_int = [&](std::string_view k) { return old ? IntAt(*old, {k}) : 0; };
  if (becomes_available_later) {
    EnqueueAfter(ObjectKey(rs), std::chrono::seconds(std::max<int64_t>(1, min_ready)));
  }
  const int64_t replicas = static_cast<int64_t>(active.size());
  if (old_int("replicas") == replicas && old_int("fullyLabeledReplicas") == fully_labeled &&
      old_int("readyReplicas") == ready && old_int("availableReplicas") == available &&
      old_int("observedGeneration") == generation) {
    return Status::Ok();
  }
  json::object status{{"replicas", replicas}, {"observedGeneration", generation}};
  if (fully_labeled) status["fullyLabeledReplicas"] = fully_labeled;
  if (ready) status["readyReplicas"] = ready;
  if (available) status["availableReplicas"] = available;
  if (old) {
    if (auto* c = old->if_contains("conditions")) status["conditions"] = *c;
  }
  json::object updated = rs;
  updated["status"] = std::move(status);
  auto r = client_.Update(kReplicaSets, StrAt(rs, {"metadata", "namespace"}), updated, "status");
  if (!r && r.error().code() == StatusCode::kNotFound) return Status::Ok();
  if (!r) return r.error();
  return Status::Ok();
}

}  // namespace skiff
