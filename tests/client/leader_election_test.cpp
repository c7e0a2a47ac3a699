#include "client/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/json.hpp>

#include "client/test_api_server.h"

namespace skiff {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const ResourcePath kLeases{"coordination.k8s.io", "v1", "leases"};

LeaderElectionOptions Options(const std::string& identity, const Clock* clock) {
  LeaderElectionOptions o;
  o.lease_name = "test-controller";
  o.identity = identity;
  o.clock = clock;
  return o;
}

json::object LeaseSpec(Client& c) {
  auto lease = c.Get(kLeases, "kube-system", "test-controller");
  EXPECT_TRUE(lease.has_value());
  return lease ? lease->at("spec").as_object() : json::object();
}

TEST(LeaderElectorTest, OneHolderUntilItsRecordStopsChangingForTheLeaseDuration) {
  TestApiServer server;
  FakeClock clock_a(TimePoint{} + std::chrono::hours(1000));
  FakeClock clock_b(TimePoint{} + std::chrono::hours(5));  // skewed: only durations matter
  LeaderElector a(server.client(), Options("a", &clock_a), nullptr, nullptr);
  LeaderElector b(server.client(), Options("b", &clock_b), nullptr, nullptr);

  EXPECT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  json::object spec = LeaseSpec(server.client());
  EXPECT_EQ(spec.at("holderIdentity").as_string(), "a");
  EXPECT_EQ(spec.at("leaseDurationSeconds").as_int64(), 15);
  EXPECT_EQ(spec.at("leaseTransitions").as_int64(), 0);

  // a keeps renewing: b never sees the record unchanged for 15 s.
  for (int i = 0; i < 5; ++i) {
    clock_a.Advance(seconds(10));
    clock_b.Advance(seconds(10));
    EXPECT_TRUE(a.TryAcquireOrRenew());
    EXPECT_FALSE(b.TryAcquireOrRenew());
  }
  // a goes silent: b takes over once it has seen the same record for 15 s.
  clock_b.Advance(seconds(14));
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock_b.Advance(seconds(1));
  EXPECT_TRUE(b.TryAcquireOrRenew());
  spec = LeaseSpec(server.client());
  EXPECT_EQ(spec.at("holderIdentity").as_string(), "b");
  EXPECT_EQ(spec.at("leaseTransitions").as_int64(), 1);
  // a comes back: the lease is b's now.
  clock_a.Advance(seconds(1));
  EXPECT_FALSE(a.TryAcquireOrRenew());
}

TEST(LeaderElectorTest, TwoCandidatesNeverBothLeadAndStopHandsOver) {
  TestApiServer server;
  std::atomic<int> leaders{0}, max_leaders{0};
  std::atomic<bool> b_started{false};
  auto started = [&] {
    int now = ++leaders;
    int seen = max_leaders.load();
    while (now > seen && !max_leaders.compare_exchange_weak(seen, now)) {
    }
  };
  auto stopped = [&] { --leaders; };
  auto opts = [](const std::string& id) {
    LeaderElectionOptions o;
    o.lease_name = "handover";
    o.identity = id;
    o.lease_duration = milliseconds(3000);
    o.renew_deadline = milliseconds(2000);
    o.retry_period = milliseconds(50);
    return o;
  };
  LeaderElector a(server.client(), opts("a"), started, stopped);
  LeaderElector b(
      server.client(), opts("b"),
      [&] {
        started();
        b_started = true;
      },
      stopped);
  a.Start();
  for (int i = 0; i < 200 && !a.IsLeader(); ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(a.IsLeader());
  b.Start();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_FALSE(b.IsLeader());
  auto released = std::chrono::steady_clock::now();
  a.Stop();  // releases the lease
  for (int i = 0; i < 200 && !b_started; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_TRUE(b.IsLeader());
  EXPECT_LT(std::chrono::steady_clock::now() - released, milliseconds(1000));  // not 3 s
  b.Stop();
  EXPECT_EQ(max_leaders.load(), 1);
  EXPECT_EQ(leaders.load(), 0);
}

}  // namespace
}  // namespace skiff
