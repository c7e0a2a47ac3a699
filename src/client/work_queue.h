// WorkQueue: the rate-limited work queue of the control loops (client-go's
// workqueue.RateLimitingInterface).
//
// Keys (e.g. "namespace/name") wait in FIFO order. A key is never handed to two workers
// at once: a key added while a worker processes it is marked dirty and queued again when
// that worker calls Done. A key added several times before a worker takes it is processed
// once. AddRateLimited re-adds a key after a per-key exponential backoff (base_delay *
// 2^failures, capped at max_delay); Forget resets it after a success.
//
// Thread safety: every method may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/k8s_time.h"

namespace skiff {

struct WorkQueueOptions {
  // Backoff of AddRateLimited: base * 2^(failures so far), at most max (client-go's
  // DefaultControllerRateLimiter: 5 ms to 1000 s).
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1000 * 1000};
  // Delays are measured on this clock (not owned; null: the system clock). With a fake
  // clock, waiting workers notice time moved within `poll_interval` of real time.
  const Clock* clock = nullptr;
  std::chrono::milliseconds poll_interval{50};
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is queued already (or dirty while being processed).
  // Ignored after ShutDown.
  void Add(const std::string& key);
  // Queues `key` once `delay` has passed (at once for a delay <= 0). Of several pending
  // delays of one key, the earliest wins.
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // AddAfter with the key's backoff, and counts one more failure of it.
  void AddRateLimited(const std::string& key);
  // Forgets the key's failures (its next backoff starts at base_delay again).
  void Forget(const std::string& key);
  // The failures counted for `key` since it was last forgotten.
  int NumRequeues(const std::string& key) const;
  // The delay AddRateLimited uses after `failures` earlier failures.
  std::chrono::milliseconds Backoff(int failures) const;

  // Blocks until a key is ready and returns it, now marked as being processed; nullopt
  // once the queue is shut down (keys still queued are dropped).
  std::optional<std::string> Get();
  // Ends the processing of `key` (from Get); re-queues it if it was added meanwhile.
  void Done(const std::string& key);

  // Wakes every blocked Get with nullopt; later Adds are ignored.
  void ShutDown();
  bool shutting_down() const;

  // Keys queued and ready (not those waiting for a delay, nor those being processed).
  size_t Len() const;

 private:
  TimePoint Now() const;
  void AddLocked(const std::string& key);  // REQUIRES: mu_ held
  void PromoteReadyLocked(TimePoint now);  // REQUIRES: mu_ held

  const WorkQueueOptions options_;
  const RealClock real_clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                  // protected by mu_
  std::set<std::string> dirty_;                    // queued or to be re-queued; by mu_
  std::set<std::string> processing_;               // handed out by Get; by mu_
  std::multimap<TimePoint, std::string> waiting_;  // delayed adds by ready time; by mu_
  std::map<std::string, TimePoint> waiting_at_;    // earliest ready time of a key; by mu_
  std::map<std::string, int> failures_;            // by mu_
  bool shutting_down_ = false;                     // by mu_
};

}  // namespace skiff
