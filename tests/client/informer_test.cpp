#include "client/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "client/test_api_server.h"

namespace skiff {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

const ResourcePath kConfigMaps{"", "v1", "configmaps"};

json::object ConfigMap(const std::string& name, const std::string& app) {
  return json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
                     R"(","labels":{"app":")" + app + R"("}},"data":{"k":"v"}})")
      .as_object();
}

std::string AppOf(const json::object& obj) {
  const json::value* labels = obj.at("metadata").as_object().if_contains("labels");
  if (!labels || !labels->is_object()) return {};
  const json::value* app = labels->as_object().if_contains("app");
  return app && app->is_string() ? std::string(app->as_string()) : std::string();
}

// Records what the handlers saw.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;  // "add ns/name", "update ns/name", "delete ns/name"
  InformerHandlers Handlers() {
    return {[this](const ObjectPtr& o) { Push("add " + ObjectKey(*o)); },
            [this](const ObjectPtr&, const ObjectPtr& o) { Push("update " + ObjectKey(*o)); },
            [this](const ObjectPtr& o) { Push("delete " + ObjectKey(*o)); }};
  }
  void Push(std::string e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  }
  bool WaitFor(const std::string& e) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu);
        if (std::find(events.begin(), events.end(), e) != events.end()) return true;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
  size_t Count() {
    std::lock_guard lock(mu);
    return events.size();
  }
};

TEST(InformerTest, ListsInPagesThenFollowsChangesWithIndexes) {
  TestApiServer server;
  Client& c = server.client();
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(c.Create(kConfigMaps, "default",
                         ConfigMap("cm-" + std::to_string(i), i % 2 ? "odd" : "even"))
                    .has_value());
  }
  InformerOptions options;
  options.ns = "default";
  options.page_size = 3;  // three pages
  options.label_selector = "app";
  Informer informer(c, kConfigMaps, options);
  Recorder rec;
  informer.AddHandlers(rec.Handlers());
  informer.AddIndex("app",
                    [](const json::object& o) { return std::vector<std::string>{AppOf(o)}; });
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(milliseconds(5000)));
  EXPECT_EQ(informer.List().size(), 7u);
  EXPECT_EQ(rec.Count(), 7u);
  EXPECT_EQ(informer.ByIndex("app", "odd").size(), 3u);
  EXPECT_EQ(informer.ByIndex("app", "even").size(), 4u);
  ObjectPtr cm0 = informer.Get("default/cm-0");
  ASSERT_TRUE(cm0);
  EXPECT_EQ(cm0->at("kind").as_string(), "ConfigMap");  // list items get their kind back

  ASSERT_TRUE(c.Create(kConfigMaps, "default", ConfigMap("late", "odd")).has_value());
  EXPECT_TRUE(rec.WaitFor("add default/late"));
  EXPECT_EQ(informer.ByIndex("app", "odd").size(), 4u);
  ASSERT_TRUE(c.Patch(kConfigMaps, "default", "cm-0", "application/merge-patch+json",
                      R"({"metadata":{"labels":{"app":"odd"}}})")
                  .has_value());
  EXPECT_TRUE(rec.WaitFor("update default/cm-0"));
  EXPECT_EQ(informer.ByIndex("app", "odd").size(), 5u);
  EXPECT_EQ(informer.ByIndex("app", "even").size(), 3u);
  ASSERT_TRUE(c.Delete(kConfigMaps, "default", "cm-1").ok());
  EXPECT_TRUE(rec.WaitFor("delete default/cm-1"));
  EXPECT_FALSE(informer.Get("default/cm-1"));
  EXPECT_EQ(informer.ByIndex("app", "odd").size(), 4u);

  // Outside the selector or the namespace: not seen.
  ASSERT_TRUE(c.Create(kConfigMaps, "kube-system", ConfigMap("other-ns", "odd")).has_value());
  json::object unlabelled = ConfigMap("unlabelled", "x");
  unlabelled["metadata"].as_object().erase("labels");
  ASSERT_TRUE(c.Create(kConfigMaps, "default", unlabelled).has_value());
  ASSERT_TRUE(c.Create(kConfigMaps, "default", ConfigMap("marker", "odd")).has_value());
  EXPECT_TRUE(rec.WaitFor("add default/marker"));
  EXPECT_FALSE(informer.Get("kube-system/other-ns"));
  EXPECT_FALSE(informer.Get("default/unlabelled"));
  informer.Stop();
}

// Answers the first watch with 410 Gone, as a server whose history was compacted does.
class GoneOnceClient final : public Client {
 public:
  explicit GoneOnceClient(Client& inner) : inner_(inner) {}
  Result<ClientResponse> Do(std::string_view method, std::string_view target, std::string_view body,
                            std::string_view content_type) override {
    if (method == "GET" && target.find("watch=") == std::string_view::npos) ++lists;
    return inner_.Do(method, target, body, content_type);
  }
  Result<std::unique_ptr<WatchStream>> Watch(std::string_view target) override {
    if (!gone_sent_.exchange(true)) {
      return Err(Status(StatusCode::kGone, "too old resource version"));
    }
    return inner_.Watch(target);
  }
  std::atomic<int> lists{0};

 private:
  Client& inner_;
  std::atomic<bool> gone_sent_{false};
};

TEST(InformerTest, ListsAgainWhenTheWatchIsGoneAndReportsTheDifference) {
  TestApiServer server;
  GoneOnceClient c(server.client());
  ASSERT_TRUE(c.Create(kConfigMaps, "default", ConfigMap("stays", "a")).has_value());
  InformerOptions options;
  options.ns = "default";
  Informer informer(c, kConfigMaps, options);
  Recorder rec;
  informer.AddHandlers(rec.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(milliseconds(5000)));
  ASSERT_TRUE(c.Create(kConfigMaps, "default", ConfigMap("after", "a")).has_value());
  EXPECT_TRUE(rec.WaitFor("add default/after"));
  EXPECT_GE(c.lists.load(), 2);  // the 410 made it list again
  EXPECT_EQ(informer.List().size(), 2u);
  informer.Stop();
}

TEST(InformerTest, StopEndsAnOpenWatch) {
  TestApiServer server;
  Informer informer(server.client(), kConfigMaps);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(50));
  auto started = std::chrono::steady_clock::now();
  informer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(2000));
}

}  // namespace
}  // namespace skiff
