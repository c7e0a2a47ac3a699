// The Store contract suite run against SqliteStore, plus what only SqliteStore promises.
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "storage/etcd_test_env.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store_contract.h"

namespace skiff {
namespace {

// A fresh directory under the test temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "skiff-store-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class SqliteTestEnv final : public StoreTestEnv {
 public:
  explicit SqliteTestEnv(SqliteStoreOptions options) : options_(options) {}
  Result<std::unique_ptr<Store>> Open() override {
    auto store = SqliteStore::Open(dir_.File("state.db"), options_);
    if (!store) return Err(std::move(store.error()));
    return std::unique_ptr<Store>(std::move(*store));
  }

 private:
  ScratchDir dir_;
  SqliteStoreOptions options_;
};

// Options that push every limit to its edge: one read connection, two ops per commit,
// compaction swept three revisions at a time, replay in batches of two events.
SqliteStoreOptions TinyOptions() {
  SqliteStoreOptions options;
  options.read_connections = 1;
  options.max_batch_ops = 2;
  options.compact_chunk_revisions = 3;
  options.replay_batch_events = 2;
  return options;
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreContractTest,
    ::testing::Values(
        StoreContractBackend{
            .name = "Default",
            .make_env = [] { return std::make_unique<SqliteTestEnv>(SqliteStoreOptions{}); }},
        StoreContractBackend{
            .name = "TinyLimits",
            .make_env = [] { return std::make_unique<SqliteTestEnv>(TinyOptions()); }}),
    StoreContractBackendName);

// The same contract on a real etcd (started by the test on free loopback ports).
INSTANTIATE_TEST_SUITE_P(Etcd, StoreContractTest,
                         ::testing::Values(etcd_test::EtcdContractBackend()),
                         StoreContractBackendName);

// --- SqliteStore only ---------------------------------------------------------------------

TEST(SqliteStoreTest, SecondOpenOfTheSameFileIsRefusedUntilTheFirstCloses) {
  ScratchDir dir;
  auto first = SqliteStore::Open(dir.File("state.db"));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto second = SqliteStore::Open(dir.File("state.db"));
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kServiceUnavailable);
  first->reset();
  auto third = SqliteStore::Open(dir.File("state.db"));
  EXPECT_TRUE(third.has_value()) << third.error().ToString();
}

TEST(SqliteStoreTest, RefusesAFileThatIsNotASkiffDatabase) {
  ScratchDir dir;
  {
    std::ofstream garbage(dir.File("garbage.db"));
    garbage << "this is not a database, just some text that is long enough to look like a header";
  }
  auto garbage = SqliteStore::Open(dir.File("garbage.db"));
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code(), StatusCode::kInternal);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("other.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto other = SqliteStore::Open(dir.File("other.db"));
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kInternal);
  EXPECT_NE(other.error().message().find("not a Skiff database"), std::string::npos);
}

TEST(SqliteStoreTest, ShutdownEndsOpenWatchesAndHandlesMayOutliveTheStore) {
  ScratchDir dir;
  auto store = SqliteStore::Open(dir.File("state.db"));
  ASSERT_TRUE(store.has_value());
  WatchRecorder recorder;
  auto watch = (*store)->Watch("/", 0, recorder.Callback());
  ASSERT_TRUE(watch.has_value());
  ASSERT_TRUE((*store)->Create("/a", "v").has_value());
  store->reset();
  // Events committed before shutdown were delivered, then the watch ended.
  ASSERT_TRUE(recorder.WaitForError());
  EXPECT_EQ(recorder.events().size(), 1u);
  EXPECT_EQ(recorder.error()->code(), StatusCode::kServiceUnavailable);
  EXPECT_EQ(recorder.callbacks_after_error(), 0);
  watch->reset();
}

TEST(SqliteStoreTest, WatchCallbackMayWriteToTheStore) {
  ScratchDir dir;
  auto opened = SqliteStore::Open(dir.File("state.db"));
  ASSERT_TRUE(opened.has_value());
  SqliteStore& store = **opened;
  std::atomic<bool> wrote = false;
  auto watch = store.Watch("/ping", 0, [&](WatchBatch&& batch) {
    for (const WatchEvent& event : batch.events) {
      if (event.kv.key == "/ping") wrote = store.Create("/pong", event.kv.value).has_value();
    }
  });
  ASSERT_TRUE(watch.has_value());
  ASSERT_TRUE(store.Create("/ping", "hello").has_value());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!wrote && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(wrote);
  auto pong = store.Get("/pong");
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->value, "hello");
}

// Counts the rows of the history log, straight from the file.
int64_t CountLogRows(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* stmt = nullptr;
  int64_t rows = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM log", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    rows = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// A compaction swept in many small chunks, with writers running meanwhile, leaves exactly
// one history row per live key and loses no write.
TEST(SqliteStoreTest, CompactionSweptInChunksLeavesOneRowPerLiveKey) {
  ScratchDir dir;
  const std::string path = dir.File("state.db");
  SqliteStoreOptions options;
  options.compact_chunk_revisions = 5;
  auto opened = SqliteStore::Open(path, options);
  ASSERT_TRUE(opened.has_value());
  SqliteStore& store = **opened;
  for (int i = 0; i < 50; ++i) {
    const std::string key = "/k/" + std::to_string(i % 10);
    auto kv = store.Get(key);
    if (!kv.has_value()) {
      ASSERT_TRUE(store.Create(key, "v").has_value());
    } else if (i % 9 == 0) {
      ASSERT_TRUE(store.Delete(key, kv->mod_revision).has_value());
    } else {
      ASSERT_TRUE(store.Update(key, std::to_string(i), kv->mod_revision).has_value());
    }
  }
  const int64_t compact_at = *store.CurrentRevision();
  std::atomic<int> failures = 0;
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      if (!store.Create("/later/" + std::to_string(i), "v").has_value()) ++failures;
    }
  });
  EXPECT_TRUE(store.Compact(compact_at).ok());
  writer.join();
  EXPECT_EQ(failures.load(), 0);
  auto live = store.Range("/", "", 0, 0);
  ASSERT_TRUE(live.has_value());
  opened->reset();
  EXPECT_EQ(CountLogRows(path), static_cast<int64_t>(live->kvs.size()));
}

}  // namespace
}  // namespace skiff
