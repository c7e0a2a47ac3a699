#include "controllers/controller_manager.h"

#include <algorithm>

#include "base/log.h"
#include "base/uuid.h"
#include "client/informer.h"
#include "controllers/replicaset_controller.h"

namespace skiff {

namespace {

constexpr auto kSyncTimeout = std::chrono::seconds(60);

}  // namespace

const std::vector<std::string>& KnownControllers() {
  static const std::vector<std::string> kNames = {"replicaset"};
  return kNames;
}

Result<bool> ControllerEnabled(const std::vector<std::string>& list, const std::string& name) {
  const auto& known = KnownControllers();
  bool enabled = false;
  for (const std::string& entry : list) {
    std::string_view n = entry;
    bool off = n.starts_with('-');
    if (off) n.remove_prefix(1);
    if (n == "*") {
      if (!off) enabled = true;
      continue;
    }
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      return Err(StatusCode::kInvalid,
                 "\"" + std::string(n) + "\" is not in the list of known controllers");
    }
    if (n == name) enabled = !off;
  }
  return enabled;
}

// What runs while this server leads: shared informers, then the controllers.
struct ControllerManager::Running {
  std::vector<std::unique_ptr<Informer>> informers;
  std::vector<std::unique_ptr<QueueController>> controllers;
  ~Running() {
    for (auto& c : controllers) c->Stop();
    for (auto& i : informers) i->Stop();
  }
};

ControllerManager::ControllerManager(Client& client, ControllerManagerOptions options)
    : client_(client), options_(std::move(options)) {}

ControllerManager::~ControllerManager() { Stop(); }

bool ControllerManager::leading() const {
  std::lock_guard lock(mu_);
  return running_ != nullptr;
}

Status ControllerManager::Start() {
  for (const std::string& name : KnownControllers()) {
    auto enabled = ControllerEnabled(options_.controllers, name);
    if (!enabled) return enabled.error();
  }
  if (!options_.leader_elect) {
    StartRunning();
    return Status::Ok();
  }
  LeaderElectionOptions election = options_.election;
  if (election.lease_name.empty()) election.lease_name = "kube-controller-manager";
  if (election.identity.empty()) election.identity = "skiff_" + NewUuid();
  elector_ = std::make_unique<LeaderElector>(
      client_, election,
      [this, id = election.identity] {
        log::Info("controllers", "became leader identity=" + id);
        StartRunning();
      },
      [this, id = election.identity] {
        log::Info("controllers", "stopped leading identity=" + id);
        StopRunning();
      });
  elector_->Start();
  return Status::Ok();
}

void ControllerManager::StartRunning() {
  auto running = std::make_unique<Running>();
  auto informer = [&](ResourcePath path) -> Informer& {
    running->informers.push_back(std::make_unique<Informer>(client_, std::move(path)));
    return *running->informers.back();
  };
  Informer* pods = nullptr;
  auto pod_informer = [&]() -> Informer& {
    if (!pods) pods = &informer({"", "v1", "pods"});
    return *pods;
  };
  if (*ControllerEnabled(options_.controllers, "replicaset")) {
    Informer& replicasets = informer({"apps", "v1", "replicasets"});
    running->controllers.push_back(
        std::make_unique<ReplicaSetController>(client_, replicasets, pod_informer()));
  }
  for (auto& i : running->informers) i->Start();
  for (auto& i : running->informers) {
    if (!i->WaitForSync(kSyncTimeout)) {
      log::Warn("controllers", "informer of " + i->resource().resource + " has not synced");
    }
  }
  for (auto& c : running->controllers) {
    c->Start(options_.workers_per_controller);
    log::Info("controllers", "started " + c->name());
  }
  std::lock_guard lock(mu_);
  running_ = std::move(running);
}

void ControllerManager::StopRunning() {
  std::unique_ptr<Running> running;
  {
    std::lock_guard lock(mu_);
    running = std::move(running_);
  }
  running.reset();
}

void ControllerManager::Stop() {
  if (elector_) {
    elector_->Stop();  // runs StopRunning through its callback when leading
    elector_.reset();
  }
  StopRunning();
}

}  // namespace skiff
