// What only EtcdStore promises, on a real etcd: failing fast while etcd is down,
// recovering when it is back, watches resuming without a gap, failover across endpoints,
// key prefixes. (The Store contract suite runs on etcd through etcd_test_env.h.)
//
// The `etcd` binary must be installed (Debian: etcd-server); without it these tests fail.
#include <gtest/gtest.h>

#include "storage/etcd/etcd_store.h"
#include "storage/etcd_test_server.h"

namespace skiff::etcd_test {
namespace {

TEST(EtcdStoreTest, ParsesEndpointLists) {
  auto parsed = ParseEtcdEndpoints("http://a:2379, https://b:2379,etcd://c:2379");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed,
            (std::vector<std::string>{"http://a:2379", "https://b:2379", "etcd://c:2379"}));
  EXPECT_EQ(ParseEtcdEndpoints("").error().code(), StatusCode::kBadRequest);
  EXPECT_EQ(ParseEtcdEndpoints("http://a:2379,,http://b:2379").error().code(),
            StatusCode::kBadRequest);
  EtcdStoreOptions bad;
  bad.endpoints = {"ftp://a:2379"};
  EXPECT_EQ(EtcdStore::Open(bad).error().code(), StatusCode::kBadRequest);
}

TEST(EtcdStoreTest, OpenFailsQuicklyWhenNothingListens) {
  EtcdStoreOptions options;
  options.endpoints = {"http://127.0.0.1:" + std::to_string(FreePort())};
  options.dial_timeout = 1s;
  const auto start = std::chrono::steady_clock::now();
  auto store = EtcdStore::Open(options);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kServiceUnavailable) << store.error().ToString();
  EXPECT_LT(took, 3s);
}

TEST(EtcdStoreTest, KeyPrefixIsInvisibleAndIsolates) {
  auto server = SharedEtcd();
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  auto a = EtcdStore::Open((*server)->Options("/iso-a"));
  auto b = EtcdStore::Open((*server)->Options("/iso-b"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_TRUE((*a)->Create("/k", "from-a").has_value());
  EXPECT_EQ((*b)->Get("/k").error().code(), StatusCode::kNotFound);
  auto listed = (*a)->Range("", "", 0, 0);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->kvs.size(), 1u);
  EXPECT_EQ(listed->kvs[0].key, "/k");
  EXPECT_TRUE((*b)->Range("", "", 0, 0)->kvs.empty());
}

TEST(EtcdStoreTest, FailsOverToTheNextEndpoint) {
  auto server = SharedEtcd();
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  EtcdStoreOptions options = (*server)->Options("/failover");
  options.endpoints = {"http://127.0.0.1:" + std::to_string(FreePort()), (*server)->endpoint()};
  auto store = EtcdStore::Open(options);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  for (int i = 0; i < 5; ++i) {
    auto created = (*store)->Create("/k" + std::to_string(i), "v");
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
  }
  EtcdWatchLog recorder;
  auto watch = (*store)->Watch("/", 0, recorder.Callback());
  ASSERT_TRUE(watch.has_value());
  EXPECT_TRUE(recorder.WaitForEvents(5));
}

// Runs `call` and checks it fails with kServiceUnavailable well within the request timeout.
template <typename Call>
void ExpectUnavailableQuickly(const char* what, Call&& call) {
  const auto start = std::chrono::steady_clock::now();
  const Status status = call();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status.code(), StatusCode::kServiceUnavailable) << what << ": " << status.ToString();
  EXPECT_LT(took, 3s) << what;
}

TEST(EtcdStoreTest, CallsFailFastWhileEtcdIsDownAndRecoverWhenItReturns) {
  EtcdServer server;
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  EtcdStoreOptions options = server.Options();
  options.request_timeout = 3s;
  auto opened = EtcdStore::Open(options);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EtcdStore& store = **opened;
  auto created = store.Create("/k", "v1");
  ASSERT_TRUE(created.has_value());

  server.Stop();
  ExpectUnavailableQuickly("create", [&] { return store.Create("/k2", "v").error(); });
  ExpectUnavailableQuickly("update", [&] { return store.Update("/k", "v2", *created).error(); });
  ExpectUnavailableQuickly("delete", [&] { return store.Delete("/k", 0).error(); });
  ExpectUnavailableQuickly("get", [&] { return store.Get("/k").error(); });
  ExpectUnavailableQuickly("range", [&] { return store.Range("/", "", 0, 0).error(); });
  ExpectUnavailableQuickly("current", [&] { return store.CurrentRevision().error(); });
  ExpectUnavailableQuickly("compact", [&] { return store.Compact(*created); });
  ExpectUnavailableQuickly("watch", [&] {
    auto watch = store.Watch("/", 0, [](WatchBatch&&) {});
    return watch.has_value() ? Status::Ok() : watch.error();
  });

  ASSERT_TRUE(server.Start().ok()) << server.Log();
  std::optional<KeyValue> kv;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!kv && std::chrono::steady_clock::now() < deadline) {
    auto got = store.Get("/k");
    if (got.has_value())
      kv = *got;
    else
      std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(kv.has_value()) << "the store did not recover after etcd came back";
  EXPECT_EQ(kv->value, "v1");
  EXPECT_TRUE(store.Update("/k", "v2", *created).has_value());
}

TEST(EtcdStoreTest, LiveWatchResumesAcrossAnEtcdRestartWithoutLosingEvents) {
  EtcdServer server;
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  auto opened = EtcdStore::Open(server.Options());
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EtcdStore& store = **opened;
  auto start = store.CurrentRevision();
  ASSERT_TRUE(start.has_value());
  EtcdWatchLog recorder;
  auto watch = store.Watch("/r/", *start, recorder.Callback());
  ASSERT_TRUE(watch.has_value());

  std::vector<int64_t> written;
  for (int i = 0; i < 5; ++i) {
    auto revision = store.Create("/r/before-" + std::to_string(i), "v");
    ASSERT_TRUE(revision.has_value());
    written.push_back(*revision);
  }
  ASSERT_TRUE(recorder.WaitForEvents(5));

  server.Stop();
  std::this_thread::sleep_for(300ms);  // the watch notices and starts retrying
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  // Write as soon as etcd answers: some of these land before the watch is back.
  for (int i = 0; i < 5; ++i) {
    const std::string key = "/r/after-" + std::to_string(i);
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    Result<int64_t> revision = Err(StatusCode::kServiceUnavailable, "not tried");
    while (std::chrono::steady_clock::now() < deadline) {
      revision = store.Create(key, "v");
      if (revision.has_value() || revision.error().code() == StatusCode::kAlreadyExists) break;
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(revision.has_value()) << key << ": " << revision.error().ToString();
    written.push_back(*revision);
  }

  ASSERT_TRUE(recorder.WaitForEvents(10, 20s));
  std::this_thread::sleep_for(100ms);
  const auto events = recorder.events();
  ASSERT_EQ(events.size(), 10u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.mod_revision, written[i]);
    EXPECT_EQ(events[i].type, WatchEventType::kPut);
  }
  EXPECT_FALSE(recorder.error().has_value());
}

TEST(EtcdStoreTest, ClosingTheStoreEndsOpenWatches) {
  auto server = SharedEtcd();
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  auto store = EtcdStore::Open((*server)->Options("/closing"));
  ASSERT_TRUE(store.has_value());
  EtcdWatchLog recorder;
  auto watch = (*store)->Watch("/", 0, recorder.Callback());
  ASSERT_TRUE(watch.has_value());
  ASSERT_TRUE((*store)->Create("/a", "v").has_value());
  ASSERT_TRUE(recorder.WaitForEvents(1));
  store->reset();
  ASSERT_TRUE(recorder.WaitForError());
  EXPECT_EQ(recorder.error()->code(), StatusCode::kServiceUnavailable);
  EXPECT_EQ(recorder.callbacks_after_error(), 0);
  watch->reset();
}

}  // namespace
}  // namespace skiff::etcd_test
