// Informer: client-go's shared informer for one resource. It lists the resource (in
// pages), then watches from the list's resourceVersion, keeping a thread-safe cache of
// the objects with secondary indexes, and calls its handlers for every change. A watch
// that ends is resumed from the last resourceVersion seen (bookmarks included); a watch
// the server answers with 410 Gone (history compacted) makes it list again, and handlers
// then see the difference between the old and the new list as adds, updates and deletes.
//
// Handlers run on the informer's thread, one event at a time, in order, outside the
// cache lock: they should only enqueue keys (controllers read the cache in their workers).
//
// Thread safety: Get, List, ByIndex, HasSynced and WaitForSync may be called from any
// thread at any time; AddHandlers and AddIndex only before Start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/fwd.hpp>

#include "client/client.h"

namespace skiff {

using ObjectPtr = std::shared_ptr<const boost::json::object>;

// "namespace/name", or "name" for a cluster-scoped object (client-go's
// MetaNamespaceKeyFunc).
std::string ObjectKey(const boost::json::object& obj);

struct InformerHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

struct InformerOptions {
  std::string ns;              // empty: all namespaces
  std::string label_selector;  // as in a list request
  std::string field_selector;
  int64_t page_size = 500;  // list pages (limit)
  // Wait before listing or watching again after a failure.
  std::chrono::milliseconds retry_delay{1000};
};

class Informer {
 public:
  // Index function: the index values of an object (e.g. its node name).
  using IndexFunc = std::function<std::vector<std::string>(const boost::json::object&)>;

  // `client` must outlive the informer.
  Informer(Client& client, ResourcePath resource, InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // REQUIRES: before Start.
  void AddHandlers(InformerHandlers handlers);
  void AddIndex(const std::string& name, IndexFunc index);

  // Starts listing and watching on a thread of its own.
  void Start();
  // Ends the watch and joins the thread. Idempotent.
  void Stop();

  // True once the first list has been stored and its handlers called.
  bool HasSynced() const { return synced_.load(); }
  // Blocks until HasSynced or `timeout`; returns HasSynced.
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // The cached object with `key` (ObjectKey), or nullptr.
  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  // Objects whose index `name` includes `value`.
  std::vector<ObjectPtr> ByIndex(const std::string& name, const std::string& value) const;
  // The resourceVersion the cache is at ("" before the first list).
  std::string resource_version() const;

  const ResourcePath& resource() const { return resource_; }

 private:
  void Run();
  // Lists every page; replaces the cache; returns the list's resourceVersion.
  Result<std::string> ListAndReplace();
  // Watches from `*rv` until the watch ends; false when a re-list is needed.
  bool WatchFrom(std::string* rv);
  void Upsert(ObjectPtr obj);
  void Remove(const ObjectPtr& obj);
  void IndexLocked(const std::string& key, const boost::json::object& obj,
                   bool add);  // REQUIRES: mu_
  bool SleepUnlessStopping(std::chrono::milliseconds d);

  Client& client_;
  const ResourcePath resource_;
  const InformerOptions options_;
  std::vector<InformerHandlers> handlers_;      // constant after Start
  std::map<std::string, IndexFunc> index_fns_;  // constant after Start

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, ObjectPtr> items_;  // protected by mu_
  // index name -> value -> keys; protected by mu_
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;
  std::string resource_version_;        // protected by mu_
  std::unique_ptr<WatchStream> watch_;  // the open watch; protected by mu_
  bool stopping_ = false;               // protected by mu_
  std::atomic<bool> synced_{false};
  std::thread thread_;
};

}  // namespace skiff
