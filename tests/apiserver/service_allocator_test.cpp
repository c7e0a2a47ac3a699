#include "apiserver/service_allocator.h"

#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "apiserver/api_server.h"
#include "base/base64.h"
#include "storage/sqlite/sqlite_store.h"

namespace skiff {
namespace {

namespace json = boost::json;

json::object NodePortService() {
  return json::object{{"spec", json::object{{"type", "NodePort"},
                                            {"ports", json::array{json::object{{"port", 80}}}}}}};
}

class ServiceAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("service_allocator_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = SqliteStore::Open((dir_ / "state.db").string());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    options_.service_cluster_ip_range = "10.96.0.0/28";  // 14 usable addresses
    options_.service_node_port_min = 30000;
    options_.service_node_port_max = 30019;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
  ApiServerOptions options_;
};

TEST_F(ServiceAllocatorTest, TwoAllocatorsOnOneStoreNeverHandOutTheSameAddressOrPort) {
  // Two API servers sharing one store, allocating concurrently.
  ServiceAllocator a(options_, *store_, nullptr);
  ServiceAllocator b(options_, *store_, nullptr);
  ASSERT_TRUE(a.Init().ok());
  ASSERT_TRUE(b.Init().ok());
  std::mutex mu;
  std::vector<std::string> ips;
  std::vector<int64_t> ports;
  std::vector<ServiceAllocator::Reservation> kept;
  auto run = [&](ServiceAllocator& alloc) {
    for (int i = 0; i < 6; ++i) {
      json::object svc = NodePortService();
      auto res = alloc.AllocateFor(svc, nullptr);
      ASSERT_TRUE(res.has_value()) << res.error().ToString();
      res->Commit();
      std::lock_guard lock(mu);
      ips.emplace_back(svc["spec"].as_object()["clusterIP"].as_string());
      ports.push_back(
          svc["spec"].as_object()["ports"].as_array()[0].as_object()["nodePort"].as_int64());
    }
  };
  std::thread t1(run, std::ref(a));
  std::thread t2(run, std::ref(b));
  t1.join();
  t2.join();
  EXPECT_EQ(std::set<std::string>(ips.begin(), ips.end()).size(), 12u);
  EXPECT_EQ(std::set<int64_t>(ports.begin(), ports.end()).size(), 12u);
  for (const auto& ip : ips) {
    EXPECT_NE(ip, "10.96.0.1") << "the first address is the kubernetes Service's";
    EXPECT_NE(ip, "10.96.0.0");
    EXPECT_NE(ip, "10.96.0.15");
  }
  // What one allocator took, the other refuses.
  json::object dup{{"spec", json::object{{"clusterIP", ips[0]}}}};
  auto refused = b.AllocateFor(dup, nullptr);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalid);
  ASSERT_EQ(refused.error().causes().size(), 1u);
  EXPECT_NE(refused.error().causes()[0].message.find("provided IP is already allocated"),
            std::string::npos);
  // The map is stored as Kubernetes stores it.
  auto kv = store_->Get(ServiceAllocator::kServiceIpsKey);
  ASSERT_TRUE(kv.has_value());
  json::value stored = json::parse(kv->value);
  EXPECT_EQ(stored.at("kind").as_string(), "RangeAllocation");
  EXPECT_EQ(stored.at("range").as_string(), "10.96.0.0/28");
  auto data = Base64Decode(stored.at("data").as_string());
  ASSERT_TRUE(data.has_value());
  int bits = 0;
  for (unsigned char c : *data) bits += __builtin_popcount(c);
  EXPECT_EQ(bits, 12);
}

TEST_F(ServiceAllocatorTest, AnUncommittedReservationIsGivenBack) {
  ServiceAllocator a(options_, *store_, nullptr);
  ASSERT_TRUE(a.Init().ok());
  json::object svc{{"spec", json::object{{"clusterIP", "10.96.0.5"}}}};
  {
    auto res = a.AllocateFor(svc, nullptr);
    ASSERT_TRUE(res.has_value());
  }
  json::object again{{"spec", json::object{{"clusterIP", "10.96.0.5"}}}};
  auto res = a.AllocateFor(again, nullptr);
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  res->Commit();
  a.Release(again);
  json::object third{{"spec", json::object{{"clusterIP", "10.96.0.5"}}}};
  EXPECT_TRUE(a.AllocateFor(third, nullptr).has_value());
}

TEST_F(ServiceAllocatorTest, AFullRangeIsReported) {
  ServiceAllocator a(options_, *store_, nullptr);
  ASSERT_TRUE(a.Init().ok());
  // 16 addresses: network, broadcast and the first address are never handed out at random.
  for (int i = 0; i < 13; ++i) {
    json::object svc{{"spec", json::object{}}};
    auto res = a.AllocateFor(svc, nullptr);
    ASSERT_TRUE(res.has_value()) << i << ": " << res.error().ToString();
    res->Commit();
  }
  json::object svc{{"spec", json::object{}}};
  auto full = a.AllocateFor(svc, nullptr);
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().message(), "failed to allocate a serviceIP: range is full");
}

TEST_F(ServiceAllocatorTest, RepairReleasesALeakOnlyAfterThreeRepairs) {
  ServiceAllocator a(options_, *store_, nullptr);
  ASSERT_TRUE(a.Init().ok());
  json::object svc{{"spec", json::object{{"clusterIP", "10.96.0.7"}}}};
  auto res = a.AllocateFor(svc, nullptr);
  ASSERT_TRUE(res.has_value());
  res->Commit();  // no Service holds it: a leak
  auto taken = [&] {
    json::object probe{{"spec", json::object{{"clusterIP", "10.96.0.7"}}}};
    auto r = a.AllocateFor(probe, nullptr);
    return !r.has_value();  // an uncommitted probe gives the address back
  };
  ASSERT_TRUE(a.Repair().ok());
  ASSERT_TRUE(a.Repair().ok());
  EXPECT_TRUE(taken());
  ASSERT_TRUE(a.Repair().ok());
  EXPECT_FALSE(taken());
}

}  // namespace
}  // namespace skiff
