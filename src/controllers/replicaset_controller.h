// The ReplicaSet controller (kube-controller-manager's replicaset controller): keeps
// spec.replicas active pods for each ReplicaSet, created from its template with
// generateName "<replicaset>-" and a controller ownerReference; adopts orphan pods its
// selector matches and releases owned pods it no longer matches; when there are too many,
// deletes first the pods Kubernetes ranks lowest (unscheduled, pending, not ready,
// restarted more, newer); and reports replicas, fullyLabeledReplicas, readyReplicas,
// availableReplicas (minReadySeconds) and observedGeneration in status. Creations and
// deletions it has asked for and not yet seen in its informer are "expected", so a
// sync never acts twice on a stale cache (client-go's ControllerExpectations).
//
// Thread safety: as QueueController.
#pragma once

#include <map>
#include <mutex>

#include "base/k8s_time.h"
#include "client/informer.h"
#include "controllers/controller.h"
#include "controllers/event_recorder.h"

namespace skiff {

class ReplicaSetController final : public QueueController {
 public:
  // Registers its handlers and indexes on the informers, which must not have started.
  // `replicasets` watches apps/v1 replicasets, `pods` v1 pods, both in all namespaces.
  ReplicaSetController(Client& client, Informer& replicasets, Informer& pods,
                       const Clock* clock = nullptr);

  // At most this many pods are created or deleted per sync (Kubernetes' burstReplicas).
  static constexpr int kBurstReplicas = 500;

 protected:
  Status Sync(const std::string& key) override;

 private:
  struct Expectation {
    int64_t adds = 0;
    int64_t deletes = 0;
    TimePoint set_at{};
  };
  TimePoint Now() const;
  // A pod changed: counts `created`/`deleted` against its owner's expectations and
  // enqueues its owner, or, for an orphan, every ReplicaSet that may adopt it.
  void OnPod(const ObjectPtr& pod, int64_t created, int64_t deleted);
  // True when every creation and deletion asked for `key` has been observed (or the
  // expectation is older than five minutes).
  bool Satisfied(const std::string& key);
  void Expect(const std::string& key, int64_t adds, int64_t deletes);
  void Observed(const std::string& key, int64_t adds, int64_t deletes);
  Status ManageReplicas(const boost::json::object& rs, std::vector<ObjectPtr>& active);
  Status UpdateStatus(const boost::json::object& rs, const std::vector<ObjectPtr>& active);

  Client& client_;
  Informer& replicasets_;
  Informer& pods_;
  const Clock* const clock_;
  const RealClock real_clock_;
  EventRecorder events_;

  std::mutex mu_;
  std::map<std::string, Expectation> expectations_;  // by ReplicaSet key; protected by mu_
};

}  // namespace skiff
