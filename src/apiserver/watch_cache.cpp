#include "apiserver/watch_cache.h"

#include <algorithm>

#include <boost/json.hpp>

namespace skiff {

namespace json = boost::json;

bool ObjectFilter::Matches(const CachedObject& obj) const {
  if (!ns.empty() && obj.ns != ns) return false;
  if (predicate && obj.object && !predicate(*obj.object)) return false;
  return true;
}

Result<CachedObjectPtr> MakeCachedObject(std::string key, std::string_view value,
                                         int64_t revision) {
  json::error_code ec;
  json::value v = json::parse(value, ec);
  if (ec || !v.is_object()) {
    return Err(StatusCode::kInternal, "stored object under " + key + " is not a JSON object");
  }
  auto obj = std::make_shared<CachedObject>();
  auto& o = v.as_object();
  json::value& meta = o["metadata"];
  if (!meta.is_object()) meta = json::object();
  meta.as_object()["resourceVersion"] = std::to_string(revision);
  if (auto* n = meta.as_object().if_contains("name"); n && n->is_string()) {
    obj->name = std::string(n->as_string());
  }
  if (auto* n = meta.as_object().if_contains("namespace"); n && n->is_string()) {
    obj->ns = std::string(n->as_string());
  }
  obj->key = std::move(key);
  obj->revision = revision;
  obj->json = json::serialize(v);
  obj->object = std::make_shared<const json::value>(std::move(v));
  return CachedObjectPtr(std::move(obj));
}

WatchCache::WatchCache(Store& store, std::string key_prefix, size_t event_capacity)
    : store_(store), prefix_(std::move(key_prefix)), capacity_(event_capacity) {}

WatchCache::~WatchCache() { Stop(); }

Status WatchCache::Load() {
  auto range = store_.Range(prefix_, "", 0, 0);
  if (!range) return range.error();
  std::map<std::string, CachedObjectPtr, std::less<>> loaded;
  for (auto& kv : range->kvs) {
    std::string key = kv.key.substr(prefix_.size());
    auto obj = MakeCachedObject(key, kv.value, kv.mod_revision);
    if (!obj) return obj.error();
    loaded.emplace(std::move(key), std::move(*obj));
  }
  std::lock_guard lock(mu_);
  // Whatever happened between the previous state and this one is not known as events:
  // end every watcher (they re-list) and start the ring afresh, all under one lock so
  // that no watcher can see part of the old history followed by the new state.
  for (CacheWatcher* cw : watchers_) {
    cw->sink_(WatchEventKind::kError, nullptr, revision_);
    cw->live_ = false;
  }
  watchers_.clear();
  events_.clear();
  objects_ = std::move(loaded);
  revision_ = std::max(revision_, range->revision);
  oldest_revision_ = revision_;
  fresh_cv_.notify_all();
  return Status::Ok();
}

Status WatchCache::Start() {
  Status st = Load();
  if (!st.ok()) return st;
  auto watch = store_.Watch(prefix_, revision(),
                            [this](WatchBatch&& batch) { OnStoreBatch(std::move(batch)); });
  if (!watch) return watch.error();
  store_watch_ = std::move(*watch);
  return Status::Ok();
}

void WatchCache::Stop() {
  std::unique_ptr<StoreWatch> w;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    w = std::move(store_watch_);
  }
  w.reset();  // outside mu_: the store may be inside OnStoreBatch
  std::lock_guard lock(mu_);
  for (CacheWatcher* cw : watchers_) cw->live_ = false;
  watchers_.clear();
  fresh_cv_.notify_all();
}

void WatchCache::OnStoreBatch(WatchBatch&& batch) {
  if (!batch.error.ok()) {
    FailWatchers();
    return;
  }
  std::vector<const WatchEvent*> events;
  int64_t through = 0;
  for (const auto& ev : batch.events) {
    events.push_back(&ev);
    through = std::max(through, ev.kv.mod_revision);
  }
  ApplyEvents(events, through);
}

void WatchCache::FailWatchers() {
  // The store can no longer be followed (e.g. compacted away): end every watcher so
  // clients re-list; the cache itself keeps serving its last state.
  std::lock_guard lock(mu_);
  for (CacheWatcher* cw : watchers_) {
    cw->sink_(WatchEventKind::kError, nullptr, revision_);
    cw->live_ = false;
  }
  watchers_.clear();
}

void WatchCache::ApplyEvents(const std::vector<const WatchEvent*>& events,
                             int64_t through_revision) {
  // Parse outside the lock.
  struct Parsed {
    WatchEventType type;
    CachedObjectPtr obj;
    int64_t revision;
  };
  std::vector<Parsed> parsed;
  parsed.reserve(events.size());
  int64_t loaded_at = revision();
  for (const WatchEvent* ev : events) {
    if (ev->kv.mod_revision <= loaded_at) continue;
    std::string key = ev->kv.key.substr(std::min(prefix_.size(), ev->kv.key.size()));
    auto obj = MakeCachedObject(std::move(key), ev->kv.value, ev->kv.mod_revision);
    if (!obj) continue;  // a corrupt value cannot be served; skip it
    parsed.push_back({ev->type, std::move(*obj), ev->kv.mod_revision});
  }
  std::lock_guard lock(mu_);
  if (stopped_) return;
  for (auto& p : parsed) {
    if (p.revision <= revision_) continue;
    Event ev;
    ev.revision = p.revision;
    ev.obj = p.obj;
    auto it = objects_.find(p.obj->key);
    if (p.type == WatchEventType::kDelete) {
      ev.kind = WatchEventKind::kDeleted;
      if (it != objects_.end()) {
        ev.prev = it->second;
        objects_.erase(it);
      }
    } else if (it == objects_.end()) {
      ev.kind = WatchEventKind::kAdded;
      objects_.emplace(p.obj->key, p.obj);
    } else {
      ev.kind = WatchEventKind::kModified;
      ev.prev = it->second;
      it->second = p.obj;
    }
    revision_ = p.revision;
    events_.push_back(ev);
    if (events_.size() > capacity_) {
      oldest_revision_ = events_.front().revision;
      events_.pop_front();
    }
    Dispatch(events_.back());
  }
  revision_ = std::max(revision_, through_revision);
  fresh_cv_.notify_all();
}

bool WatchCache::Deliver(CacheWatcher& w, const Event& ev) {
  if (ev.revision <= w.last_revision_) return true;
  bool now = w.filter_.Matches(*ev.obj);
  bool before = ev.prev && w.filter_.Matches(*ev.prev);
  WatchEventKind kind = ev.kind;
  if (kind == WatchEventKind::kDeleted) {
    if (!before && !now) return true;
  } else if (kind == WatchEventKind::kModified) {
    if (!now && !before) return true;
    if (now && !before) kind = WatchEventKind::kAdded;
    if (!now && before) kind = WatchEventKind::kDeleted;
  } else if (!now) {
    return true;
  }
  w.last_revision_ = ev.revision;
  return w.sink_(kind, ev.obj, ev.revision);
}

void WatchCache::Dispatch(const Event& ev) {
  size_t out = 0;
  for (size_t i = 0; i < watchers_.size(); ++i) {
    CacheWatcher* w = watchers_[i];
    if (w->live_ && Deliver(*w, ev)) {
      watchers_[out++] = w;
    } else {
      w->live_ = false;
    }
  }
  watchers_.resize(out);
}

bool WatchCache::WaitUntilFresh(int64_t revision, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return fresh_cv_.wait_for(lock, timeout, [&] { return revision_ >= revision || stopped_; }) &&
         revision_ >= revision;
}

bool WatchCache::IsFresh(int64_t revision) const {
  std::lock_guard lock(mu_);
  return revision_ >= revision;
}

int64_t WatchCache::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

std::vector<CachedObjectPtr> WatchCache::List(const ObjectFilter& filter,
                                              std::string_view start_after, int64_t limit,
                                              int64_t* revision, bool* more,
                                              int64_t* remaining) const {
  std::vector<CachedObjectPtr> out;
  std::lock_guard lock(mu_);
  if (revision) *revision = revision_;
  if (more) *more = false;
  auto it = objects_.begin();
  std::string ns_prefix;
  if (!filter.ns.empty()) {
    ns_prefix = filter.ns + "/";
    it = objects_.lower_bound(ns_prefix);
  }
  if (!start_after.empty()) {
    auto it2 = objects_.upper_bound(start_after);
    if (it2 != objects_.end() && (it == objects_.end() || it2->first > it->first)) it = it2;
    if (it2 == objects_.end()) it = it2;
  }
  for (; it != objects_.end(); ++it) {
    if (!ns_prefix.empty() && !it->first.starts_with(ns_prefix)) break;
    if (!filter.Matches(*it->second)) continue;
    if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) {
      if (more) *more = true;
      if (remaining && !filter.predicate) {
        int64_t n = 0;
        for (; it != objects_.end(); ++it) {
          if (!ns_prefix.empty() && !it->first.starts_with(ns_prefix)) break;
          ++n;
        }
        *remaining = n;
      }
      break;
    }
    out.push_back(it->second);
  }
  return out;
}

bool WatchCache::ListAt(int64_t at_revision, const ObjectFilter& filter,
                        std::string_view start_after, int64_t limit,
                        std::vector<CachedObjectPtr>* out, bool* more) const {
  std::lock_guard lock(mu_);
  if (at_revision < oldest_revision_ || at_revision > revision_) return false;
  // What changed after `at_revision`: the first event of each key tells its state then
  // (absent before an ADDED, the previous object before a MODIFIED or DELETED).
  std::map<std::string_view, CachedObjectPtr> then;
  auto first_after =
      std::upper_bound(events_.begin(), events_.end(), at_revision,
                       [](int64_t rev, const Event& ev) { return rev < ev.revision; });
  for (auto ev = first_after; ev != events_.end(); ++ev) {
    if (!ev->obj) continue;
    then.try_emplace(ev->obj->key, ev->kind == WatchEventKind::kAdded ? nullptr : ev->prev);
  }
  // Every other key is as it is now. Walk both in key order.
  std::string ns_prefix = filter.ns.empty() ? std::string() : filter.ns + "/";
  std::string_view from = start_after > ns_prefix ? start_after : std::string_view(ns_prefix);
  const bool exclusive = !start_after.empty() && from == start_after;
  auto cur = exclusive ? objects_.upper_bound(from) : objects_.lower_bound(from);
  auto old = exclusive ? then.upper_bound(from) : then.lower_bound(from);
  std::vector<CachedObjectPtr> page;
  bool truncated = false;
  auto in_scope = [&](std::string_view key) { return key.starts_with(ns_prefix); };
  while (true) {
    const bool cur_ok = cur != objects_.end() && in_scope(cur->first);
    const bool old_ok = old != then.end() && in_scope(old->first);
    if (!cur_ok && !old_ok) break;
    CachedObjectPtr candidate;
    if (old_ok && (!cur_ok || old->first <= std::string_view(cur->first))) {
      if (cur_ok && old->first == std::string_view(cur->first)) ++cur;
      candidate = old->second;  // the object as it was, or null if it did not exist
      ++old;
    } else {
      candidate = cur->second;
      ++cur;
    }
    if (!candidate || !filter.Matches(*candidate)) continue;
    if (limit > 0 && static_cast<int64_t>(page.size()) >= limit) {
      truncated = true;
      break;
    }
    page.push_back(std::move(candidate));
  }
  *out = std::move(page);
  if (more) *more = truncated;
  return true;
}

CachedObjectPtr WatchCache::Get(std::string_view key, int64_t* revision) const {
  std::lock_guard lock(mu_);
  if (revision) *revision = revision_;
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<CacheWatcher>> WatchCache::Watch(int64_t from_revision, bool initial_events,
                                                        ObjectFilter filter, Sink sink) {
  std::shared_ptr<CacheWatcher> w(new CacheWatcher(this, std::move(filter), std::move(sink)));
  std::lock_guard lock(mu_);
  if (stopped_) return Err(StatusCode::kServiceUnavailable, "the watch cache is stopped");
  if (from_revision == 0) {
    if (initial_events) {
      for (auto& [key, obj] : objects_) {
        if (!w->filter_.Matches(*obj)) continue;
        if (!w->sink_(WatchEventKind::kAdded, obj, obj->revision)) {
          w->live_ = false;
          return w;
        }
      }
    }
    w->last_revision_ = revision_;
  } else {
    if (from_revision < oldest_revision_) {
      return Err(
          Status(StatusCode::kGone, "too old resource version: " + std::to_string(from_revision) +
                                        " (" + std::to_string(oldest_revision_ + 1) + ")"));
    }
    w->last_revision_ = from_revision;
    for (const Event& ev : events_) {
      if (ev.revision <= from_revision) continue;
      if (!Deliver(*w, ev)) {
        w->live_ = false;
        return w;
      }
    }
    w->last_revision_ = std::max(w->last_revision_, std::min(from_revision, revision_));
  }
  watchers_.push_back(w.get());
  return w;
}

void WatchCache::Bookmark(const std::shared_ptr<CacheWatcher>& watcher) {
  std::lock_guard lock(mu_);
  if (!watcher->live_) return;
  int64_t rev = std::max(revision_, watcher->last_revision_);
  if (!watcher->sink_(WatchEventKind::kBookmark, nullptr, rev)) {
    watcher->live_ = false;
    std::erase(watchers_, watcher.get());
  }
}

size_t WatchCache::watcher_count() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

void WatchCache::Unregister(CacheWatcher* w) {
  std::lock_guard lock(mu_);
  w->live_ = false;
  std::erase(watchers_, w);
}

CacheWatcher::~CacheWatcher() { cache_->Unregister(this); }

bool CacheWatcher::live() const {
  std::lock_guard lock(cache_->mu_);
  return live_;
}

}  // namespace skiff
