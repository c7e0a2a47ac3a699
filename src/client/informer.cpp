#include "client/informer.h"

#include <boost/json.hpp>

namespace skiff {

namespace json = boost::json;

namespace {

const json::object* MetaOf(const json::object& obj) {
  const json::value* m = obj.if_contains("metadata");
  return m ? m->if_object() : nullptr;
}

std::string MetaString(const json::object& obj, std::string_view key) {
  const json::object* meta = MetaOf(obj);
  const json::value* v = meta ? meta->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The selectors of a list or watch request, as query parameters ("&labelSelector=...").
std::string SelectorQuery(const InformerOptions& o) {
  std::string q;
  if (!o.label_selector.empty()) q += "&labelSelector=" + QueryEscape(o.label_selector);
  if (!o.field_selector.empty()) q += "&fieldSelector=" + QueryEscape(o.field_selector);
  return q;
}

}  // namespace

std::string ObjectKey(const json::object& obj) {
  std::string ns = MetaString(obj, "namespace");
  std::string name = MetaString(obj, "name");
  return ns.empty() ? name : ns + "/" + name;
}

Informer::Informer(Client& client, ResourcePath resource, InformerOptions options)
    : client_(client), resource_(std::move(resource)), options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandlers(InformerHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::AddIndex(const std::string& name, IndexFunc index) {
  index_fns_[name] = std::move(index);
}

void Informer::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (watch_) watch_->Stop();
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return synced_.load() || stopping_; });
  return synced_.load();
}

ObjectPtr Informer::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List() const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_) out.push_back(obj);
  return out;
}

std::vector<ObjectPtr> Informer::ByIndex(const std::string& name, const std::string& value) const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  auto index = indexes_.find(name);
  if (index == indexes_.end()) return out;
  auto keys = index->second.find(value);
  if (keys == index->second.end()) return out;
  for (const auto& key : keys->second) {
    if (auto it = items_.find(key); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

std::string Informer::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

void Informer::IndexLocked(const std::string& key, const json::object& obj, bool add) {
  for (const auto& [name, fn] : index_fns_) {
    auto& index = indexes_[name];
    for (const std::string& value : fn(obj)) {
      if (add) {
        index[value].insert(key);
      } else if (auto it = index.find(value); it != index.end()) {
        it->second.erase(key);
        if (it->second.empty()) index.erase(it);
      }
    }
  }
}

bool Informer::SleepUnlessStopping(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_; });
  return !stopping_;
}

Result<std::string> Informer::ListAndReplace() {
  std::map<std::string, ObjectPtr> listed;
  std::string rv, cont;
  do {
    std::string query = "limit=" + std::to_string(options_.page_size) + SelectorQuery(options_);
    if (!cont.empty()) query += "&continue=" + QueryEscape(cont);
    auto page = client_.List(resource_, options_.ns, query);
    if (!page) return std::unexpected(page.error());
    const json::value* meta = page->if_contains("metadata");
    cont.clear();
    if (meta && meta->is_object()) {
      const json::object& m = meta->as_object();
      if (auto* v = m.if_contains("resourceVersion"); v && v->is_string()) rv = v->as_string();
      if (auto* v = m.if_contains("continue"); v && v->is_string()) cont = v->as_string();
    }
    // Items of a list carry no kind; give them the kind of the list's items.
    std::string kind;
    if (auto* k = page->if_contains("kind"); k && k->is_string()) kind = k->as_string();
    if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
    std::string api_version;
    if (auto* a = page->if_contains("apiVersion"); a && a->is_string())
      api_version = a->as_string();
    if (auto* items = page->if_contains("items"); items && items->is_array()) {
      for (json::value& item : items->as_array()) {
        if (!item.is_object()) continue;
        json::object& obj = item.as_object();
        if (!obj.contains("kind")) obj["kind"] = kind;
        if (!obj.contains("apiVersion")) obj["apiVersion"] = api_version;
        std::string key = ObjectKey(obj);
        listed[key] = std::make_shared<const json::object>(std::move(obj));
      }
    }
  } while (!cont.empty());

  // Replace the cache, then tell the handlers what changed.
  std::vector<ObjectPtr> added;
  std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;
  std::vector<ObjectPtr> deleted;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, old] : items_) {
      auto it = listed.find(key);
      if (it == listed.end()) {
        deleted.push_back(old);
      } else if (MetaString(*old, "resourceVersion") !=
                 MetaString(*it->second, "resourceVersion")) {
        updated.emplace_back(old, it->second);
      }
    }
    for (const auto& [key, obj] : listed) {
      if (!items_.contains(key)) added.push_back(obj);
    }
    items_ = std::move(listed);
    indexes_.clear();
    for (const auto& [key, obj] : items_) IndexLocked(key, *obj, true);
    resource_version_ = rv;
  }
  for (const auto& h : handlers_) {
    for (const auto& obj : deleted)
      if (h.on_delete) h.on_delete(obj);
    for (const auto& [old, now] : updated)
      if (h.on_update) h.on_update(old, now);
    for (const auto& obj : added)
      if (h.on_add) h.on_add(obj);
  }
  return rv;
}

void Informer::Upsert(ObjectPtr obj) {
  std::string key = ObjectKey(*obj);
  ObjectPtr old;
  {
    std::lock_guard lock(mu_);
    auto it = items_.find(key);
    if (it != items_.end()) {
      old = it->second;
      IndexLocked(key, *old, false);
      it->second = obj;
    } else {
      items_.emplace(key, obj);
    }
    IndexLocked(key, *obj, true);
    resource_version_ = MetaString(*obj, "resourceVersion");
  }
  for (const auto& h : handlers_) {
    if (old) {
      if (h.on_update) h.on_update(old, obj);
    } else if (h.on_add) {
      h.on_add(obj);
    }
  }
}

void Informer::Remove(const ObjectPtr& obj) {
  std::string key = ObjectKey(*obj);
  ObjectPtr old;
  {
    std::lock_guard lock(mu_);
    auto it = items_.find(key);
    if (it != items_.end()) {
      old = it->second;
      IndexLocked(key, *old, false);
      items_.erase(it);
    }
    resource_version_ = MetaString(*obj, "resourceVersion");
  }
  // The final state the server reports (client-go hands that to OnDelete too).
  for (const auto& h : handlers_) {
    if (h.on_delete) h.on_delete(obj);
  }
}

bool Informer::WatchFrom(std::string* rv) {
  std::string target = resource_.Collection(options_.ns) +
                       "?watch=true&allowWatchBookmarks=true&resourceVersion=" + QueryEscape(*rv) +
                       SelectorQuery(options_);
  auto opened = client_.Watch(target);
  if (!opened) {
    if (opened.error().code() == StatusCode::kGone) return false;
    SleepUnlessStopping(options_.retry_delay);
    return true;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return true;
    watch_ = std::move(*opened);
  }
  bool relist = false;
  while (auto line = watch_->Next()) {
    boost::system::error_code ec;
    json::value event = json::parse(*line, ec);
    if (ec || !event.is_object()) continue;
    json::object& e = event.as_object();
    const json::value* type_v = e.if_contains("type");
    json::value* object_v = e.if_contains("object");
    if (!type_v || !type_v->is_string() || !object_v || !object_v->is_object()) continue;
    std::string_view type = type_v->as_string();
    json::object& obj = object_v->as_object();
    if (type == "ERROR") {
      // 410 Expired / Gone: what we would resume from is gone; list again.
      const json::value* code = obj.if_contains("code");
      relist = code && code->is_int64() && code->as_int64() == 410;
      break;
    }
    if (type == "BOOKMARK") {
      std::string at = MetaString(obj, "resourceVersion");
      std::lock_guard lock(mu_);
      resource_version_ = at;
      *rv = at;
      continue;
    }
    auto ptr = std::make_shared<const json::object>(std::move(obj));
    *rv = MetaString(*ptr, "resourceVersion");
    if (type == "DELETED") {
      Remove(ptr);
    } else {
      Upsert(std::move(ptr));
    }
  }
  std::lock_guard lock(mu_);
  watch_.reset();
  return !relist;
}

void Informer::Run() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto rv = ListAndReplace();
    if (!rv) {
      if (!SleepUnlessStopping(options_.retry_delay)) return;
      continue;
    }
    if (!synced_.exchange(true)) {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
    std::string at = *rv;
    // Resume the watch from where it ended until the server says the history is gone.
    while (WatchFrom(&at)) {
      if (!SleepUnlessStopping(std::chrono::milliseconds(0))) return;
    }
  }
}

}  // namespace skiff
