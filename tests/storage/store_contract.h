// The Store contract test suite: what every storage backend (SQLite, etcd) must do, written
// only against the Store interface (storage/store.h).
//
// A backend joins the suite by instantiating it with a factory of fresh stores:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//                            ::testing::Values(StoreContractBackend{
//                                .name = "Default", .make_env = [] { return ...; }}),
//                            StoreContractBackendName);
//
// This header defines the tests themselves (TEST_P), so it must be included by exactly one
// translation unit of a test binary; that file instantiates the suite for each backend.
//
// Every test gets its own empty store and may assume it is the only client of it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/store.h"

namespace skiff {

// The data of one store under test (e.g. a temp dir, or an etcd server), removed when
// destroyed.
class StoreTestEnv {
 public:
  virtual ~StoreTestEnv() = default;
  // Opens the store. Called again after the previous store was destroyed, it must open
  // the same data (for backends with supports_reopen).
  virtual Result<std::unique_ptr<Store>> Open() = 0;
};

struct StoreContractBackend {
  std::string name;  // a test name suffix: letters, digits and '_' only
  // Makes a fresh environment whose store starts empty.
  std::function<std::unique_ptr<StoreTestEnv>()> make_env;
  // The data survives destroying the store and opening it again.
  bool supports_reopen = true;
  // A fresh store is at revision 0 and its first write gets revision 1 (etcd, for one,
  // starts at revision 1). Other tests only rely on revisions relative to the start.
  bool first_write_is_revision_one = true;
};

inline std::string StoreContractBackendName(
    const ::testing::TestParamInfo<StoreContractBackend>& info) {
  return info.param.name;
}

// Collects what a watch delivers. Thread-safe. Must outlive the watch it records.
class WatchRecorder {
 public:
  // The callback to pass to Store::Watch.
  WatchCallback Callback() {
    return [this](WatchBatch&& batch) { Record(std::move(batch)); };
  }

  void Record(WatchBatch&& batch) {
    std::lock_guard lock(mu_);
    ++callbacks_;
    if (error_) ++callbacks_after_error_;
    for (WatchEvent& event : batch.events) events_.push_back(std::move(event));
    if (!batch.error.ok()) error_ = std::move(batch.error);
    cv_.notify_all();
  }

  // Waits until at least `count` events arrived. Returns false on timeout.
  bool WaitForEvents(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= count; });
  }

  // Waits until an error arrived. Returns false on timeout.
  bool WaitForError(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return error_.has_value(); });
  }

  std::vector<WatchEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::optional<Status> error() const {
    std::lock_guard lock(mu_);
    return error_;
  }
  int callbacks_after_error() const {
    std::lock_guard lock(mu_);
    return callbacks_after_error_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
  std::optional<Status> error_;
  int callbacks_ = 0;
  int callbacks_after_error_ = 0;
};

class StoreContractTest : public ::testing::TestWithParam<StoreContractBackend> {
 protected:
  void SetUp() override {
    env_ = GetParam().make_env();
    ASSERT_NE(env_, nullptr);
    auto opened = env_->Open();
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(*opened);
  }

  void TearDown() override {
    store_.reset();
    env_.reset();
  }

  // Closes the store and opens the same data again.
  void Reopen() {
    store_.reset();
    auto opened = env_->Open();
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(*opened);
  }

  Store& store() { return *store_; }

  int64_t Current() {
    auto revision = store_->CurrentRevision();
    EXPECT_TRUE(revision.has_value());
    return revision.value_or(-1);
  }

  // Creates `key` and returns its revision; fails the test on error.
  int64_t MustCreate(const std::string& key, const std::string& value) {
    auto revision = store_->Create(key, value);
    EXPECT_TRUE(revision.has_value()) << key << ": " << revision.error().ToString();
    return revision.value_or(-1);
  }

  int64_t MustUpdate(const std::string& key, const std::string& value, int64_t expected) {
    auto revision = store_->Update(key, value, expected);
    EXPECT_TRUE(revision.has_value()) << key << ": " << revision.error().ToString();
    return revision.value_or(-1);
  }

  int64_t MustDelete(const std::string& key, int64_t expected = 0) {
    auto deleted = store_->Delete(key, expected);
    EXPECT_TRUE(deleted.has_value()) << key << ": " << deleted.error().ToString();
    return deleted ? deleted->revision : -1;
  }

  // Keys of a range result, in order.
  static std::vector<std::string> Keys(const RangeResult& result) {
    std::vector<std::string> keys;
    for (const KeyValue& kv : result.kvs) keys.push_back(kv.key);
    return keys;
  }

  std::unique_ptr<StoreTestEnv> env_;
  std::unique_ptr<Store> store_;
};

// --- Create / Get / Update / Delete -------------------------------------------------------

TEST_P(StoreContractTest, CreateThenGetReturnsValueAndRevisions) {
  const int64_t revision = MustCreate("/registry/pods/default/a", "value-a");
  EXPECT_GT(revision, 0);
  auto kv = store().Get("/registry/pods/default/a");
  ASSERT_TRUE(kv.has_value()) << kv.error().ToString();
  EXPECT_EQ(kv->key, "/registry/pods/default/a");
  EXPECT_EQ(kv->value, "value-a");
  EXPECT_EQ(kv->create_revision, revision);
  EXPECT_EQ(kv->mod_revision, revision);
  EXPECT_EQ(Current(), revision);
}

TEST_P(StoreContractTest, FreshStoreStartsAtRevisionZeroAndFirstWriteIsOne) {
  if (GetParam().first_write_is_revision_one) {
    EXPECT_EQ(Current(), 0);
    EXPECT_EQ(store().CompactedRevision(), 0);
    EXPECT_EQ(MustCreate("/k", "v"), 1);
  } else {
    // A backend with revisions of its own (etcd starts at 1 and counts every client's
    // writes): the first write of this store still comes right after the current one.
    const int64_t current = Current();
    EXPECT_LE(store().CompactedRevision(), current);
    EXPECT_EQ(MustCreate("/k", "v"), current + 1);
  }
}

TEST_P(StoreContractTest, EachSuccessfulWriteAdvancesRevisionByOne) {
  const int64_t created = MustCreate("/k", "v1");
  const int64_t updated = MustUpdate("/k", "v2", created);
  const int64_t other = MustCreate("/other", "x");
  const int64_t deleted = MustDelete("/k", updated);
  EXPECT_EQ(updated, created + 1);
  EXPECT_EQ(other, created + 2);
  EXPECT_EQ(deleted, created + 3);
  EXPECT_EQ(Current(), deleted);
}

TEST_P(StoreContractTest, CreateOfLiveKeyFailsWithAlreadyExists) {
  const int64_t revision = MustCreate("/k", "v1");
  auto again = store().Create("/k", "v2");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  auto kv = store().Get("/k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "v1");
  EXPECT_EQ(Current(), revision) << "a failed write must not consume a revision";
}

TEST_P(StoreContractTest, UpdateKeepsCreateRevisionAndSetsModRevision) {
  const int64_t created = MustCreate("/k", "v1");
  const int64_t updated = MustUpdate("/k", "v2", created);
  const int64_t updated_again = MustUpdate("/k", "v3", updated);
  auto kv = store().Get("/k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "v3");
  EXPECT_EQ(kv->create_revision, created);
  EXPECT_EQ(kv->mod_revision, updated_again);
}

TEST_P(StoreContractTest, UpdateWithStaleModRevisionFailsWithConflict) {
  const int64_t created = MustCreate("/k", "v1");
  MustUpdate("/k", "v2", created);
  const int64_t before = Current();
  auto stale = store().Update("/k", "v3", created);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code(), StatusCode::kConflict);
  EXPECT_EQ(store().Get("/k")->value, "v2");
  EXPECT_EQ(Current(), before);
}

TEST_P(StoreContractTest, UpdateOfMissingKeyFailsWithNotFound) {
  MustCreate("/other", "x");
  auto missing = store().Update("/missing", "v", 1);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, DeleteReturnsDeletedValueAndRemovesKey) {
  const int64_t created = MustCreate("/k", "v1");
  const int64_t updated = MustUpdate("/k", "v2", created);
  auto deleted = store().Delete("/k", updated);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  EXPECT_EQ(deleted->revision, updated + 1);
  EXPECT_EQ(deleted->deleted.key, "/k");
  EXPECT_EQ(deleted->deleted.value, "v2");
  EXPECT_EQ(deleted->deleted.create_revision, created);
  EXPECT_EQ(deleted->deleted.mod_revision, updated);
  auto gone = store().Get("/k");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, DeleteWithZeroExpectedRevisionIsUnconditional) {
  const int64_t created = MustCreate("/k", "v1");
  MustUpdate("/k", "v2", created);
  auto deleted = store().Delete("/k", 0);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  EXPECT_EQ(deleted->deleted.value, "v2");
}

TEST_P(StoreContractTest, DeleteWithStaleModRevisionFailsWithConflict) {
  const int64_t created = MustCreate("/k", "v1");
  MustUpdate("/k", "v2", created);
  auto stale = store().Delete("/k", created);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code(), StatusCode::kConflict);
  EXPECT_TRUE(store().Get("/k").has_value());
}

TEST_P(StoreContractTest, DeleteOfMissingKeyFailsWithNotFound) {
  const int64_t start = Current();
  auto missing = store().Delete("/missing", 0);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(Current(), start);
}

TEST_P(StoreContractTest, GetOfMissingKeyFailsWithNotFound) {
  auto missing = store().Get("/missing");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, CreateAfterDeleteStartsANewLife) {
  const int64_t first = MustCreate("/k", "v1");
  MustDelete("/k");
  const int64_t second = MustCreate("/k", "v2");
  auto kv = store().Get("/k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->create_revision, second);
  EXPECT_GT(second, first);
}

TEST_P(StoreContractTest, BinaryKeysAndValuesRoundTrip) {
  const std::string key("/bin/\xff\x00\x01", 8);
  const std::string value("\x00\xff\x7f value", 9);
  MustCreate(key, value);
  MustCreate("/bin/empty", "");
  auto kv = store().Get(key);
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->key, key);
  EXPECT_EQ(kv->value, value);
  auto empty = store().Get("/bin/empty");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->value, "");
  auto range = store().Range("/bin/", "", 0, 0);
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(Keys(*range), (std::vector<std::string>{"/bin/empty", key}));
}

// --- Range --------------------------------------------------------------------------------

TEST_P(StoreContractTest, RangeReturnsKeysUnderPrefixInKeyOrder) {
  for (const char* key : {"/a/c", "/a/a", "/a0", "/a", "/ab", "/a/b/deep", "/b/x"}) {
    MustCreate(key, std::string("v") + key);
  }
  auto range = store().Range("/a/", "", 0, 0);
  ASSERT_TRUE(range.has_value()) << range.error().ToString();
  EXPECT_EQ(Keys(*range), (std::vector<std::string>{"/a/a", "/a/b/deep", "/a/c"}));
  EXPECT_FALSE(range->more);
  EXPECT_EQ(range->revision, Current());
  EXPECT_EQ(range->kvs[0].value, "v/a/a");
  EXPECT_EQ(range->kvs[0].create_revision, range->kvs[0].mod_revision);

  auto all = store().Range("", "", 0, 0);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->kvs.size(), 7u);
  EXPECT_TRUE(std::is_sorted(all->kvs.begin(), all->kvs.end(),
                             [](const KeyValue& x, const KeyValue& y) { return x.key < y.key; }));

  auto none = store().Range("/nothing/", "", 0, 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->kvs.empty());
  EXPECT_FALSE(none->more);
}

TEST_P(StoreContractTest, RangeHandlesPrefixEndingInFFBytes) {
  const std::string prefix("/p\xff", 3);
  MustCreate(prefix + "a", "1");
  MustCreate(prefix + "\xff", "2");
  MustCreate("/q", "3");
  auto range = store().Range(prefix, "", 0, 0);
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(Keys(*range), (std::vector<std::string>{prefix + "a", prefix + "\xff"}));
}

TEST_P(StoreContractTest, RangePaginatesWithLimitAndStartAfter) {
  for (int i = 0; i < 10; ++i) MustCreate("/page/" + std::to_string(i), "v");
  MustCreate("/pagez", "outside");

  std::vector<std::string> seen;
  std::string after;
  int64_t revision = 0;
  int pages = 0;
  for (;;) {
    auto page = store().Range("/page/", after, revision, 3);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    ++pages;
    for (const KeyValue& kv : page->kvs) seen.push_back(kv.key);
    if (revision == 0) {
      revision = page->revision;
      // Writes between pages must not show up in later pages read at the first revision.
      MustCreate("/page/05", "late");
      MustDelete("/page/9");
    }
    EXPECT_EQ(page->revision, revision);
    if (!page->more) break;
    ASSERT_EQ(page->kvs.size(), 3u);
    after = page->kvs.back().key;
  }
  EXPECT_EQ(pages, 4);
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) expected.push_back("/page/" + std::to_string(i));
  EXPECT_EQ(seen, expected);

  auto exact = store().Range("/page/", "", 0, 10);
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(exact->kvs.size(), 10u);  // 0-8 and 05
  EXPECT_FALSE(exact->more);
}

TEST_P(StoreContractTest, RangeStartAfterBeforePrefixStartsAtPrefix) {
  MustCreate("/s/a", "1");
  MustCreate("/s/b", "2");
  auto range = store().Range("/s/", "/a", 0, 0);
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(Keys(*range), (std::vector<std::string>{"/s/a", "/s/b"}));
  auto past = store().Range("/s/", "/t", 0, 0);
  ASSERT_TRUE(past.has_value());
  EXPECT_TRUE(past->kvs.empty());
}

TEST_P(StoreContractTest, RangeAtOldRevisionSeesThePast) {
  const int64_t a1 = MustCreate("/old/a", "a1");
  const int64_t b1 = MustCreate("/old/b", "b1");
  const int64_t d1 = MustCreate("/old/d", "d1");
  const int64_t snapshot = Current();
  MustUpdate("/old/a", "a2", a1);
  MustDelete("/old/b", b1);
  MustCreate("/old/c", "c1");
  MustDelete("/old/d", d1);
  const int64_t d2 = MustCreate("/old/d", "d2");

  auto past = store().Range("/old/", "", snapshot, 0);
  ASSERT_TRUE(past.has_value()) << past.error().ToString();
  EXPECT_EQ(past->revision, snapshot);
  ASSERT_EQ(Keys(*past), (std::vector<std::string>{"/old/a", "/old/b", "/old/d"}));
  EXPECT_EQ(past->kvs[0].value, "a1");
  EXPECT_EQ(past->kvs[0].mod_revision, a1);
  EXPECT_EQ(past->kvs[1].value, "b1");
  EXPECT_EQ(past->kvs[2].value, "d1");
  EXPECT_EQ(past->kvs[2].create_revision, d1);

  auto limited = store().Range("/old/", "/old/a", snapshot, 1);
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(Keys(*limited), (std::vector<std::string>{"/old/b"}));
  EXPECT_TRUE(limited->more);

  auto now = store().Range("/old/", "", 0, 0);
  ASSERT_TRUE(now.has_value());
  ASSERT_EQ(Keys(*now), (std::vector<std::string>{"/old/a", "/old/c", "/old/d"}));
  EXPECT_EQ(now->kvs[0].value, "a2");
  EXPECT_EQ(now->kvs[2].create_revision, d2);

  auto before_anything = store().Range("/old/", "", a1, 0);
  ASSERT_TRUE(before_anything.has_value());
  EXPECT_EQ(Keys(*before_anything), (std::vector<std::string>{"/old/a"}));

  auto at_current = store().Range("/old/", "", Current(), 0);
  ASSERT_TRUE(at_current.has_value());
  EXPECT_EQ(Keys(*at_current), Keys(*now));
}

TEST_P(StoreContractTest, RangeAtFutureRevisionFailsWithBadRequest) {
  MustCreate("/k", "v");
  auto future = store().Range("/", "", Current() + 1, 0);
  ASSERT_FALSE(future.has_value());
  EXPECT_EQ(future.error().code(), StatusCode::kBadRequest);
}

// --- Watch --------------------------------------------------------------------------------

TEST_P(StoreContractTest, WatchFromNowDeliversPutsAndDeletesWithPreviousValues) {
  MustCreate("/w/existing", "e1");
  WatchRecorder recorder;
  auto watch = store().Watch("/w/", Current(), recorder.Callback());
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();

  const int64_t created = MustCreate("/w/a", "a1");
  const int64_t updated = MustUpdate("/w/a", "a2", created);
  const int64_t deleted = MustDelete("/w/a", updated);
  ASSERT_TRUE(recorder.WaitForEvents(3));
  const auto events = recorder.events();
  ASSERT_EQ(events.size(), 3u);

  EXPECT_EQ(events[0].type, WatchEventType::kPut);
  EXPECT_EQ(events[0].kv.key, "/w/a");
  EXPECT_EQ(events[0].kv.value, "a1");
  EXPECT_EQ(events[0].kv.create_revision, created);
  EXPECT_EQ(events[0].kv.mod_revision, created);
  EXPECT_FALSE(events[0].prev.has_value());

  EXPECT_EQ(events[1].type, WatchEventType::kPut);
  EXPECT_EQ(events[1].kv.value, "a2");
  EXPECT_EQ(events[1].kv.create_revision, created);
  EXPECT_EQ(events[1].kv.mod_revision, updated);
  ASSERT_TRUE(events[1].prev.has_value());
  EXPECT_EQ(events[1].prev->value, "a1");
  EXPECT_EQ(events[1].prev->mod_revision, created);

  EXPECT_EQ(events[2].type, WatchEventType::kDelete);
  EXPECT_EQ(events[2].kv.key, "/w/a");
  EXPECT_EQ(events[2].kv.value, "a2");
  EXPECT_EQ(events[2].kv.mod_revision, deleted);
  ASSERT_TRUE(events[2].prev.has_value());
  EXPECT_EQ(events[2].prev->value, "a2");
  EXPECT_EQ(events[2].prev->mod_revision, updated);
  EXPECT_EQ(events[2].prev->create_revision, created);
  EXPECT_FALSE(recorder.error().has_value());
}

TEST_P(StoreContractTest, WatchDeliversOnlyKeysUnderItsPrefix) {
  WatchRecorder recorder;
  auto watch = store().Watch("/w/", Current(), recorder.Callback());
  ASSERT_TRUE(watch.has_value());
  MustCreate("/x/1", "no");
  MustCreate("/w", "no");
  MustCreate("/w0", "no");
  const int64_t wanted = MustCreate("/w/1", "yes");
  MustCreate("/x/2", "no");
  const int64_t last = MustCreate("/w/2", "yes");
  ASSERT_TRUE(recorder.WaitForEvents(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto events = recorder.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kv.mod_revision, wanted);
  EXPECT_EQ(events[1].kv.mod_revision, last);
}

TEST_P(StoreContractTest, WatchFromOldRevisionReplaysHistoryThenFollowsLive) {
  const int64_t start = MustCreate("/h/a", "a1");
  const int64_t a2 = MustUpdate("/h/a", "a2", start);
  MustCreate("/h/b", "b1");
  MustCreate("/elsewhere", "x");
  MustDelete("/h/a", a2);

  WatchRecorder recorder;
  auto watch = store().Watch("/h/", start, recorder.Callback());
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  const int64_t live = MustCreate("/h/c", "c1");
  ASSERT_TRUE(recorder.WaitForEvents(4));
  const auto events = recorder.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kv.value, "a2");
  ASSERT_TRUE(events[0].prev.has_value());
  EXPECT_EQ(events[0].prev->value, "a1");
  EXPECT_EQ(events[1].kv.key, "/h/b");
  EXPECT_FALSE(events[1].prev.has_value());
  EXPECT_EQ(events[2].type, WatchEventType::kDelete);
  EXPECT_EQ(events[2].kv.key, "/h/a");
  EXPECT_EQ(events[2].kv.value, "a2");
  ASSERT_TRUE(events[2].prev.has_value());
  EXPECT_EQ(events[2].prev->mod_revision, a2);
  EXPECT_EQ(events[3].kv.mod_revision, live);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(events[i - 1].kv.mod_revision, events[i].kv.mod_revision);
  }
}

TEST_P(StoreContractTest, WatchFromZeroReplaysAllHistory) {
  MustCreate("/z/1", "1");
  MustCreate("/z/2", "2");
  WatchRecorder recorder;
  auto watch = store().Watch("/z/", 0, recorder.Callback());
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  ASSERT_TRUE(recorder.WaitForEvents(2));
  EXPECT_EQ(recorder.events()[0].kv.key, "/z/1");
}

// Watches started at many points while a writer runs must each see every revision after
// their start exactly once, in order: the hand-over from replay to live has no gap.
TEST_P(StoreContractTest, WatchesStartedDuringWritesSeeEveryRevisionExactlyOnce) {
  constexpr int kWrites = 400;
  // Revisions before the test may belong to other keys (a shared etcd): start no earlier.
  const int64_t start = Current();
  std::atomic<bool> writer_failed = false;
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      if (!store().Create("/flow/" + std::to_string(i), "v").has_value()) writer_failed = true;
    }
  });
  struct Started {
    int64_t after;
    std::unique_ptr<WatchRecorder> recorder;
    std::unique_ptr<StoreWatch> watch;
  };
  std::vector<Started> started;
  for (int i = 0; i < 12; ++i) {
    const int64_t now = Current();
    // Some start a little in the past, some exactly now.
    const int64_t after = std::max<int64_t>(start, now - (i % 3) * 7);
    auto recorder = std::make_unique<WatchRecorder>();
    auto watch = store().Watch("/flow/", after, recorder->Callback());
    EXPECT_TRUE(watch.has_value()) << watch.error().ToString();
    if (!watch.has_value()) break;
    started.push_back({after, std::move(recorder), std::move(*watch)});
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  writer.join();
  ASSERT_EQ(started.size(), 12u);
  ASSERT_FALSE(writer_failed);
  const int64_t end = Current();
  for (const Started& s : started) {
    const size_t expected = static_cast<size_t>(end - s.after);
    ASSERT_TRUE(s.recorder->WaitForEvents(expected)) << "watch after " << s.after;
    const auto events = s.recorder->events();
    ASSERT_EQ(events.size(), expected) << "watch after " << s.after;
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(events[i].kv.mod_revision, s.after + 1 + static_cast<int64_t>(i))
          << "watch after " << s.after;
    }
  }
}

TEST_P(StoreContractTest, WatchCancelledFromAnotherThreadStopsCallbacks) {
  std::atomic<bool> stop_writing = false;
  std::thread writer([&] {
    for (int i = 0; !stop_writing; ++i) (void)store().Create("/c/" + std::to_string(i), "v");
  });
  std::atomic<int> calls = 0;
  std::atomic<bool> cancelled = false;
  std::atomic<int> calls_after_cancel = 0;
  std::atomic<bool> in_callback = false;
  std::atomic<int> overlapping = 0;
  auto watch = store().Watch("/c/", Current(), [&](WatchBatch&&) {
    if (in_callback.exchange(true)) ++overlapping;
    if (cancelled) ++calls_after_cancel;
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow consumer
    in_callback = false;
  });
  EXPECT_TRUE(watch.has_value());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (watch.has_value() && calls < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int calls_before_cancel = calls;
  if (watch.has_value()) watch->reset();  // from this thread, while events are flowing
  cancelled = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop_writing = true;
  writer.join();
  EXPECT_GE(calls_before_cancel, 5);
  EXPECT_EQ(calls_after_cancel.load(), 0);
  EXPECT_EQ(overlapping.load(), 0) << "callbacks of one watch must not overlap";
}

TEST_P(StoreContractTest, WatchCancelledInsideItsOwnCallbackDoesNotDeadlock) {
  std::mutex mu;
  std::unique_ptr<StoreWatch> watch;
  std::atomic<int> calls = 0;
  auto created = store().Watch("/self/", Current(), [&](WatchBatch&&) {
    ++calls;
    std::unique_ptr<StoreWatch> doomed;
    {
      std::lock_guard lock(mu);
      doomed = std::move(watch);
    }
    doomed.reset();  // destroys the watch from inside its own callback
  });
  ASSERT_TRUE(created.has_value());
  {
    std::lock_guard lock(mu);
    watch = std::move(*created);
  }
  MustCreate("/self/1", "v");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (calls == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (int i = 2; i < 10; ++i) MustCreate("/self/" + std::to_string(i), "v");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(calls.load(), 1);

  // The store still works and delivers to other watches.
  WatchRecorder recorder;
  auto other = store().Watch("/self/", Current(), recorder.Callback());
  ASSERT_TRUE(other.has_value());
  MustCreate("/self/last", "v");
  EXPECT_TRUE(recorder.WaitForEvents(1));
}

TEST_P(StoreContractTest, WatchDestroyedImmediatelyIsSafe) {
  for (int i = 0; i < 20; ++i) MustCreate("/quick/" + std::to_string(i), "v");
  for (int i = 0; i < 20; ++i) {
    WatchRecorder recorder;
    auto watch = store().Watch("/quick/", i, recorder.Callback());
    ASSERT_TRUE(watch.has_value());
    watch->reset();
  }
}

// --- Compaction ---------------------------------------------------------------------------

TEST_P(StoreContractTest, CompactionMakesOlderRevisionsGone) {
  const int64_t a1 = MustCreate("/cp/a", "a1");
  const int64_t a2 = MustUpdate("/cp/a", "a2", a1);
  MustCreate("/cp/b", "b1");
  const int64_t compact_at = Current();
  MustUpdate("/cp/a", "a3", a2);

  ASSERT_TRUE(store().Compact(compact_at).ok());
  EXPECT_EQ(store().CompactedRevision(), compact_at);

  auto old_range = store().Range("/cp/", "", compact_at - 1, 0);
  ASSERT_FALSE(old_range.has_value());
  EXPECT_EQ(old_range.error().code(), StatusCode::kGone);

  WatchRecorder recorder;
  auto old_watch = store().Watch("/cp/", compact_at - 1, recorder.Callback());
  ASSERT_FALSE(old_watch.has_value());
  EXPECT_EQ(old_watch.error().code(), StatusCode::kGone);

  // The compacted revision itself is still readable, and so is the present.
  auto at = store().Range("/cp/", "", compact_at, 0);
  ASSERT_TRUE(at.has_value()) << at.error().ToString();
  ASSERT_EQ(Keys(*at), (std::vector<std::string>{"/cp/a", "/cp/b"}));
  EXPECT_EQ(at->kvs[0].value, "a2");
  auto now = store().Range("/cp/", "", 0, 0);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->kvs[0].value, "a3");
  EXPECT_EQ(store().Get("/cp/b")->value, "b1");
  EXPECT_EQ(store().Get("/cp/a")->create_revision, a1);
}

TEST_P(StoreContractTest, CompactionKeepsTheStateAtTheCompactedRevision) {
  // Keys that change after the compaction point must still read as they were at it.
  const int64_t a = MustCreate("/keep/a", "a1");
  const int64_t b = MustCreate("/keep/b", "b1");
  const int64_t c = MustCreate("/keep/c", "c1");
  MustDelete("/keep/c", c);
  const int64_t d = MustCreate("/keep/d", "d1");
  const int64_t d2 = MustUpdate("/keep/d", "d2", d);
  const int64_t compact_at = Current();
  MustUpdate("/keep/a", "a2", a);
  MustDelete("/keep/b", b);
  MustCreate("/keep/c", "c2");
  MustDelete("/keep/d", d2);
  ASSERT_TRUE(store().Compact(compact_at).ok());

  auto at = store().Range("/keep/", "", compact_at, 0);
  ASSERT_TRUE(at.has_value()) << at.error().ToString();
  ASSERT_EQ(Keys(*at), (std::vector<std::string>{"/keep/a", "/keep/b", "/keep/d"}));
  EXPECT_EQ(at->kvs[0].value, "a1");
  EXPECT_EQ(at->kvs[1].value, "b1");
  EXPECT_EQ(at->kvs[2].value, "d2");

  // A watch from the compacted revision gets every later event with its previous value.
  WatchRecorder recorder;
  auto watch = store().Watch("/keep/", compact_at, recorder.Callback());
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  ASSERT_TRUE(recorder.WaitForEvents(4));
  const auto events = recorder.events();
  ASSERT_EQ(events.size(), 4u);
  ASSERT_TRUE(events[0].prev.has_value());
  EXPECT_EQ(events[0].prev->value, "a1");
  EXPECT_EQ(events[1].type, WatchEventType::kDelete);
  EXPECT_EQ(events[1].kv.value, "b1");
  ASSERT_TRUE(events[1].prev.has_value());
  EXPECT_EQ(events[1].prev->value, "b1");
  EXPECT_FALSE(events[2].prev.has_value());
  EXPECT_EQ(events[3].kv.value, "d2");
  ASSERT_TRUE(events[3].prev.has_value());
  EXPECT_EQ(events[3].prev->mod_revision, d2);
}

TEST_P(StoreContractTest, CompactionRejectsFutureAndAlreadyCompactedRevisions) {
  MustCreate("/k", "v1");
  MustCreate("/k2", "v2");
  const int64_t now = Current();
  EXPECT_EQ(store().Compact(now + 1).code(), StatusCode::kBadRequest);
  ASSERT_TRUE(store().Compact(now).ok());
  EXPECT_EQ(store().Compact(now - 1).code(), StatusCode::kGone);
  EXPECT_EQ(store().CompactedRevision(), now);
  // Writes continue with increasing revisions after a compaction of everything.
  EXPECT_EQ(MustCreate("/k3", "v3"), now + 1);
}

TEST_P(StoreContractTest, CompactionOfEverythingKeepsLiveKeys) {
  for (int i = 0; i < 30; ++i) {
    const std::string key = "/all/" + std::to_string(i % 10);
    auto kv = store().Get(key);
    if (kv.has_value()) {
      if (i % 7 == 0) {
        MustDelete(key);
      } else {
        MustUpdate(key, "v" + std::to_string(i), kv->mod_revision);
      }
    } else {
      MustCreate(key, "v" + std::to_string(i));
    }
  }
  auto before = store().Range("/all/", "", 0, 0);
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(store().Compact(Current()).ok());
  auto after = store().Range("/all/", "", 0, 0);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->kvs.size(), before->kvs.size());
  for (size_t i = 0; i < after->kvs.size(); ++i) {
    EXPECT_EQ(after->kvs[i].key, before->kvs[i].key);
    EXPECT_EQ(after->kvs[i].value, before->kvs[i].value);
    EXPECT_EQ(after->kvs[i].mod_revision, before->kvs[i].mod_revision);
    EXPECT_EQ(after->kvs[i].create_revision, before->kvs[i].create_revision);
  }
  auto at = store().Range("/all/", "", Current(), 0);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(Keys(*at), Keys(*before));
}

// --- Durability ---------------------------------------------------------------------------

TEST_P(StoreContractTest, RevisionsAndDataPersistAcrossReopen) {
  if (!GetParam().supports_reopen) GTEST_SKIP() << "backend data does not survive reopening";
  const int64_t a = MustCreate("/p/a", "a1");
  MustUpdate("/p/a", "a2", a);
  MustCreate("/p/b", "b1");
  const int64_t compact_at = Current();
  ASSERT_TRUE(store().Compact(compact_at).ok());
  // The newest write is a delete: its revision must not be reused after reopening even
  // though the key is gone.
  const int64_t last = MustDelete("/p/b");
  ASSERT_TRUE(store().Compact(last).ok());

  Reopen();
  EXPECT_EQ(Current(), last);
  EXPECT_EQ(store().CompactedRevision(), last);
  auto kv = store().Get("/p/a");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "a2");
  EXPECT_EQ(kv->create_revision, a);
  EXPECT_FALSE(store().Get("/p/b").has_value());
  EXPECT_EQ(MustCreate("/p/b", "b2"), last + 1);

  Reopen();
  EXPECT_EQ(Current(), last + 1);
  EXPECT_EQ(store().Get("/p/b")->value, "b2");
}

// --- Concurrency --------------------------------------------------------------------------

TEST_P(StoreContractTest, ConcurrentCreatesAllSucceedWithUniqueRevisions) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 60;
  const int64_t start = Current();
  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto revision = store().Create("/cc/" + std::to_string(t) + "/" + std::to_string(i), "v");
        if (revision.has_value()) {
          revisions[t].push_back(*revision);
        } else {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<int64_t> unique;
  for (const auto& per_thread : revisions) {
    EXPECT_TRUE(std::is_sorted(per_thread.begin(), per_thread.end()));
    unique.insert(per_thread.begin(), per_thread.end());
  }
  ASSERT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*unique.begin(), start + 1);
  EXPECT_EQ(*unique.rbegin(), start + kThreads * kPerThread);
  EXPECT_EQ(Current(), start + kThreads * kPerThread);
  auto all = store().Range("/cc/", "", 0, 0);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->kvs.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_P(StoreContractTest, ConcurrentCreatesOfTheSameKeyHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  constexpr int kKeys = 20;
  const int64_t start = Current();
  std::atomic<int> wins = 0;
  std::atomic<int> already_exists = 0;
  std::atomic<int> other_errors = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < kKeys; ++k) {
        auto revision = store().Create("/same/" + std::to_string(k), "v");
        if (revision.has_value()) {
          ++wins;
        } else if (revision.error().code() == StatusCode::kAlreadyExists) {
          ++already_exists;
        } else {
          ++other_errors;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wins.load(), kKeys);
  EXPECT_EQ(already_exists.load(), (kThreads - 1) * kKeys);
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_EQ(Current(), start + kKeys);
}

// Compare-and-swap increments from many threads: every success is a distinct step, so the
// counter ends at the number of successes and no update is lost.
TEST_P(StoreContractTest, ConcurrentCompareAndSwapLosesNoUpdate) {
  const int64_t created = MustCreate("/counter", "0");
  constexpr int kThreads = 8;
  constexpr int kIncrementsPerThread = 15;
  std::atomic<int> conflicts = 0;
  std::atomic<int> errors = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kIncrementsPerThread;) {
        auto kv = store().Get("/counter");
        if (!kv.has_value()) {
          ++errors;
          return;
        }
        const int value = std::stoi(kv->value);
        auto updated = store().Update("/counter", std::to_string(value + 1), kv->mod_revision);
        if (updated.has_value()) {
          ++done;
        } else if (updated.error().code() == StatusCode::kConflict) {
          ++conflicts;
        } else {
          ++errors;
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  auto kv = store().Get("/counter");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, std::to_string(kThreads * kIncrementsPerThread));
  EXPECT_EQ(kv->mod_revision, Current());
  EXPECT_EQ(Current(), created + kThreads * kIncrementsPerThread);
}

}  // namespace skiff
