// `skiff datastore snapshot save|restore`: snapshots of the datastore named by the
// DatastoreOptions (the same flags as `skiff server`), in the file format of snapshot.h.
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/open_store.h"
#include "storage/snapshot.h"

namespace skiff {

// Saves a snapshot of the datastore to `path`. etcd: SaveSnapshot (the revision first, then
// pages read at it). SQLite: SqliteStore::Export, which reads the file beside a running
// server in one read transaction. Either way the file is consistent at one revision while
// writes go on. Errors: kNotFound if there is no SQLite datastore in the data dir; errors of
// the datastore; kInternal for file errors (no file is then left at `path`).
Result<SnapshotHeader> SaveDatastoreSnapshot(const DatastoreOptions& options,
                                             const std::string& path,
                                             const SnapshotProgressFn& progress = {});

struct RestoreSummary {
  SnapshotHeader snapshot;  // the header of the file restored
  uint64_t keys = 0;        // keys restored
  int64_t revision = 0;     // the datastore's revision afterwards
};

// Restores the snapshot at `path` into the datastore, which must be empty:
// - SQLite (DATA_DIR/db/state.db, created if absent): every key keeps its create and mod
//   revision and the revision counter is set to the snapshot's revision, so the restored
//   datastore is the source as of that revision (SqliteStore::Restore);
// - etcd: the keys are replayed in mod-revision order (RestoreSnapshotByReplay): etcd
//   numbers the revisions, so they are renumbered with their order kept.
// In both cases history older than the restored state is compacted away.
// Errors: those of SnapshotReader::Open (nothing is written from a damaged file);
// kAlreadyExists if the datastore is not empty; errors of the datastore.
Result<RestoreSummary> RestoreDatastoreSnapshot(const DatastoreOptions& options,
                                                const std::string& path,
                                                const SnapshotProgressFn& progress = {});

}  // namespace skiff
