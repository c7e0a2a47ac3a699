#include "controllers/replicaset_controller.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/json.hpp>

#include "client/test_api_server.h"
#include "controllers/objects.h"

namespace skiff {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

const ResourcePath kPods{"", "v1", "pods"};
const ResourcePath kReplicaSets{"apps", "v1", "replicasets"};

json::object ReplicaSet(const std::string& name, int replicas) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":")" + name +
                     R"("},"spec":{"replicas":)" + std::to_string(replicas) +
                     R"(,"selector":{"matchLabels":{"app":")" + name +
                     R"("}},"template":{"metadata":{"labels":{"app":")" + name +
                     R"("}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})")
      .as_object();
}

class ReplicaSetControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    replicasets_ = std::make_unique<Informer>(server_.client(), kReplicaSets);
    pods_ = std::make_unique<Informer>(server_.client(), kPods);
    controller_ = std::make_unique<ReplicaSetController>(server_.client(), *replicasets_, *pods_);
    replicasets_->Start();
    pods_->Start();
    ASSERT_TRUE(replicasets_->WaitForSync(milliseconds(5000)));
    ASSERT_TRUE(pods_->WaitForSync(milliseconds(5000)));
    controller_->Start(2);
  }
  void TearDown() override {
    controller_->Stop();
    pods_->Stop();
    replicasets_->Stop();
  }

  // Pods of `rs` (by label) as the API lists them now.
  std::vector<json::object> PodsOf(const std::string& rs) {
    auto list = server_.client().List(kPods, "default", "labelSelector=app%3D" + rs);
    EXPECT_TRUE(list.has_value());
    std::vector<json::object> out;
    if (list) {
      for (auto& p : list->at("items").as_array()) {
        if (IsPodActive(p.as_object())) out.push_back(p.as_object());
      }
    }
    return out;
  }
  bool WaitForPods(const std::string& rs, size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (PodsOf(rs).size() == n) {
        std::this_thread::sleep_for(milliseconds(100));  // and it stays there
        if (PodsOf(rs).size() == n) return true;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
  json::object Rs(const std::string& name) {
    return *server_.client().Get(kReplicaSets, "default", name);
  }
  void Scale(const std::string& name, int replicas) {
    ASSERT_TRUE(server_.client()
                    .Patch(kReplicaSets, "default", name, "application/merge-patch+json",
                           R"({"spec":{"replicas":)" + std::to_string(replicas) + "}}")
                    .has_value());
  }

  TestApiServer server_;
  std::unique_ptr<Informer> replicasets_, pods_;
  std::unique_ptr<ReplicaSetController> controller_;
};

TEST_F(ReplicaSetControllerTest, CreatesOwnedPodsAndScales) {
  auto rs = server_.client().Create(kReplicaSets, "default", ReplicaSet("web", 3));
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  ASSERT_TRUE(WaitForPods("web", 3));
  for (const auto& pod : PodsOf("web")) {
    std::string name = StrAt(pod, {"metadata", "name"});
    EXPECT_TRUE(name.starts_with("web-")) << name;
    EXPECT_EQ(name.size(), 9u) << name;  // web- and five characters
    auto owner = ControllerOf(pod);
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->kind, "ReplicaSet");
    EXPECT_EQ(owner->name, "web");
    EXPECT_EQ(owner->uid, StrAt(*rs, {"metadata", "uid"}));
  }
  Scale("web", 6);
  ASSERT_TRUE(WaitForPods("web", 6));
  Scale("web", 2);
  ASSERT_TRUE(WaitForPods("web", 2));
  for (int i = 0; i < 300 && IntAt(Rs("web"), {"status", "replicas"}, -1) != 2; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  json::object status = Rs("web").at("status").as_object();
  EXPECT_EQ(IntAt(status, {"replicas"}), 2);
  EXPECT_EQ(IntAt(status, {"fullyLabeledReplicas"}), 2);
  EXPECT_EQ(IntAt(status, {"observedGeneration"}), IntAt(Rs("web"), {"metadata", "generation"}));
}

TEST_F(ReplicaSetControllerTest, ReplacesDeletedPodsAdoptsOrphansAndReleasesRelabelled) {
  ASSERT_TRUE(server_.client().Create(kReplicaSets, "default", ReplicaSet("api", 2)).has_value());
  ASSERT_TRUE(WaitForPods("api", 2));
  std::string victim = StrAt(PodsOf("api")[0], {"metadata", "name"});
  ASSERT_TRUE(server_.client().Delete(kPods, "default", victim).ok());
  ASSERT_TRUE(WaitForPods("api", 2));
  for (const auto& pod : PodsOf("api")) EXPECT_NE(StrAt(pod, {"metadata", "name"}), victim);

  // An orphan with the selector's labels is adopted; the surplus is then deleted.
  json::object orphan =
      json::parse(
          R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"stray","labels":{"app":"api"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}})")
          .as_object();
  ASSERT_TRUE(server_.client().Create(kPods, "default", orphan).has_value());
  ASSERT_TRUE(WaitForPods("api", 2));

  // A pod relabelled out of the selector is released (no owner) and replaced.
  std::string moved = StrAt(PodsOf("api")[0], {"metadata", "name"});
  ASSERT_TRUE(server_.client()
                  .Patch(kPods, "default", moved, "application/merge-patch+json",
                         R"({"metadata":{"labels":{"app":"elsewhere"}}})")
                  .has_value());
  ASSERT_TRUE(WaitForPods("api", 2));
  bool released = false;
  for (int i = 0; i < 300 && !released; ++i) {
    auto pod = server_.client().Get(kPods, "default", moved);
    released = pod && !ControllerOf(*pod).has_value();
    if (!released) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(released);
}

TEST_F(ReplicaSetControllerTest, CountsReadyAndAvailablePods) {
  json::object rs = ReplicaSet("ready", 2);
  ASSERT_TRUE(server_.client().Create(kReplicaSets, "default", rs).has_value());
  ASSERT_TRUE(WaitForPods("ready", 2));
  for (const auto& pod : PodsOf("ready")) {
    json::object p = pod;
    p["status"] = json::parse(
        R"({"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2020-01-01T00:00:00Z"}]})");
    ASSERT_TRUE(server_.client().Update(kPods, "default", p, "status").has_value());
  }
  for (int i = 0; i < 300 && IntAt(Rs("ready"), {"status", "availableReplicas"}) != 2; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  json::object status = Rs("ready").at("status").as_object();
  EXPECT_EQ(IntAt(status, {"readyReplicas"}), 2);
  EXPECT_EQ(IntAt(status, {"availableReplicas"}), 2);
}

TEST(ControllerObjectsTest, PodStates) {
  auto pod = [](const char* text) { return json::parse(text).as_object(); };
  EXPECT_TRUE(IsPodActive(pod(R"({"status":{"phase":"Pending"}})")));
  EXPECT_FALSE(IsPodActive(pod(R"({"status":{"phase":"Succeeded"}})")));
  EXPECT_FALSE(IsPodActive(pod(R"({"metadata":{"deletionTimestamp":"2024-01-01T00:00:00Z"}})")));
  json::object ready = pod(
      R"({"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"}]}})");
  EXPECT_TRUE(IsPodReady(ready));
  auto t = *ParseRfc3339("2024-01-01T00:00:10Z");
  EXPECT_TRUE(IsPodAvailable(ready, 10, t));
  EXPECT_FALSE(IsPodAvailable(ready, 11, t));
  EXPECT_FALSE(IsPodReady(pod(R"({"status":{"conditions":[{"type":"Ready","status":"False"}]}})")));
}

}  // namespace
}  // namespace skiff
