#include "client/work_queue.h"

#include <algorithm>

namespace skiff {

WorkQueue::WorkQueue(WorkQueueOptions options) : options_(options) {}

WorkQueue::~WorkQueue() { ShutDown(); }

TimePoint WorkQueue::Now() const {
  return options_.clock ? options_.clock->Now() : real_clock_.Now();
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.contains(key)) return;
  dirty_.insert(key);
  if (processing_.contains(key)) return;  // Done re-queues it
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay.count() <= 0) {
    AddLocked(key);
    return;
  }
  TimePoint ready = Now() + delay;
  auto it = waiting_at_.find(key);
  if (it != waiting_at_.end()) {
    if (it->second <= ready) return;
    auto range = waiting_.equal_range(it->second);
    for (auto w = range.first; w != range.second; ++w) {
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
    }
  }
  waiting_.emplace(ready, key);
  waiting_at_[key] = ready;
  cv_.notify_all();  // a waiter may need to wake earlier
}

std::chrono::milliseconds WorkQueue::Backoff(int failures) const {
  // base * 2^failures, capped (and safe from overflow for any count).
  if (failures < 0) failures = 0;
  if (failures >= 40) return options_.max_delay;
  auto scaled = options_.base_delay * (int64_t{1} << failures);
  return scaled < options_.max_delay ? scaled : options_.max_delay;
}

void WorkQueue::AddRateLimited(const std::string& key) {
  int failures = 0;
  {
    std::lock_guard lock(mu_);
    failures = failures_[key]++;
  }
  AddAfter(key, Backoff(failures));
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteReadyLocked(TimePoint now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    waiting_at_.erase(key);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    PromoteReadyLocked(Now());
    if (!queue_.empty()) break;
    auto wait = options_.poll_interval;
    if (!waiting_.empty() && !options_.clock) {
      auto until =
          std::chrono::duration_cast<std::chrono::milliseconds>(waiting_.begin()->first - Now()) +
          std::chrono::milliseconds(1);
      wait = std::max(std::chrono::milliseconds(1), std::min(until, wait));
    }
    if (waiting_.empty()) {
      cv_.wait(lock, [&] { return shutting_down_ || !queue_.empty() || !waiting_.empty(); });
    } else {
      cv_.wait_for(lock, wait);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace skiff
