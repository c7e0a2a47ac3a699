// ControllerManager: the controllers of `skiff server` (kube-controller-manager), run by
// whichever server holds the "kube-controller-manager" Lease in kube-system. While this
// server leads, it runs shared informers and the enabled controllers; when it stops
// leading they are stopped (and built anew should it lead again).
//
// Thread safety: Start and Stop from one thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/client.h"
#include "client/leader_election.h"

namespace skiff {

struct ControllerManagerOptions {
  // kube-controller-manager's --controllers: "*" enables the default set, "name" enables
  // one, "-name" disables one; later entries win.
  std::vector<std::string> controllers = {"*"};
  int workers_per_controller = 5;
  bool leader_elect = true;
  LeaderElectionOptions election;  // lease_name and identity are filled in when empty
};

// The controllers this build has, in start order.
const std::vector<std::string>& KnownControllers();

// Whether `name` is enabled by a --controllers list. Errors: kInvalid naming an unknown
// controller in the list.
Result<bool> ControllerEnabled(const std::vector<std::string>& list, const std::string& name);

class ControllerManager {
 public:
  // `client` must outlive the manager.
  ControllerManager(Client& client, ControllerManagerOptions options);
  ~ControllerManager();
  ControllerManager(const ControllerManager&) = delete;
  ControllerManager& operator=(const ControllerManager&) = delete;

  // Checks the options and starts electing (or, without leader election, running).
  // Errors: kInvalid for an unknown controller name.
  Status Start();
  void Stop();

  bool leading() const;

 private:
  struct Running;
  void StartRunning();
  void StopRunning();

  Client& client_;
  ControllerManagerOptions options_;
  std::unique_ptr<LeaderElector> elector_;
  mutable std::mutex mu_;
  std::unique_ptr<Running> running_;  // protected by mu_
};

}  // namespace skiff
