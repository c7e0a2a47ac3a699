// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection package does it (kube-controller-manager's --leader-elect).
//
// Every retry_period each candidate reads the Lease. A candidate takes it when it does
// not exist, when it names no holder, or when its record has not changed for
// lease_duration as measured on the candidate's own clock (so clock skew between
// machines does not matter); the holder renews it every retry_period. Writes are
// compare-and-swap on the Lease's resourceVersion, so two candidates never both win.
// A leader that cannot renew for renew_deadline stops leading. Stop releases a held lease
// (holder cleared) so that another candidate takes over at its next try.
//
// Thread safety: all methods may be called from any thread; callbacks run on the
// elector's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/k8s_time.h"
#include "client/client.h"

namespace skiff {

struct LeaderElectionOptions {
  std::string lease_namespace = "kube-system";
  std::string lease_name;
  std::string identity;  // unique per candidate, e.g. "host_<uuid>"
  // Kubernetes' defaults (--leader-elect-lease-duration, -renew-deadline, -retry-period).
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  const Clock* clock = nullptr;  // null: the system clock
};

class LeaderElector {
 public:
  // `client` must outlive the elector. `on_started` runs when this candidate becomes the
  // leader, `on_stopped` when it stops being the leader (lost or released).
  LeaderElector(Client& client, LeaderElectionOptions options, std::function<void()> on_started,
                std::function<void()> on_stopped);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // Stops trying; a leader releases the lease and runs on_stopped. Idempotent.
  void Stop();

  bool IsLeader() const { return leading_.load(); }

  // One round of trying to take or renew the lease; true when this candidate holds it
  // afterwards. Start runs this every retry_period; exposed for tests.
  bool TryAcquireOrRenew();

 private:
  TimePoint Now() const;
  void Run();
  void Release();

  Client& client_;
  const LeaderElectionOptions options_;
  const std::function<void()> on_started_;
  const std::function<void()> on_stopped_;
  const RealClock real_clock_;
  std::atomic<bool> leading_{false};

  // Used by the elector's thread (or a test calling TryAcquireOrRenew) only.
  std::string observed_record_;  // holder/renewTime/transitions of the lease last seen
  TimePoint observed_at_{};      // when that record was first seen, on our clock
  TimePoint last_renew_{};       // when we last renewed successfully

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // protected by mu_
  std::thread thread_;
};

}  // namespace skiff
