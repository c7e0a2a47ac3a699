#include "apiserver/watch_cache.h"

#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "storage/sqlite/sqlite_store.h"

namespace skiff {
namespace {

namespace json = boost::json;

std::string ConfigMap(const std::string& ns, const std::string& name, const std::string& app) {
  json::object o{
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       json::object{{"name", name}, {"namespace", ns}, {"labels", json::object{{"app", app}}}}}};
  return json::serialize(o);
}

struct Recorded {
  WatchEventKind kind;
  std::string key;
  int64_t revision;
};

class WatchCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("watch_cache_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = SqliteStore::Open((dir_ / "state.db").string());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    cache_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  int64_t Put(const std::string& ns, const std::string& name, const std::string& app) {
    std::string key = "/registry/configmaps/" + ns + "/" + name;
    auto existing = store_->Get(key);
    if (existing) return *store_->Update(key, ConfigMap(ns, name, app), existing->mod_revision);
    return *store_->Create(key, ConfigMap(ns, name, app));
  }
  void StartCache(size_t capacity = 100) {
    cache_ = std::make_unique<WatchCache>(*store_, "/registry/configmaps/", capacity);
    ASSERT_TRUE(cache_->Start().ok());
  }
  void WaitFresh() {
    auto rev = store_->CurrentRevision();
    ASSERT_TRUE(rev.has_value());
    ASSERT_TRUE(cache_->WaitUntilFresh(*rev, std::chrono::seconds(5)));
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<WatchCache> cache_;
};

TEST_F(WatchCacheTest, ListsInitialStateAndFollowsWrites) {
  Put("a", "one", "x");
  StartCache();
  Put("b", "two", "y");
  WaitFresh();
  int64_t rev = 0;
  bool more = false;
  auto all = cache_->List(ObjectFilter{}, "", 0, &rev, &more);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->key, "a/one");
  EXPECT_EQ(all[1]->key, "b/two");
  EXPECT_FALSE(more);
  EXPECT_NE(all[1]->json.find("\"resourceVersion\":\"" + std::to_string(all[1]->revision) + "\""),
            std::string::npos);

  ObjectFilter in_b;
  in_b.ns = "b";
  auto only_b = cache_->List(in_b, "", 0, nullptr, nullptr);
  ASSERT_EQ(only_b.size(), 1u);
  EXPECT_EQ(only_b[0]->name, "two");
}

TEST_F(WatchCacheTest, ListPaginatesInKeyOrder) {
  for (int i = 0; i < 10; ++i) Put("ns", "cm" + std::to_string(i), "x");
  StartCache();
  bool more = false;
  auto page = cache_->List(ObjectFilter{}, "", 4, nullptr, &more);
  ASSERT_EQ(page.size(), 4u);
  EXPECT_TRUE(more);
  auto next = cache_->List(ObjectFilter{}, page.back()->key, 100, nullptr, &more);
  EXPECT_EQ(next.size(), 6u);
  EXPECT_FALSE(more);
  EXPECT_EQ(next.front()->key, "ns/cm4");
}

TEST_F(WatchCacheTest, WatchReplaysFromRevisionThenLive) {
  StartCache();
  int64_t r1 = Put("ns", "a", "x");
  Put("ns", "b", "x");
  WaitFresh();
  std::mutex mu;
  std::vector<Recorded> got;
  auto w = cache_->Watch(r1, false, ObjectFilter{},
                         [&](WatchEventKind k, const CachedObjectPtr& o, int64_t rev) {
                           std::lock_guard lock(mu);
                           got.push_back({k, o ? o->key : "", rev});
                           return true;
                         });
  ASSERT_TRUE(w.has_value());
  Put("ns", "a", "y");
  ASSERT_TRUE(store_->Delete("/registry/configmaps/ns/b", 0).has_value());
  WaitFresh();
  std::lock_guard lock(mu);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, WatchEventKind::kAdded);
  EXPECT_EQ(got[0].key, "ns/b");
  EXPECT_EQ(got[1].kind, WatchEventKind::kModified);
  EXPECT_EQ(got[2].kind, WatchEventKind::kDeleted);
  EXPECT_LT(got[0].revision, got[1].revision);
  EXPECT_LT(got[1].revision, got[2].revision);
}

TEST_F(WatchCacheTest, WatchFromZeroSendsInitialAdds) {
  Put("ns", "a", "x");
  Put("ns", "b", "x");
  StartCache();
  int adds = 0;
  auto w = cache_->Watch(0, true, ObjectFilter{},
                         [&](WatchEventKind k, const CachedObjectPtr&, int64_t) {
                           if (k == WatchEventKind::kAdded) ++adds;
                           return true;
                         });
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(adds, 2);
}

TEST_F(WatchCacheTest, SelectorTransitionsBecomeAddedAndDeleted) {
  StartCache();
  std::vector<WatchEventKind> kinds;
  std::mutex mu;
  ObjectFilter only_y;
  only_y.predicate = [](const json::value& v) {
    auto* labels = v.as_object().at("metadata").as_object().if_contains("labels");
    return labels && labels->as_object().at("app") == "y";
  };
  auto w = cache_->Watch(0, true, only_y, [&](WatchEventKind k, const CachedObjectPtr&, int64_t) {
    std::lock_guard lock(mu);
    kinds.push_back(k);
    return true;
  });
  ASSERT_TRUE(w.has_value());
  Put("ns", "a", "x");  // not matching: nothing
  Put("ns", "a", "y");  // starts matching: ADDED
  Put("ns", "a", "x");  // stops matching: DELETED
  WaitFresh();
  std::lock_guard lock(mu);
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0], WatchEventKind::kAdded);
  EXPECT_EQ(kinds[1], WatchEventKind::kDeleted);
}

TEST_F(WatchCacheTest, ListAtRebuildsAnEarlierRevisionFromRecentEvents) {
  Put("a", "one", "x");
  Put("a", "two", "x");
  Put("b", "three", "x");
  StartCache();
  const int64_t then = *store_->CurrentRevision();
  // After `then`: one object changes, one is deleted, two are added (one in each place
  // of the key order), and the deleted one's key comes back.
  Put("a", "one", "changed");
  auto two = store_->Get("/registry/configmaps/a/two");
  ASSERT_TRUE(two.has_value());
  ASSERT_TRUE(store_->Delete("/registry/configmaps/a/two", two->mod_revision).has_value());
  Put("a", "zero", "new");
  Put("c", "four", "new");
  WaitFresh();

  auto keys = [](const std::vector<CachedObjectPtr>& objs) {
    std::vector<std::string> out;
    for (const auto& o : objs) out.push_back(o->key + "@" + std::to_string(o->revision));
    return out;
  };
  std::vector<CachedObjectPtr> page;
  bool more = true;
  ASSERT_TRUE(cache_->ListAt(then, ObjectFilter{}, "", 0, &page, &more));
  EXPECT_FALSE(more);
  EXPECT_EQ(keys(page), (std::vector<std::string>{"a/one@1", "a/two@2", "b/three@3"}));
  // The changed object is returned as it was.
  EXPECT_NE(page[0]->json.find("\"app\":\"x\""), std::string::npos);

  // Pages at that revision, continuing after a key.
  ASSERT_TRUE(cache_->ListAt(then, ObjectFilter{}, "", 2, &page, &more));
  EXPECT_TRUE(more);
  EXPECT_EQ(keys(page), (std::vector<std::string>{"a/one@1", "a/two@2"}));
  ASSERT_TRUE(cache_->ListAt(then, ObjectFilter{}, "a/two", 2, &page, &more));
  EXPECT_FALSE(more);
  EXPECT_EQ(keys(page), (std::vector<std::string>{"b/three@3"}));

  // One namespace only.
  ObjectFilter in_a;
  in_a.ns = "a";
  ASSERT_TRUE(cache_->ListAt(then, in_a, "", 0, &page, &more));
  EXPECT_EQ(keys(page), (std::vector<std::string>{"a/one@1", "a/two@2"}));

  // At the current revision it is the current state.
  ASSERT_TRUE(cache_->ListAt(cache_->revision(), in_a, "", 0, &page, &more));
  EXPECT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0]->key, "a/one");
  EXPECT_EQ(page[1]->key, "a/zero");

  // Revisions the cache cannot rebuild.
  EXPECT_FALSE(cache_->ListAt(cache_->revision() + 1, ObjectFilter{}, "", 0, &page, &more));
}

TEST_F(WatchCacheTest, ListAtRefusesRevisionsOlderThanTheRing) {
  Put("a", "one", "x");
  StartCache(/*capacity=*/2);
  const int64_t then = *store_->CurrentRevision();
  for (int i = 0; i < 5; ++i) Put("a", "one", "v" + std::to_string(i));
  WaitFresh();
  std::vector<CachedObjectPtr> page;
  bool more = false;
  EXPECT_FALSE(cache_->ListAt(then, ObjectFilter{}, "", 0, &page, &more));
  EXPECT_TRUE(page.empty());
}

TEST_F(WatchCacheTest, TooOldRevisionIsGone) {
  StartCache(/*capacity=*/3);
  int64_t first = Put("ns", "a", "x");
  for (int i = 0; i < 5; ++i) Put("ns", "a", "v" + std::to_string(i));
  WaitFresh();
  auto w = cache_->Watch(first, false, ObjectFilter{},
                         [](WatchEventKind, const CachedObjectPtr&, int64_t) { return true; });
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code(), StatusCode::kGone);
}

TEST_F(WatchCacheTest, SinkReturningFalseEndsTheWatch) {
  StartCache();
  auto w = cache_->Watch(0, false, ObjectFilter{},
                         [](WatchEventKind, const CachedObjectPtr&, int64_t) { return false; });
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(cache_->watcher_count(), 1u);
  Put("ns", "a", "x");
  WaitFresh();
  EXPECT_EQ(cache_->watcher_count(), 0u);
  EXPECT_FALSE((*w)->live());
}

TEST_F(WatchCacheTest, DestroyingTheHandleUnregisters) {
  StartCache();
  {
    auto w = cache_->Watch(0, false, ObjectFilter{},
                           [](WatchEventKind, const CachedObjectPtr&, int64_t) { return true; });
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(cache_->watcher_count(), 1u);
  }
  EXPECT_EQ(cache_->watcher_count(), 0u);
}

TEST_F(WatchCacheTest, BookmarkCarriesCurrentRevision) {
  StartCache();
  int64_t rev = Put("ns", "a", "x");
  WaitFresh();
  int64_t bookmark_rev = 0;
  auto w = cache_->Watch(0, false, ObjectFilter{},
                         [&](WatchEventKind k, const CachedObjectPtr&, int64_t r) {
                           if (k == WatchEventKind::kBookmark) bookmark_rev = r;
                           return true;
                         });
  ASSERT_TRUE(w.has_value());
  cache_->Bookmark(*w);
  EXPECT_EQ(bookmark_rev, rev);
}

TEST_F(WatchCacheTest, LoadAgainEndsWatchersAndRestartsTheRing) {
  // A cache fed by its owner (no watch of its own) re-lists after its store watch was lost.
  Put("ns", "a", "x");
  cache_ = std::make_unique<WatchCache>(*store_, "/registry/configmaps/", 100);
  ASSERT_TRUE(cache_->Load().ok());
  int64_t loaded = cache_->revision();
  std::vector<WatchEventKind> got;
  auto w = cache_->Watch(0, false, ObjectFilter{},
                         [&](WatchEventKind k, const CachedObjectPtr&, int64_t) {
                           got.push_back(k);
                           return true;
                         });
  ASSERT_TRUE(w.has_value());
  // Writes the cache never heard of as events.
  Put("ns", "b", "x");
  ASSERT_TRUE(store_->Delete("/registry/configmaps/ns/a", 0).has_value());
  ASSERT_TRUE(cache_->Load().ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], WatchEventKind::kError);
  EXPECT_FALSE((*w)->live());
  EXPECT_EQ(cache_->watcher_count(), 0u);
  auto all = cache_->List(ObjectFilter{}, "", 0, nullptr, nullptr);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]->key, "ns/b");
  EXPECT_GT(cache_->revision(), loaded);
  // History before the re-list cannot be replayed: a watch from there is told to re-list.
  auto old = cache_->Watch(loaded, false, ObjectFilter{},
                           [](WatchEventKind, const CachedObjectPtr&, int64_t) { return true; });
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().code(), StatusCode::kGone);
  auto current =
      cache_->Watch(cache_->revision(), false, ObjectFilter{},
                    [](WatchEventKind, const CachedObjectPtr&, int64_t) { return true; });
  EXPECT_TRUE(current.has_value());
}

}  // namespace
}  // namespace skiff
