// Store: the datastore contract every backend (SQLite, etcd) implements.
//
// Keys are byte strings such as "/registry/configmaps/default/foo"; values are the
// serialized objects. One global revision counter increases by one per successful
// write (create, update or delete). Each live key carries its create revision and its
// mod revision (the revision of its last write); an object's metadata.resourceVersion
// is its mod revision. History older than the compacted revision is gone: reads and
// watches that ask for it fail with StatusCode::kGone.
//
// An acknowledged write (a call that returned success) is durable: it survives a
// kill -9 of the process. Backends batch concurrent writes into one commit.
//
// Thread safety: all methods may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace skiff {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key
  int64_t revision = 0;       // the revision the range was read at
  bool more = false;          // true when `limit` cut the result short
};

struct DeleteResult {
  KeyValue deleted;      // the value as it was just before the delete
  int64_t revision = 0;  // the revision of the delete itself
};

enum class WatchEventType { kPut, kDelete };

struct WatchEvent {
  WatchEventType type = WatchEventType::kPut;
  // For kPut: the new value. For kDelete: key and value of the deleted object, with
  // mod_revision set to the revision of the delete.
  KeyValue kv;
  // The previous value of the key, if it existed (always set for kDelete).
  std::optional<KeyValue> prev;
};

// Delivered to a watch callback: a batch of events in revision order, or an error
// (e.g. kGone once the watch can no longer be served). After an error no further
// callbacks arrive.
struct WatchBatch {
  std::vector<WatchEvent> events;
  Status error;
};
using WatchCallback = std::function<void(WatchBatch&&)>;

// A live watch. Destroying it cancels the watch; once the destructor returns the
// callback is not running and will not be called again.
class StoreWatch {
 public:
  virtual ~StoreWatch() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates `key` with `value`. Returns the new revision.
  // Errors: kAlreadyExists if the key is live.
  virtual Result<int64_t> Create(std::string_view key, std::string value) = 0;

  // Replaces the value of a live key whose mod revision equals
  // `expected_mod_revision`. Returns the new revision.
  // Errors: kNotFound if the key does not exist; kConflict if its mod revision differs.
  virtual Result<int64_t> Update(std::string_view key, std::string value,
                                 int64_t expected_mod_revision) = 0;

  // Deletes a live key. If `expected_mod_revision` is non-zero the key's mod revision
  // must equal it. Errors: kNotFound, kConflict.
  virtual Result<DeleteResult> Delete(std::string_view key, int64_t expected_mod_revision) = 0;

  // Reads the current value of a key. Errors: kNotFound.
  virtual Result<KeyValue> Get(std::string_view key) = 0;

  // Lists live keys that start with `prefix` and are > `start_after` (when not empty),
  // as of `revision` (0 = the current revision), in key order, at most `limit` of them
  // (0 = no limit). Errors: kGone if `revision` is older than the compacted revision;
  // kBadRequest if `revision` is in the future.
  virtual Result<RangeResult> Range(std::string_view prefix, std::string_view start_after,
                                    int64_t revision, int64_t limit) = 0;

  // Watches keys under `prefix` for every change with revision > `after_revision`.
  // Events already in history are delivered first, then live events, in revision order,
  // without gaps or duplicates. Errors: kGone if `after_revision` < compacted revision.
  // The callback runs on a backend thread and must not block for long.
  virtual Result<std::unique_ptr<StoreWatch>> Watch(std::string_view prefix, int64_t after_revision,
                                                    WatchCallback callback) = 0;

  // Like Create, without waiting for the write when the backend can queue it
  // (CreateIsQueued): `done` then runs later on a backend thread and must not block.
  // Otherwise this runs Create and calls `done` before returning.
  virtual void CreateAsync(std::string_view key, std::string value,
                           std::function<void(Result<int64_t>)> done) {
    done(Create(key, std::move(value)));
  }
  virtual bool CreateIsQueued() const { return false; }

  // The latest revision.
  virtual Result<int64_t> CurrentRevision() = 0;

  // True when CurrentRevision answers from memory without waiting on anything (no
  // network round trip, no lock held across I/O), so callers that must not block may use
  // it.
  virtual bool CurrentRevisionIsLocal() const { return false; }

  // Drops history at or below `revision` (the latest value of every live key is kept).
  // Errors: kGone if already compacted past `revision`; kBadRequest if in the future.
  virtual Status Compact(int64_t revision) = 0;

  // The revision of the last compaction (0 if none).
  virtual int64_t CompactedRevision() = 0;
};

}  // namespace skiff
