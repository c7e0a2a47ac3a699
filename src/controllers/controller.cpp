#include "controllers/controller.h"

#include "base/log.h"

namespace skiff {

QueueController::QueueController(std::string name, WorkQueueOptions queue_options)
    : name_(std::move(name)), queue_(queue_options) {}

QueueController::~QueueController() { Stop(); }

void QueueController::Start(int workers) {
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { Work(); });
}

void QueueController::Stop() {
  queue_.ShutDown();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void QueueController::Work() {
  while (auto key = queue_.Get()) {
    Status st = Sync(*key);
    if (st.ok()) {
      queue_.Forget(*key);
    } else if (queue_.NumRequeues(*key) < kMaxRetries) {
      log::Info("controllers", name_ + " retrying key=" + *key + " error=" + st.ToString());
      queue_.AddRateLimited(*key);
    } else {
      log::Warn("controllers", name_ + " dropping key=" + *key + " after " +
                                   std::to_string(kMaxRetries) + " retries: " + st.ToString());
      queue_.Forget(*key);
    }
    queue_.Done(*key);
  }
}

}  // namespace skiff
