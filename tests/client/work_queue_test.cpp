#include "client/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace skiff {
namespace {

using std::chrono::milliseconds;

TEST(WorkQueueTest, FifoAndDeduplicatedWhileQueued) {
  WorkQueue q;
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.Get(), "b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, AKeyAddedWhileProcessingComesBackOnceAfterDone) {
  WorkQueue q;
  q.Add("a");
  auto key = q.Get();
  ASSERT_EQ(key, "a");
  q.Add("a");
  q.Add("a");
  EXPECT_EQ(q.Len(), 0u);  // not handed to a second worker while the first works on it
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, NeverTwoWorkersOnOneKey) {
  WorkQueue q;
  std::atomic<int> in_flight{0}, max_in_flight{0}, processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        int now = ++in_flight;
        int seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        --in_flight;
        ++processed;
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 500; ++i) {
    q.Add("only");
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  while (q.Len() > 0) std::this_thread::sleep_for(milliseconds(1));
  std::this_thread::sleep_for(milliseconds(5));
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_EQ(max_in_flight.load(), 1);
  EXPECT_GE(processed.load(), 1);
  EXPECT_LT(processed.load(), 500);  // adds while queued collapsed into one
}

TEST(WorkQueueTest, DelayedAddsWaitForTheirTime) {
  FakeClock clock(TimePoint{} + std::chrono::hours(1));
  WorkQueueOptions o;
  o.clock = &clock;
  o.poll_interval = milliseconds(1);
  WorkQueue q(o);
  q.AddAfter("later", milliseconds(1000));
  q.AddAfter("later", milliseconds(5000));  // the earlier delay wins
  q.AddAfter("sooner", milliseconds(10));
  std::atomic<bool> got{false};
  std::string first;
  std::thread worker([&] {
    first = q.Get().value_or("");
    got = true;
  });
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_FALSE(got.load());
  clock.Advance(milliseconds(10));
  worker.join();
  EXPECT_EQ(first, "sooner");
  q.Done("sooner");
  clock.Advance(milliseconds(990));
  EXPECT_EQ(q.Get(), "later");
}

TEST(WorkQueueTest, RateLimitedBackoffDoublesUntilForgotten) {
  FakeClock clock(TimePoint{} + std::chrono::hours(1));
  WorkQueueOptions o;
  o.clock = &clock;
  o.poll_interval = milliseconds(1);
  o.base_delay = milliseconds(100);
  o.max_delay = milliseconds(350);
  WorkQueue q(o);
  EXPECT_EQ(q.Backoff(0), milliseconds(100));
  EXPECT_EQ(q.Backoff(1), milliseconds(200));
  EXPECT_EQ(q.Backoff(2), milliseconds(350));
  EXPECT_EQ(q.Backoff(1000), milliseconds(350));

  q.AddRateLimited("k");  // 100 ms
  q.AddRateLimited("k");  // 200 ms: the pending earlier time stays
  EXPECT_EQ(q.NumRequeues("k"), 2);
  std::atomic<bool> got{false};
  std::thread worker([&] {
    auto k = q.Get();
    got = k.has_value();
  });
  clock.Advance(milliseconds(99));
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_FALSE(got.load());
  clock.Advance(milliseconds(1));
  worker.join();
  EXPECT_TRUE(got.load());
  q.Forget("k");
  EXPECT_EQ(q.NumRequeues("k"), 0);

  WorkQueueOptions defaults;
  WorkQueue standard(defaults);  // client-go's: 5 ms doubling up to 1000 s
  EXPECT_EQ(standard.Backoff(0), milliseconds(5));
  EXPECT_EQ(standard.Backoff(3), milliseconds(40));
  EXPECT_EQ(standard.Backoff(30), milliseconds(1000 * 1000));
}

TEST(WorkQueueTest, ShutDownWakesWorkersAndIgnoresAdds) {
  WorkQueue q;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.Get(); });
  std::this_thread::sleep_for(milliseconds(20));
  q.ShutDown();
  worker.join();
  EXPECT_FALSE(got.has_value());
  q.Add("x");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_TRUE(q.shutting_down());
}

}  // namespace
}  // namespace skiff
