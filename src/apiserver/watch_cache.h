// WatchCache: the API server's in-memory copy of one resource.
//
// It lists the resource from the Store once, then follows the Store's watch, keeping
// the latest state of every object and a ring of recent events. LIST and WATCH are
// served from here; the Store sees only writes and the initial load.
//
// Watchers receive events through a sink that must not block (it queues bytes on a
// connection); the fan-out runs under the cache's lock, so a watcher registered from
// an old revision gets its replay and then live events in order, without gaps.
// Thread safety: all public methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "base/status.h"
#include "storage/store.h"

namespace skiff {

// One object as cached: parsed (with metadata.resourceVersion set) and serialized.
struct CachedObject {
  std::string key;  // "namespace/name" or "name" for cluster-scoped objects
  std::string ns;
  std::string name;
  int64_t revision = 0;  // mod revision (or the delete revision for a deleted object)
  std::shared_ptr<const boost::json::value> object;
  std::string json;  // serialized `object`
};
using CachedObjectPtr = std::shared_ptr<const CachedObject>;

enum class WatchEventKind { kAdded, kModified, kDeleted, kBookmark, kError };

// Decides which objects a watcher or list wants. Empty functions accept everything.
struct ObjectFilter {
  std::string ns;  // empty: all namespaces
  std::function<bool(const boost::json::value&)> predicate;
  bool Matches(const CachedObject& obj) const;
};

class CacheWatcher;

class WatchCache {
 public:
  // Sink for one watcher: kind, object (null for kBookmark), revision of the event.
  // Must not block. Returns false to end the watch.
  using Sink = std::function<bool(WatchEventKind, const CachedObjectPtr&, int64_t revision)>;

  // `key_prefix` is the resource's storage prefix ("/registry/pods/").
  WatchCache(Store& store, std::string key_prefix, size_t event_capacity = 10000);
  ~WatchCache();
  WatchCache(const WatchCache&) = delete;
  WatchCache& operator=(const WatchCache&) = delete;

  // Loads the current state and starts following the store through a watch of its own.
  Status Start();

  // For a caller that follows the store itself (one watch feeding many caches): loads the
  // current state only. Feed it with ApplyEvents afterwards. Called again on a loaded
  // cache (the store watch was lost, e.g. its next revision was compacted) it re-lists:
  // every watcher is ended with an error (clients re-list) and the event ring restarts at
  // the new revision, so no watcher sees a gap or a duplicate.
  // Errors: those of Store::Range; the cache is left untouched on failure.
  Status Load();
  // Applies store events for this cache's prefix (events at or below the loaded revision
  // are ignored) and marks the cache fresh up to `through_revision`: the caller promises
  // that every event of this prefix up to that revision has been passed in.
  void ApplyEvents(const std::vector<const WatchEvent*>& events, int64_t through_revision);
  // Ends every watcher with an error (the store can no longer be followed).
  void FailWatchers();

  // Blocks until the cache has applied `revision` or `timeout` passes. Returns true if fresh.
  bool WaitUntilFresh(int64_t revision, std::chrono::milliseconds timeout);
  // True if the cache has applied `revision`; never blocks.
  bool IsFresh(int64_t revision) const;

  // The cache's current revision.
  int64_t revision() const;

  // Objects matching `filter` with key > `start_after` (when non-empty), in key order,
  // at most `limit` (0 = all). `*more` tells whether more matched past the limit.
  // When `remaining` is given and the filter has no predicate, it receives the number of
  // matching objects left after the page (metadata.remainingItemCount).
  std::vector<CachedObjectPtr> List(const ObjectFilter& filter, std::string_view start_after,
                                    int64_t limit, int64_t* revision, bool* more,
                                    int64_t* remaining = nullptr) const;

  // Like List, but as the resource was at `at_revision`, reconstructed from the current
  // state and the ring of recent events (no `remaining` count). Returns false, with
  // `out` untouched, when the cache cannot tell: `at_revision` is older than the ring
  // or newer than the cache.
  bool ListAt(int64_t at_revision, const ObjectFilter& filter, std::string_view start_after,
              int64_t limit, std::vector<CachedObjectPtr>* out, bool* more) const;

  // The object with `key` ("ns/name" or "name"), or nullptr.
  CachedObjectPtr Get(std::string_view key, int64_t* revision) const;

  // Starts a watch. With `from_revision` == 0 the watcher first receives kAdded for every
  // current object matching (if `initial_events`), then live events. With
  // from_revision > 0 it receives every event after that revision.
  // Errors: kGone ("too old resource version") when the ring no longer holds them.
  // The watch ends when the returned handle is destroyed or the sink returns false.
  Result<std::shared_ptr<CacheWatcher>> Watch(int64_t from_revision, bool initial_events,
                                              ObjectFilter filter, Sink sink);

  // Sends a bookmark at the current revision to `watcher` (if it is still live).
  void Bookmark(const std::shared_ptr<CacheWatcher>& watcher);

  // Number of live watchers (for tests and metrics).
  size_t watcher_count() const;

  // Stops following the store; watchers get no further events.
  void Stop();

  // Storage key <-> cache key.
  std::string StoreKey(std::string_view cache_key) const {
    return prefix_ + std::string(cache_key);
  }

 private:
  friend class CacheWatcher;
  struct Event {
    WatchEventKind kind;
    CachedObjectPtr obj;
    CachedObjectPtr prev;  // previous state, for selector transitions
    int64_t revision;
  };
  void OnStoreBatch(WatchBatch&& batch);
  void Dispatch(const Event& ev);  // REQUIRES: mu_ held
  static bool Deliver(CacheWatcher& w, const Event& ev);
  void Unregister(CacheWatcher* w);

  // Constant after construction.
  Store& store_;
  const std::string prefix_;
  const size_t capacity_;

  mutable std::mutex mu_;
  std::condition_variable fresh_cv_;
  std::map<std::string, CachedObjectPtr, std::less<>> objects_;  // protected by mu_
  std::deque<Event> events_;                                     // protected by mu_
  int64_t revision_ = 0;                                         // protected by mu_
  int64_t oldest_revision_ = 0;          // events_ covers (oldest_revision_, revision_]; by mu_
  std::vector<CacheWatcher*> watchers_;  // protected by mu_
  bool stopped_ = false;                 // protected by mu_

  std::unique_ptr<StoreWatch> store_watch_;  // set by Start, reset by Stop
};

// A registered watcher. Destroying the last reference unregisters it.
class CacheWatcher {
 public:
  ~CacheWatcher();
  bool live() const;

 private:
  friend class WatchCache;
  CacheWatcher(WatchCache* cache, ObjectFilter filter, WatchCache::Sink sink)
      : cache_(cache), filter_(std::move(filter)), sink_(std::move(sink)) {}
  WatchCache* cache_;
  ObjectFilter filter_;
  WatchCache::Sink sink_;
  int64_t last_revision_ = 0;  // protected by cache_->mu_
  bool live_ = true;           // protected by cache_->mu_
};

// Converts a stored value into a cached object (sets metadata.resourceVersion).
Result<CachedObjectPtr> MakeCachedObject(std::string key, std::string_view value, int64_t revision);

}  // namespace skiff
