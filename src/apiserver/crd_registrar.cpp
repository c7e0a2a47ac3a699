// The CustomResourceDefinition registrar of the ResourceHandler: it serves what stored
// definitions describe through the same catalogue, caches and request path as built-in
// resources, keeps their NamesAccepted/Established/Terminating conditions, and for a
// deleted definition deletes its custom resources before letting the definition go
// (the customresourcecleanup.apiextensions.k8s.io finalizer).

#include <set>

#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/custom_resource.h"
#include "apiserver/resource_handler.h"
#include "apiserver/watch_cache.h"
#include "base/k8s_time.h"
#include "base/log.h"
#include "storage/store.h"

namespace skiff {

namespace json = boost::json;
using api::ResourceInfo;

namespace {

constexpr std::string_view kCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";
constexpr auto kSyncInterval = std::chrono::seconds(1);
constexpr int kStatusRetries = 5;

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

std::string StringAt(const json::object* o, std::string_view key) {
  if (!o) return {};
  const json::value* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Sets condition `type` in `conditions`, keeping lastTransitionTime when the status is
// unchanged.
void SetCondition(json::array& conditions, std::string_view type, bool status,
                  std::string_view reason, std::string_view message) {
  std::string status_text = status ? "True" : "False";
  std::string now = FormatRfc3339(std::chrono::system_clock::now());
  json::object cond{{"type", type},
                    {"status", status_text},
                    {"lastTransitionTime", now},
                    {"reason", reason},
                    {"message", message}};
  for (json::value& existing : conditions) {
    json::object* e = existing.if_object();
    if (!e || StringAt(e, "type") != type) continue;
    if (StringAt(e, "status") == status_text)
      cond["lastTransitionTime"] = (*e)["lastTransitionTime"];
    existing = std::move(cond);
    return;
  }
  conditions.push_back(std::move(cond));
}

json::array ConditionsOf(const json::object& status) {
  const json::value* c = status.if_contains("conditions");
  return c && c->is_array() ? c->as_array() : json::array();
}

}  // namespace

void ResourceHandler::DefinitionLoop() {
  std::unique_lock lock(crd_mu_);
  while (!crd_stopping_) {
    crd_cv_.wait_for(lock, kSyncInterval, [this] { return crd_stopping_ || crd_dirty_; });
    if (crd_stopping_) break;
    crd_dirty_ = false;
    lock.unlock();
    SyncCustomResources();
    lock.lock();
  }
}

bool ResourceHandler::DefinitionTerminating(const ResourceInfo& r) {
  const ResourceInfo* crdr =
      catalogue_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  WatchCache* cache = crdr ? CacheFor(*crdr) : nullptr;
  if (!cache) return false;
  CachedObjectPtr crd = cache->Get(r.plural() + "." + r.group(), nullptr);
  const json::object* o = crd && crd->object ? crd->object->if_object() : nullptr;
  const json::object* meta = o ? ObjectAt(*o, "metadata") : nullptr;
  return meta && meta->contains("deletionTimestamp");
}

Result<WatchCache*> ResourceHandler::EnsureCache(const ResourceInfo& r) {
  const ResourceInfo& storage = *r.storage;
  {
    std::shared_lock lock(caches_mu_);
    for (auto& [other, cache] : caches_) {
      if (other->key_prefix == storage.key_prefix) return cache.get();
    }
  }
  // Loading under the exclusive lock keeps store events from passing the new cache by:
  // every event dispatched after this is routed to it, and every earlier one is in what
  // it loads.
  std::unique_lock lock(caches_mu_);
  for (auto& [other, cache] : caches_) {
    if (other->key_prefix == storage.key_prefix) return cache.get();
  }
  auto cache = std::make_unique<WatchCache>(store_, storage.key_prefix);
  Status st = cache->Load();
  if (!st.ok()) return std::unexpected(st);
  WatchCache* out = cache.get();
  // Custom resources live in the main store, fed by the first feed.
  feeds_.front()->caches.emplace_back(storage.key_prefix, out);
  caches_.emplace(&storage, std::move(cache));
  return out;
}

void ResourceHandler::UpdateDefinitionStatus(const std::string& name, const json::object& status) {
  const ResourceInfo* crdr =
      catalogue_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  if (!crdr) return;
  for (int attempt = 0; attempt < kStatusRetries; ++attempt) {
    int64_t rev = 0;
    auto current = Load(*crdr, name, &rev);
    if (!current) return;
    const json::value* old_status = current->if_contains("status");
    if (old_status && old_status->is_object() && old_status->as_object() == status) return;
    json::object updated = *current;
    updated["status"] = status;
    json::value& meta = updated["metadata"];
    if (meta.is_object()) meta.as_object().erase("resourceVersion");
    auto written = store_.Update(crdr->key_prefix + name, json::serialize(updated), rev);
    if (written || written.error().code() != StatusCode::kConflict) return;
  }
}

bool ResourceHandler::CleanUpCustomResources(const json::object& definition) {
  std::string name = StringAt(ObjectAt(definition, "metadata"), "name");
  const api::CustomResourceSet* set = catalogue_.FindCustom(name);
  if (!set) return true;
  WatchCache* cache = nullptr;
  {
    auto c = EnsureCache(*set->storage);
    if (!c) return false;
    cache = *c;
  }
  auto current = store_.CurrentRevision();
  if (current) cache->WaitUntilFresh(*current, std::chrono::seconds(5));
  auto items = cache->List(ObjectFilter{}, "", 0, nullptr, nullptr);
  if (items.empty()) return true;
  const ResourceInfo* via = set->served.empty() ? nullptr : set->served.front().get();
  for (const auto& item : items) {
    const json::object* o = item->object ? item->object->if_object() : nullptr;
    const json::object* meta = o ? ObjectAt(*o, "metadata") : nullptr;
    if (meta && meta->contains("deletionTimestamp")) continue;  // waiting for its finalizers
    if (via) {
      std::string path = "/apis/" + via->group() + "/" + via->version() + "/";
      if (via->namespaced()) path += "namespaces/" + item->ns + "/";
      path += via->plural() + "/" + item->name;
      (void)InternalRequest("DELETE", path, json::object{});
    } else {
      (void)store_.Delete(set->storage->key_prefix + item->key, item->revision);
    }
  }
  return false;
}

void ResourceHandler::SyncCustomResources() {
  std::lock_guard sync_lock(crd_sync_mu_);
  const ResourceInfo* crdr =
      catalogue_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  WatchCache* cache = crdr ? CacheFor(*crdr) : nullptr;
  if (!cache) return;
  auto current = store_.CurrentRevision();
  if (current) cache->WaitUntilFresh(*current, std::chrono::seconds(5));
  std::set<std::string> present;
  for (const auto& item : cache->List(ObjectFilter{}, "", 0, nullptr, nullptr)) {
    const json::object* crd = item->object ? item->object->if_object() : nullptr;
    if (!crd) continue;
    const std::string& name = item->name;
    present.insert(name);
    const json::object* meta = ObjectAt(*crd, "metadata");
    const json::object* stored_status = ObjectAt(*crd, "status");
    json::object status = stored_status ? *stored_status : json::object();
    json::array conditions = ConditionsOf(status);

    if (meta && meta->contains("deletionTimestamp")) {
      SetCondition(conditions, "Terminating", true, "InstanceDeletionInProgress",
                   "CustomResource deletion is in progress");
      status["conditions"] = conditions;
      UpdateDefinitionStatus(name, status);
      if (!CleanUpCustomResources(*crd)) continue;
      // Nothing left: drop the finalizer; the definition then goes away.
      catalogue_.RemoveCustom(name);
      crd_registered_.erase(name);
      for (int attempt = 0; attempt < kStatusRetries; ++attempt) {
        int64_t rev = 0;
        auto latest = Load(*crdr, name, &rev);
        if (!latest) break;
        json::object updated = *latest;
        json::object& m = updated["metadata"].as_object();
        m.erase("resourceVersion");
        json::array kept;
        if (const json::value* f = m.if_contains("finalizers"); f && f->is_array()) {
          for (const json::value& v : f->as_array()) {
            if (!(v.is_string() && v.as_string() == kCleanupFinalizer)) kept.push_back(v);
          }
        }
        Status written;
        if (kept.empty()) {
          auto del = store_.Delete(crdr->key_prefix + name, rev);
          if (!del) written = del.error();
        } else {
          m["finalizers"] = std::move(kept);
          auto up = store_.Update(crdr->key_prefix + name, json::serialize(updated), rev);
          if (!up) written = up.error();
        }
        if (written.code() != StatusCode::kConflict) break;
      }
      continue;
    }

    std::string version_key =
        StringAt(meta, "uid") + "/" +
        (meta && meta->contains("generation") ? json::serialize(meta->at("generation")) : "0");
    Status accepted = Status::Ok();
    auto it = crd_registered_.find(name);
    if (it == crd_registered_.end() || it->second != version_key ||
        catalogue_.FindCustom(name) == nullptr) {
      auto set = api::BuildCustomResourceSet(*crd, catalogue_.schemas());
      if (!set) {
        log::Warn("apiserver",
                  "cannot serve CustomResourceDefinition " + name + ": " + set.error().message());
        continue;
      }
      // The set's descriptions live as long as the catalogue once it is accepted; a
      // rejected set is destroyed here, so its cache is made only after acceptance (the
      // definition is not Established before its status is written below).
      const api::ResourceInfo* storage = (*set)->storage;
      accepted = catalogue_.AddCustom(std::move(*set));
      if (accepted.ok()) {
        auto cached = EnsureCache(*storage);
        if (!cached) {
          log::Warn("apiserver",
                    "cannot cache custom resources of " + name + ": " + cached.error().message());
          continue;
        }
        crd_registered_[name] = version_key;
      } else {
        crd_registered_.erase(name);
      }
    }
    if (accepted.ok()) {
      SetCondition(conditions, "NamesAccepted", true, "NoConflicts", "no conflicts found");
      SetCondition(conditions, "Established", true, "InitialNamesAccepted",
                   "the initial names have been accepted");
      const json::object* spec = ObjectAt(*crd, "spec");
      if (const json::object* names = spec ? ObjectAt(*spec, "names") : nullptr) {
        status["acceptedNames"] = *names;
      }
    } else {
      SetCondition(conditions, "NamesAccepted", false, accepted.reason_override(),
                   accepted.message());
      SetCondition(conditions, "Established", false, "NotAccepted", "not all names are accepted");
    }
    status["conditions"] = conditions;
    UpdateDefinitionStatus(name, status);
  }
  for (const std::string& name : catalogue_.CustomNames()) {
    if (!present.contains(name)) {
      catalogue_.RemoveCustom(name);
      crd_registered_.erase(name);
    }
  }
}

}  // namespace skiff
