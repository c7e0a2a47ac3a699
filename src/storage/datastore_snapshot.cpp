#include "storage/datastore_snapshot.h"

#include <chrono>
#include <filesystem>

#include "storage/sqlite/sqlite_store.h"

namespace skiff {

Result<SnapshotHeader> SaveDatastoreSnapshot(const DatastoreOptions& options,
                                             const std::string& path,
                                             const SnapshotProgressFn& progress) {
  if (Status st = ValidateDatastoreOptions(options); !st.ok()) return Err(std::move(st));
  if (UsesEtcd(options)) {
    auto store = OpenDatastore(options);
    if (!store) return Err(std::move(store.error()));
    SnapshotSaveOptions save;
    save.progress = progress;
    return SaveSnapshot(**store, path, save);
  }
  // The embedded datastore is usually held by a running server: read it from the side, in
  // one SQLite read transaction, which is consistent at one revision by itself.
  std::unique_ptr<SnapshotWriter> writer;
  SnapshotHeader header;
  SnapshotProgress done;
  auto next_report = std::chrono::steady_clock::now();
  Status st = SqliteStore::Export(
      SqliteDatastorePath(options.data_dir),
      [&](int64_t revision, int64_t compacted) -> Status {
        header.revision = revision;
        header.compacted_revision = compacted;
        header.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
        auto created = SnapshotWriter::Create(path, header);
        if (!created) return created.error();
        writer = std::move(*created);
        return Status::Ok();
      },
      [&](KeyValue&& kv) -> Status {
        if (Status added = writer->Add(kv); !added.ok()) return added;
        done.keys = writer->keys();
        done.bytes = writer->bytes();
        if (progress && done.keys % 1000 == 0 && std::chrono::steady_clock::now() >= next_report) {
          next_report = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
          progress(done);
        }
        return Status::Ok();
      });
  if (!st.ok()) return Err(std::move(st));
  if (Status committed = writer->Commit(); !committed.ok()) return Err(std::move(committed));
  if (progress) progress(done);
  return header;
}

Result<RestoreSummary> RestoreDatastoreSnapshot(const DatastoreOptions& options,
                                                const std::string& path,
                                                const SnapshotProgressFn& progress) {
  if (Status st = ValidateDatastoreOptions(options); !st.ok()) return Err(std::move(st));
  auto snapshot = SnapshotReader::Open(path);
  if (!snapshot) return Err(std::move(snapshot.error()));
  SnapshotReader& reader = **snapshot;
  RestoreSummary summary;
  summary.snapshot = reader.header();

  if (UsesEtcd(options)) {
    auto store = OpenDatastore(options);
    if (!store) return Err(std::move(store.error()));
    auto revision = RestoreSnapshotByReplay(reader, **store, [&](const SnapshotProgress& p) {
      summary.keys = p.keys;
      if (progress) progress(p);
    });
    if (!revision) return Err(std::move(revision.error()));
    summary.revision = *revision;
    return summary;
  }

  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options.data_dir) / "db", ec);
  if (ec) {
    return Err(StatusCode::kInternal,
               "cannot create data dir " + options.data_dir + ": " + ec.message());
  }
  SnapshotProgress done;
  done.total_keys = reader.size();
  Status st =
      SqliteStore::Restore(SqliteDatastorePath(options.data_dir), reader.header().revision,
                           [&](const SqliteStore::KeyValueSink& sink) {
                             return reader.ForEachByModRevision([&](KeyValue&& kv) -> Status {
                               done.bytes += kv.key.size() + kv.value.size();
                               if (Status added = sink(std::move(kv)); !added.ok()) return added;
                               ++done.keys;
                               if (progress) progress(done);
                               return Status::Ok();
                             });
                           });
  if (!st.ok()) {
    if (st.code() == StatusCode::kAlreadyExists) {
      return Err(StatusCode::kAlreadyExists,
                 st.message() + "; restore needs a new or empty data dir");
    }
    if (st.code() == StatusCode::kServiceUnavailable) {
      return Err(StatusCode::kServiceUnavailable,
                 st.message() +
                     " (is a server running on this data dir?); restore needs a "
                     "new or empty data dir");
    }
    return Err(std::move(st));
  }
  summary.keys = done.keys;
  summary.revision = reader.header().revision;
  return summary;
}

}  // namespace skiff
