// Datastore snapshots: one portable file holding every key of a Store as of one revision,
// written by `skiff datastore snapshot save`, read back by `... restore` and by the
// server's scheduled snapshots.
//
// File format, version 1 (all integers little-endian):
//
//   header   "SKIFFSNP" (8 bytes), u32 format version (1), u32 flags (0),
//            i64 revision (the revision the snapshot is consistent at),
//            i64 compacted revision of the source store, i64 creation time (unix seconds)
//   records  per key: u8 tag 'K', u32 key length, u32 value length, i64 create revision,
//            i64 mod revision, key bytes, value bytes — in key order
//   trailer  u8 tag 'E', u64 number of records, then the SHA-256 of every byte before it
//
// Nothing may follow the trailer. A file without its trailer (truncated) or whose digest
// does not match (corrupted) is rejected before anything is restored from it.
//
// Files are written to a temporary name in the same directory, fsynced and renamed into
// place, so a crash never leaves a partial file under the final name.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/store.h"

namespace skiff {

inline constexpr uint32_t kSnapshotFormatVersion = 1;

struct SnapshotHeader {
  uint32_t format_version = kSnapshotFormatVersion;
  int64_t revision = 0;            // every key is as of this revision
  int64_t compacted_revision = 0;  // the source store's compacted revision at that time
  int64_t created_unix = 0;        // when the snapshot was taken
};

class SnapshotDigest;

// Writes a snapshot file. Add keys in any order (Save adds them in key order), then Commit.
// Thread safety: not thread-safe.
class SnapshotWriter {
 public:
  // Creates a temporary file next to `path` and writes the header.
  // Errors: kInternal if the file cannot be created.
  static Result<std::unique_ptr<SnapshotWriter>> Create(const std::string& path,
                                                        const SnapshotHeader& header);
  // Removes the temporary file unless Commit succeeded.
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends one key. Errors: kBadRequest for an empty key, revisions outside
  // 0 < create <= mod <= header revision, or a key/value too large for the format;
  // kInternal on a write error.
  Status Add(const KeyValue& kv);

  // Writes the trailer, fsyncs, and renames the file to its final path (replacing any
  // file there). Errors: kInternal. No further calls are allowed afterwards.
  Status Commit();

  uint64_t keys() const { return keys_; }
  uint64_t bytes() const { return bytes_; }

 private:
  SnapshotWriter(std::string path, std::string temp_path, std::FILE* file, SnapshotHeader header);
  Status Write(const void* data, size_t size);

  const std::string path_;
  const std::string temp_path_;
  const SnapshotHeader header_;
  std::FILE* file_;
  std::unique_ptr<SnapshotDigest> digest_;
  uint64_t keys_ = 0;
  uint64_t bytes_ = 0;
  bool committed_ = false;
  Status failed_;  // the first write error; later calls return it
};

// Reads a snapshot file. Open checks the whole file (structure, digest, revisions) before
// returning, so that a restore never starts from a damaged file; the values are then read
// again from disk one at a time, so memory stays proportional to the number of keys.
// Thread safety: not thread-safe.
class SnapshotReader {
 public:
  // Errors: kNotFound if the file does not exist; kInvalid if it is not a snapshot, has an
  // unsupported format version, is truncated, or fails its checksum; kInternal on a read
  // error.
  static Result<std::unique_ptr<SnapshotReader>> Open(const std::string& path);
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  const SnapshotHeader& header() const { return header_; }
  size_t size() const { return entries_.size(); }

  // Calls `fn` for every key in ascending mod-revision order (ties in file order).
  // Stops at, and returns, the first non-ok Status from `fn`. Errors: kInternal on a read
  // error; kInvalid if the file changed since Open.
  Status ForEachByModRevision(const std::function<Status(KeyValue&&)>& fn);

 private:
  struct Entry {
    int64_t mod_revision;
    uint64_t offset;  // of the record's tag byte
  };
  SnapshotReader(std::FILE* file, SnapshotHeader header, std::vector<Entry> entries);

  std::FILE* const file_;
  const SnapshotHeader header_;
  const std::vector<Entry> entries_;  // sorted by mod revision
};

// What a Save or Restore did, for its progress reports and final summary.
struct SnapshotProgress {
  uint64_t keys = 0;        // keys written so far
  uint64_t bytes = 0;       // bytes of keys and values so far
  uint64_t total_keys = 0;  // Restore only: keys in the file
};
using SnapshotProgressFn = std::function<void(const SnapshotProgress&)>;

struct SnapshotSaveOptions {
  int64_t page_size = 1000;     // keys per Range call
  SnapshotProgressFn progress;  // called after every page (may be empty)
};

// Writes a snapshot of `store` to `path`: takes the current revision first, then reads every
// key as of that revision in pages, so the file is consistent even while others write.
// Returns the header written. Errors: from the store (kGone if compaction overtook the
// save), kInternal for file errors; on error no file is left at `path`.
Result<SnapshotHeader> SaveSnapshot(Store& store, const std::string& path,
                                    const SnapshotSaveOptions& options = {});

// Restores `snapshot` into `store` by replaying it: one Create per key, in mod-revision order,
// then a Compact at the last revision written. The store assigns new revisions (etcd counts
// its own), so create and mod revisions are renumbered, but the order of mod revisions —
// hence of resourceVersions — is kept; values are written byte for byte (they carry no
// resourceVersion: that is the mod revision). Returns the store's revision afterwards.
// Errors: kAlreadyExists if the store holds any key; errors of the store.
Result<int64_t> RestoreSnapshotByReplay(SnapshotReader& snapshot, Store& store,
                                        const SnapshotProgressFn& progress = {});

}  // namespace skiff
