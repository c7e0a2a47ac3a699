// The frame every controller shares: a work queue of object keys, worker threads that
// call Sync(key) one key at a time, and retries with per-key backoff (client-go's
// pattern). Sync is level-based and idempotent: it reads the informers' caches, never the
// event that enqueued the key, and returns an error to be retried.
//
// Thread safety: Start and Stop from one thread; Enqueue from any thread.
#pragma once

#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "client/work_queue.h"

namespace skiff {

class QueueController {
 public:
  explicit QueueController(std::string name, WorkQueueOptions queue_options = {});
  virtual ~QueueController();
  QueueController(const QueueController&) = delete;
  QueueController& operator=(const QueueController&) = delete;

  const std::string& name() const { return name_; }

  // Starts `workers` worker threads. REQUIRES: the informers Sync reads have synced.
  void Start(int workers);
  // Shuts the queue down and joins the workers. Idempotent.
  void Stop();

  void Enqueue(const std::string& key) { queue_.Add(key); }
  void EnqueueAfter(const std::string& key, std::chrono::milliseconds delay) {
    queue_.AddAfter(key, delay);
  }

 protected:
  // Brings the object with `key` to its desired state. An error retries the key with
  // backoff, at most kMaxRetries times in a row.
  virtual Status Sync(const std::string& key) = 0;

  static constexpr int kMaxRetries = 15;

 private:
  void Work();

  const std::string name_;
  WorkQueue queue_;
  std::vector<std::thread> workers_;
};

}  // namespace skiff
