// Snapshot files (format, corruption, truncation), SqliteStore::Restore, and save/restore
// between the SQLite and etcd backends.
#include "storage/snapshot.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "storage/etcd/etcd_store.h"
#include "storage/etcd_test_server.h"
#include "storage/sqlite/sqlite_store.h"

namespace skiff {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "skiff-snapshot-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  std::filesystem::path path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::vector<KeyValue> ReadBack(SnapshotReader& reader) {
  std::vector<KeyValue> kvs;
  Status st = reader.ForEachByModRevision([&](KeyValue&& kv) {
    kvs.push_back(std::move(kv));
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return kvs;
}

// A snapshot of three keys written directly with the writer.
std::string WriteSample(const TempDir& dir) {
  std::string path = dir.File("sample.snap");
  SnapshotHeader header{.revision = 9, .compacted_revision = 3, .created_unix = 1700000000};
  auto writer = SnapshotWriter::Create(path, header);
  EXPECT_TRUE(writer.has_value());
  EXPECT_TRUE((*writer)->Add({"/registry/a", "value-a", 2, 7}).ok());
  EXPECT_TRUE((*writer)->Add({"/registry/b", std::string("bin\0ary", 7), 5, 5}).ok());
  EXPECT_TRUE((*writer)->Add({"/registry/c", "", 1, 9}).ok());
  EXPECT_TRUE((*writer)->Commit().ok());
  return path;
}

TEST(SnapshotFileTest, RoundTripsHeaderAndKeysInModRevisionOrder) {
  TempDir dir;
  std::string path = WriteSample(dir);
  auto reader = SnapshotReader::Open(path);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_EQ((*reader)->header().format_version, kSnapshotFormatVersion);
  EXPECT_EQ((*reader)->header().revision, 9);
  EXPECT_EQ((*reader)->header().compacted_revision, 3);
  EXPECT_EQ((*reader)->header().created_unix, 1700000000);
  ASSERT_EQ((*reader)->size(), 3u);
  auto kvs = ReadBack(**reader);
  ASSERT_EQ(kvs.size(), 3u);
  EXPECT_EQ(kvs[0].key, "/registry/b");
  EXPECT_EQ(kvs[0].value, std::string("bin\0ary", 7));
  EXPECT_EQ(kvs[0].create_revision, 5);
  EXPECT_EQ(kvs[1].key, "/registry/a");
  EXPECT_EQ(kvs[1].value, "value-a");
  EXPECT_EQ(kvs[1].create_revision, 2);
  EXPECT_EQ(kvs[1].mod_revision, 7);
  EXPECT_EQ(kvs[2].key, "/registry/c");
  EXPECT_EQ(kvs[2].value, "");
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(SnapshotFileTest, EverySingleByteCorruptionIsDetected) {
  TempDir dir;
  std::string path = WriteSample(dir);
  const std::string good = ReadAll(path);
  ASSERT_GT(good.size(), 100u);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    WriteAll(path, bad);
    auto reader = SnapshotReader::Open(path);
    ASSERT_FALSE(reader.has_value()) << "flipped byte " << i << " went unnoticed";
    EXPECT_EQ(reader.error().code(), StatusCode::kInvalid) << i;
  }
  WriteAll(path, good);
  EXPECT_TRUE(SnapshotReader::Open(path).has_value());
}

TEST(SnapshotFileTest, ChecksumMismatchIsReportedAsSuch) {
  TempDir dir;
  std::string path = WriteSample(dir);
  std::string data = ReadAll(path);
  // A byte of a value: the structure stays valid, only the digest can tell.
  size_t at = data.find("value-a");
  ASSERT_NE(at, std::string::npos);
  data[at] = 'V';
  WriteAll(path, data);
  auto reader = SnapshotReader::Open(path);
  ASSERT_FALSE(reader.has_value());
  EXPECT_NE(reader.error().message().find("checksum mismatch"), std::string::npos)
      << reader.error().message();
}

TEST(SnapshotFileTest, TruncatedFilesAreRejected) {
  TempDir dir;
  std::string path = WriteSample(dir);
  const std::string good = ReadAll(path);
  for (size_t size = 0; size < good.size(); ++size) {
    WriteAll(path, good.substr(0, size));
    auto reader = SnapshotReader::Open(path);
    ASSERT_FALSE(reader.has_value()) << "accepted a file cut to " << size << " bytes";
    EXPECT_EQ(reader.error().code(), StatusCode::kInvalid) << size;
  }
  WriteAll(path, good.substr(0, good.size() - 1));
  auto cut = SnapshotReader::Open(path);
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().message().find("truncated"), std::string::npos) << cut.error().message();
  WriteAll(path, good + "x");
  EXPECT_FALSE(SnapshotReader::Open(path).has_value());
}

TEST(SnapshotFileTest, RejectsOtherFilesAndMissingOnes) {
  TempDir dir;
  auto missing = SnapshotReader::Open(dir.File("absent"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  WriteAll(dir.File("text"), "this is not a snapshot, but it is long enough for a header");
  auto other = SnapshotReader::Open(dir.File("text"));
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message().find("not a Skiff snapshot"), std::string::npos);
}

TEST(SnapshotFileTest, WriterRejectsInvalidRevisionsAndLeavesNoFileWithoutCommit) {
  TempDir dir;
  std::string path = dir.File("never.snap");
  {
    auto writer = SnapshotWriter::Create(path, SnapshotHeader{.revision = 5});
    ASSERT_TRUE(writer.has_value());
    EXPECT_EQ((*writer)->Add({"/k", "v", 0, 1}).code(), StatusCode::kBadRequest);
    EXPECT_EQ((*writer)->Add({"/k", "v", 3, 2}).code(), StatusCode::kBadRequest);
    EXPECT_EQ((*writer)->Add({"/k", "v", 1, 6}).code(), StatusCode::kBadRequest);
    EXPECT_EQ((*writer)->Add({"", "v", 1, 1}).code(), StatusCode::kBadRequest);
    EXPECT_TRUE((*writer)->Add({"/k", "v", 1, 5}).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// ---------------------------------------------------------------------------------------
// Save from a live store, restore into SQLite with revisions kept.

std::unique_ptr<SqliteStore> OpenSqlite(const std::string& path) {
  auto store = SqliteStore::Open(path);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

std::map<std::string, KeyValue> AllKeys(Store& store) {
  auto range = store.Range("", "", 0, 0);
  EXPECT_TRUE(range.has_value()) << range.error().ToString();
  std::map<std::string, KeyValue> out;
  if (range) {
    for (KeyValue& kv : range->kvs) out[kv.key] = std::move(kv);
  }
  return out;
}

TEST(SnapshotSqliteTest, SaveIsConsistentAtOneRevisionWhileWritesContinue) {
  TempDir dir;
  auto store = OpenSqlite(dir.File("state.db"));
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(store->Create("/registry/pre/" + std::to_string(i), "v" + std::to_string(i)));
  }
  std::atomic<bool> stop = false;
  std::atomic<int> written = 0;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      auto key = "/registry/during/" + std::to_string(i);
      if (store->Create(key, "x")) ++written;
      auto kv = store->Get("/registry/pre/" + std::to_string(i % 300));
      if (kv) (void)store->Update(kv->key, "changed", kv->mod_revision);
    }
  });
  while (written < 20) std::this_thread::yield();
  SnapshotSaveOptions options;
  options.page_size = 7;  // many pages, so writes land between them
  int progress_calls = 0;
  options.progress = [&](const SnapshotProgress&) { ++progress_calls; };
  auto header = SaveSnapshot(*store, dir.File("s.snap"), options);
  stop = true;
  writer.join();
  ASSERT_TRUE(header.has_value()) << header.error().ToString();
  EXPECT_GT(progress_calls, 10);

  // Exactly the store's content as of the snapshot revision.
  auto expected = store->Range("", "", header->revision, 0);
  ASSERT_TRUE(expected.has_value());
  auto reader = SnapshotReader::Open(dir.File("s.snap"));
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_EQ((*reader)->header().revision, header->revision);
  std::map<std::string, KeyValue> got;
  for (KeyValue& kv : ReadBack(**reader)) got[kv.key] = std::move(kv);
  ASSERT_EQ(got.size(), expected->kvs.size());
  for (const KeyValue& kv : expected->kvs) {
    ASSERT_TRUE(got.contains(kv.key)) << kv.key;
    EXPECT_EQ(got[kv.key].value, kv.value);
    EXPECT_EQ(got[kv.key].create_revision, kv.create_revision);
    EXPECT_EQ(got[kv.key].mod_revision, kv.mod_revision);
  }
  EXPECT_LT(header->revision, *store->CurrentRevision());
}

TEST(SnapshotSqliteTest, RestoreKeepsEveryRevisionAndTheRevisionCounter) {
  TempDir dir;
  int64_t snapshot_revision = 0;
  std::map<std::string, KeyValue> before;
  {
    auto store = OpenSqlite(dir.File("source.db"));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(store->Create("/registry/k/" + std::to_string(i), "a"));
    for (int i = 0; i < 50; i += 3) {
      auto kv = store->Get("/registry/k/" + std::to_string(i));
      ASSERT_TRUE(store->Update(kv->key, "b", kv->mod_revision));
    }
    for (int i = 1; i < 50; i += 7)
      ASSERT_TRUE(store->Delete("/registry/k/" + std::to_string(i), 0));
    ASSERT_TRUE(store->Compact(20).ok());
    before = AllKeys(*store);
    auto header = SaveSnapshot(*store, dir.File("s.snap"));
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->compacted_revision, 20);
    snapshot_revision = header->revision;
  }
  auto reader = SnapshotReader::Open(dir.File("s.snap"));
  ASSERT_TRUE(reader.has_value());
  const std::string target = dir.File("restored.db");
  Status st = SqliteStore::Restore(target, snapshot_revision, [&](const auto& sink) {
    return (*reader)->ForEachByModRevision(sink);
  });
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto restored = OpenSqlite(target);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(*restored->CurrentRevision(), snapshot_revision);
  EXPECT_EQ(restored->CompactedRevision(), snapshot_revision);
  auto after = AllKeys(*restored);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [key, kv] : before) {
    EXPECT_EQ(after[key].value, kv.value) << key;
    EXPECT_EQ(after[key].create_revision, kv.create_revision) << key;
    EXPECT_EQ(after[key].mod_revision, kv.mod_revision) << key;
  }
  // It is a working store: the next write gets the next revision, and CAS uses the
  // restored mod revisions.
  auto first = before.begin()->second;
  auto updated = restored->Update(first.key, "c", first.mod_revision);
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  EXPECT_EQ(*updated, snapshot_revision + 1);
  // History before the restored revision is gone, not silently partial.
  auto old = restored->Range("", "", snapshot_revision - 1, 0);
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().code(), StatusCode::kGone);
}

TEST(SnapshotSqliteTest, RestoreRefusesANonEmptyDatabase) {
  TempDir dir;
  const std::string target = dir.File("busy.db");
  {
    auto store = OpenSqlite(target);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Create("/registry/x", "1"));
  }
  Status st = SqliteStore::Restore(target, 10, [](const auto& sink) {
    return sink(KeyValue{"/registry/y", "2", 1, 1});
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  auto store = OpenSqlite(target);
  auto keys = AllKeys(*store);
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys.contains("/registry/x"));
}

TEST(SnapshotSqliteTest, RestoreRejectsSharedModRevisionsAndLeavesTheDatabaseEmpty) {
  TempDir dir;
  const std::string target = dir.File("dup.db");
  Status st = SqliteStore::Restore(target, 10, [](const auto& sink) {
    if (Status a = sink(KeyValue{"/registry/a", "1", 3, 3}); !a.ok()) return a;
    return sink(KeyValue{"/registry/b", "2", 3, 3});
  });
  EXPECT_EQ(st.code(), StatusCode::kBadRequest) << st.ToString();
  st = SqliteStore::Restore(target, 10, [](const auto& sink) {
    return sink(KeyValue{"/registry/a", "1", 4, 11});
  });
  EXPECT_EQ(st.code(), StatusCode::kBadRequest) << st.ToString();
  auto store = OpenSqlite(target);
  EXPECT_EQ(*store->CurrentRevision(), 0);
  EXPECT_TRUE(AllKeys(*store).empty());
}

// ---------------------------------------------------------------------------------------
// SQLite -> etcd -> SQLite.

TEST(SnapshotMigrationTest, SqliteToEtcdToSqliteKeepsValuesAndModRevisionOrder) {
  TempDir dir;
  std::map<std::string, KeyValue> original;
  {
    auto store = OpenSqlite(dir.File("source.db"));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 40; ++i)
      ASSERT_TRUE(store->Create("/registry/m/" + std::to_string(i), "v"));
    // Update in an order unrelated to key order, so mod order != key order.
    for (int i = 39; i >= 0; i -= 4) {
      auto kv = store->Get("/registry/m/" + std::to_string(i));
      ASSERT_TRUE(store->Update(kv->key, "w" + std::to_string(i), kv->mod_revision));
    }
    ASSERT_TRUE(store->Delete("/registry/m/5", 0));
    original = AllKeys(*store);
    ASSERT_TRUE(SaveSnapshot(*store, dir.File("sqlite.snap")).has_value());
  }

  etcd_test::EtcdServer etcd;
  Status started = etcd.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  {
    auto store = EtcdStore::Open(etcd.Options());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    ASSERT_TRUE((*store)->Create("/registry/occupied", "x"));
    auto reader = SnapshotReader::Open(dir.File("sqlite.snap"));
    ASSERT_TRUE(reader.has_value());
    auto refused = RestoreSnapshotByReplay(**reader, **store);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code(), StatusCode::kAlreadyExists);
    ASSERT_TRUE((*store)->Delete("/registry/occupied", 0));
  }
  // The delete above left the etcd without keys: that counts as empty.
  {
    auto store = EtcdStore::Open(etcd.Options());
    ASSERT_TRUE(store.has_value());
    auto reader = SnapshotReader::Open(dir.File("sqlite.snap"));
    ASSERT_TRUE(reader.has_value());
    uint64_t reported = 0;
    auto revision = RestoreSnapshotByReplay(**reader, **store, [&](const SnapshotProgress& p) {
      reported = p.keys;
      EXPECT_EQ(p.total_keys, original.size());
    });
    ASSERT_TRUE(revision.has_value()) << revision.error().ToString();
    EXPECT_EQ(reported, original.size());
    EXPECT_EQ((*store)->CompactedRevision(), *revision);
    auto in_etcd = AllKeys(**store);
    ASSERT_EQ(in_etcd.size(), original.size());
    // Same values; mod revisions renumbered in the same order.
    for (const auto& [key, kv] : original) {
      EXPECT_EQ(in_etcd[key].value, kv.value) << key;
      for (const auto& [other_key, other] : original) {
        EXPECT_EQ(kv.mod_revision < other.mod_revision,
                  in_etcd[key].mod_revision < in_etcd[other_key].mod_revision)
            << key << " vs " << other_key;
      }
    }
    ASSERT_TRUE(SaveSnapshot(**store, dir.File("etcd.snap")).has_value());
  }
  auto reader = SnapshotReader::Open(dir.File("etcd.snap"));
  ASSERT_TRUE(reader.has_value());
  const std::string back = dir.File("back.db");
  Status st = SqliteStore::Restore(back, (*reader)->header().revision, [&](const auto& sink) {
    return (*reader)->ForEachByModRevision(sink);
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto store = OpenSqlite(back);
  auto round_trip = AllKeys(*store);
  ASSERT_EQ(round_trip.size(), original.size());
  for (const auto& [key, kv] : original) {
    EXPECT_EQ(round_trip[key].value, kv.value) << key;
    for (const auto& [other_key, other] : original) {
      EXPECT_EQ(kv.mod_revision < other.mod_revision,
                round_trip[key].mod_revision < round_trip[other_key].mod_revision);
    }
  }
  EXPECT_EQ(*store->CurrentRevision(), (*reader)->header().revision);
}

}  // namespace
}  // namespace skiff
