#include "apiserver/resource_handler.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/conversion.h"
#include "api/custom_resource.h"
#include "api/kind_strategy.h"
#include "api/object_codec.h"
#include "api/protobuf_codec.h"
#include "apiserver/api_server.h"
#include "apiserver/object_meta.h"
#include "apiserver/responses.h"
#include "apiserver/schema_patch_meta.h"
#include "apiserver/service_account_token.h"
#include "apiserver/service_allocator.h"
#include "apiserver/watch_cache.h"
#include "base/base64.h"
#include "base/field_selector.h"
#include "base/json_codec.h"
#include "base/json_patch.h"
#include "base/k8s_time.h"
#include "base/label_selector.h"
#include "base/log.h"
#include "base/strategic_merge_patch.h"
#include "base/uuid.h"
#include "base/yaml_codec.h"
#include "storage/store.h"

namespace skiff {

namespace json = boost::json;
using api::ResourceInfo;

namespace {

constexpr auto kFreshnessTimeout = std::chrono::seconds(5);
constexpr size_t kMaxPendingWatchBytes = 32u << 20;
constexpr int kMaxUpdateRetries = 16;
// Where CustomResourceDefinitions are stored; a change there wakes the registrar.
constexpr std::string_view kDefinitionsPrefix = "/registry/customresourcedefinitions/";

enum class FieldValidation { kIgnore, kWarn, kStrict };

std::string QualifiedResource(const ResourceInfo& r) {
  return r.group().empty() ? r.plural() : r.plural() + "." + r.group();
}

std::string QualifiedKind(const ResourceInfo& r) {
  return r.group().empty() ? r.kind() : r.kind() + "." + r.group();
}

Status NotFound(const ResourceInfo& r, const std::string& name) {
  Status s(StatusCode::kNotFound, QualifiedResource(r) + " \"" + name + "\" not found");
  s.SetDetails(r.group(), r.plural(), name);
  return s;
}

Status ConflictModified(const ResourceInfo& r, const std::string& name) {
  Status s(StatusCode::kConflict,
           "Operation cannot be fulfilled on " + QualifiedResource(r) + " \"" + name +
               "\": the object has been modified; please apply your changes to the latest "
               "version and try again");
  s.SetDetails(r.group(), r.plural(), name);
  return s;
}

Status BadRequest(std::string message) {
  return Status(StatusCode::kBadRequest, std::move(message));
}

std::string CacheKey(const ResourceInfo& r, const std::string& ns, const std::string& name) {
  return r.namespaced() ? ns + "/" + name : name;
}

json::object* MetaOf(json::object& obj) {
  json::value& m = obj["metadata"];
  if (!m.is_object()) m = json::object();
  return &m.as_object();
}

const json::object* MetaOf(const json::object& obj) {
  auto* m = obj.if_contains("metadata");
  return m && m->is_object() ? &m->as_object() : nullptr;
}

std::string StringAt(const json::object* o, std::string_view key) {
  if (!o) return {};
  auto* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t ParseRevision(std::string_view s, bool* ok) {
  *ok = false;
  if (s.empty()) return 0;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
    if (v > (int64_t{1} << 62)) return 0;
  }
  *ok = true;
  return v;
}

std::string SerializeWithRevision(json::object obj, int64_t revision) {
  (*MetaOf(obj))["resourceVersion"] = std::to_string(revision);
  return json::serialize(obj);
}

// A stored object as the client asked for it: in the version of `r`.
std::string SerializeAs(const ResourceInfo& r, json::object obj, int64_t revision) {
  api::ConvertFromStorage(r, obj);
  return SerializeWithRevision(std::move(obj), revision);
}

// The serialized form of a cached (storage-version) object in the version of `r`.
std::string CachedJsonAs(const ResourceInfo& r, const CachedObject& obj) {
  if (r.IsStorage() || !obj.object || !obj.object->is_object()) return obj.json;
  json::object converted = obj.object->as_object();
  api::ConvertFromStorage(r, converted);
  return json::serialize(converted);
}

// What is written to the store: the object without its resourceVersion.
std::string StoredForm(json::object obj) {
  MetaOf(obj)->erase("resourceVersion");
  return json::serialize(obj);
}

bool IsDryRun(const HttpRequest& req) {
  for (const auto& [k, v] : req.query) {
    if (k == "dryRun" && v == "All") return true;
  }
  return false;
}

Result<FieldValidation> FieldValidationOf(const HttpRequest& req) {
  auto v = req.Query("fieldValidation");
  if (!v || v->empty() || *v == "Warn") return FieldValidation::kWarn;
  if (*v == "Strict") return FieldValidation::kStrict;
  if (*v == "Ignore") return FieldValidation::kIgnore;
  return Err(StatusCode::kBadRequest, "fieldValidation parameter unsupported: " + std::string(*v) +
                                          ". Supported values: Ignore, Warn, Strict");
}

std::string WarningHeader(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return "299 - \"" + escaped + "\"";
}

// Builds an Invalid (422) Status from field causes, worded as Kubernetes words it. The
// causes' paths are the storage version's; they are reported in `r`'s version.
Status InvalidStatus(const ResourceInfo& r, const std::string& name,
                     std::vector<StatusCause> causes) {
  for (auto& c : causes) c.field = api::FieldPathInVersion(r, c.field);
  std::string msg = QualifiedKind(r) + " \"" + name + "\" is invalid: ";
  if (causes.size() == 1) {
    msg += causes[0].field.empty() ? causes[0].message : causes[0].field + ": " + causes[0].message;
  } else {
    msg += "[";
    for (size_t i = 0; i < causes.size(); ++i) {
      if (i) msg += ", ";
      msg +=
          causes[i].field.empty() ? causes[i].message : causes[i].field + ": " + causes[i].message;
    }
    msg += "]";
  }
  Status s(StatusCode::kInvalid, msg);
  s.SetDetails(r.group(), r.kind(), name);
  for (const auto& c : causes) s.AddCause(c);
  return s;
}

std::map<std::string, std::string> LabelsOf(const json::value& obj) {
  std::map<std::string, std::string> out;
  if (auto* o = obj.if_object()) {
    if (auto* m = o->if_contains("metadata"); m && m->is_object()) {
      if (auto* l = m->as_object().if_contains("labels"); l && l->is_object()) {
        for (const auto& kv : l->as_object()) {
          if (kv.value().is_string()) out.emplace(kv.key(), kv.value().as_string());
        }
      }
    }
  }
  return out;
}

}  // namespace

struct ResourceHandler::Ctx {
  const HttpRequest& req;
  const RequestInfo& info;
  const ResourceInfo& r;
  Negotiated out;
  bool dry_run = false;
  FieldValidation validation = FieldValidation::kWarn;
  std::vector<std::string> warnings;

  HttpResponse Finish(HttpResponse resp) {
    for (const auto& w : warnings) resp.headers.emplace_back("Warning", WarningHeader(w));
    return resp;
  }
};

struct ResourceHandler::WatchSession {
  std::shared_ptr<ResponseStream> stream;
  std::shared_ptr<CacheWatcher> watcher;
  WatchCache* cache = nullptr;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point next_bookmark;
  bool bookmarks = false;
};

ResourceHandler::ResourceHandler(const ApiServerOptions& options, api::Catalogue& catalogue,
                                 Store& store, Store* events_store,
                                 const ServiceAccountTokenIssuer* tokens)
    : options_(options),
      catalogue_(catalogue),
      store_(store),
      events_store_(events_store),
      tokens_(tokens) {}

ResourceHandler::~ResourceHandler() { Stop(); }

namespace {
constexpr std::string_view kEventsPrefix = "/registry/events/";
}  // namespace

Store& ResourceHandler::StoreFor(const ResourceInfo& r) {
  if (events_store_ && r.key_prefix == kEventsPrefix) return *events_store_;
  return store_;
}

std::vector<Store*> ResourceHandler::stores() const {
  std::vector<Store*> out{&store_};
  if (events_store_) out.push_back(events_store_);
  return out;
}

Status ResourceHandler::Start() {
  auto main_feed = std::make_unique<Feed>();
  main_feed->store = &store_;
  main_feed->prefix = "/registry/";
  std::unique_ptr<Feed> events_feed;
  if (events_store_) {
    events_feed = std::make_unique<Feed>();
    events_feed->store = events_store_;
    // The whole of /registry/, not just the events: every write under it moves the store's
    // revision, and the events cache must learn that it is fresh up to that revision too
    // (e.g. when both flags name the same cluster).
    events_feed->prefix = "/registry/";
  }
  std::unique_lock caches_lock(caches_mu_);
  for (const api::ResourceInfo* r : catalogue_.resources()) {
    // Resources with a create-only verb set (reviews) have nothing to store.
    const auto& verbs = r->decl->verbs;
    if (std::find(verbs.begin(), verbs.end(), "list") == verbs.end()) continue;
    // Every version of a resource is served from the one cache of its storage version.
    if (!r->IsStorage()) continue;
    WatchCache* shared = nullptr;
    for (auto& [other, cache] : caches_) {
      if (other->key_prefix == r->key_prefix) shared = cache.get();
    }
    if (shared) continue;
    auto cache = std::make_unique<WatchCache>(StoreFor(*r), r->key_prefix);
    Feed& feed = events_feed && r->key_prefix == kEventsPrefix ? *events_feed : *main_feed;
    feed.caches.emplace_back(r->key_prefix, cache.get());
    caches_.emplace(r, std::move(cache));
  }
  feeds_.push_back(std::move(main_feed));
  if (events_feed) feeds_.push_back(std::move(events_feed));
  caches_lock.unlock();
  for (auto& feed : feeds_) {
    Status st = Follow(*feed);
    if (!st.ok()) return st;
  }
  const ResourceInfo* svc = catalogue_.Find("", "v1", "services");
  services_ = std::make_unique<ServiceAllocator>(options_, store_, svc ? CacheFor(*svc) : nullptr);
  Status st = services_->Init();
  if (!st.ok()) return st;
  // Custom resources of stored definitions are served before the server is ready.
  SyncCustomResources();
  crd_thread_ = std::thread([this] { DefinitionLoop(); });
  return Status::Ok();
}

Status ResourceHandler::Follow(Feed& feed) {
  // The feed's caches do not change while it is re-established (EnsureCache waits).
  std::shared_lock caches_lock(caches_mu_);
  std::lock_guard lock(feed.mu);
  feed.watch.reset();
  int64_t from = INT64_MAX;
  for (auto& [prefix, cache] : feed.caches) {
    Status st = cache->Load();
    if (!st.ok()) return st;
    from = std::min(from, cache->revision());
  }
  if (feed.caches.empty()) {
    auto current = feed.store->CurrentRevision();
    if (!current) return current.error();
    from = *current;
  }
  // Events at or below a cache's loaded revision are skipped by the cache itself.
  Feed* f = &feed;
  auto watch = feed.store->Watch(
      feed.prefix, from, [this, f](WatchBatch&& batch) { OnStoreBatch(*f, std::move(batch)); });
  if (!watch) return watch.error();
  feed.watch = std::move(*watch);
  feed.lost = false;
  return Status::Ok();
}

void ResourceHandler::OnStoreBatch(Feed& feed, WatchBatch&& batch) {
  std::shared_lock caches_lock(caches_mu_);
  if (!batch.error.ok()) {
    // The store can no longer be followed from where the caches are (typically: the
    // revision they need was compacted while the store was unreachable). End every
    // watcher now; Tick re-lists the caches and watches again.
    log::Warn("apiserver", "store watch on " + feed.prefix + " ended: " + batch.error.ToString() +
                               "; re-listing");
    feed.lost = true;
    for (auto& [prefix, cache] : feed.caches) cache->FailWatchers();
    return;
  }
  int64_t through = 0;
  std::map<WatchCache*, std::vector<const WatchEvent*>> routed;
  bool definitions_changed = false;
  for (const auto& ev : batch.events) {
    through = std::max(through, ev.kv.mod_revision);
    if (ev.kv.key.starts_with(kDefinitionsPrefix)) definitions_changed = true;
    for (auto& [prefix, cache] : feed.caches) {
      if (ev.kv.key.starts_with(prefix)) {
        routed[cache].push_back(&ev);
        break;
      }
    }
  }
  static const std::vector<const WatchEvent*> kNone;
  for (auto& [prefix, cache] : feed.caches) {
    auto it = routed.find(cache);
    cache->ApplyEvents(it == routed.end() ? kNone : it->second, through);
  }
  if (definitions_changed) {
    std::lock_guard lock(crd_mu_);
    crd_dirty_ = true;
    crd_cv_.notify_all();
  }
}

Status ResourceHandler::Health() {
  for (auto& feed : feeds_) {
    if (feed->lost) {
      return Status(StatusCode::kServiceUnavailable,
                    "the watch caches of " + feed->prefix + " are re-synchronising");
    }
    auto current = feed->store->CurrentRevision();
    if (!current) return current.error();
  }
  return Status::Ok();
}

void ResourceHandler::Stop() {
  {
    std::lock_guard lock(crd_mu_);
    crd_stopping_ = true;
  }
  crd_cv_.notify_all();
  if (crd_thread_.joinable()) crd_thread_.join();
  for (auto& feed : feeds_) {
    std::unique_ptr<StoreWatch> w;
    {
      std::lock_guard lock(feed->mu);
      w = std::move(feed->watch);
    }
    w.reset();
  }
  std::vector<std::shared_ptr<WatchSession>> sessions;
  {
    std::lock_guard lock(watches_mu_);
    sessions.swap(watches_);
  }
  for (auto& s : sessions) {
    s->watcher.reset();
    s->stream->Close();
  }
  std::shared_lock caches_lock(caches_mu_);
  for (auto& [r, cache] : caches_) cache->Stop();
}

WatchCache* ResourceHandler::CacheFor(const ResourceInfo& r) {
  std::shared_lock caches_lock(caches_mu_);
  for (auto& [other, cache] : caches_) {
    if (other->key_prefix == r.key_prefix) return cache.get();
  }
  return nullptr;
}

HttpResponse ResourceHandler::Handle(const HttpRequest& req, const RequestInfo& info) {
  const ResourceInfo* r = catalogue_.Find(info.group, info.version, info.resource);
  if (!r) {
    return StatusResponse(
        Status(StatusCode::kNotFound, "the server could not find the requested resource"));
  }
  if (!info.subresource.empty() && !r->HasSubresource(info.subresource)) {
    return StatusResponse(
        Status(StatusCode::kNotFound, "the server could not find the requested resource"));
  }
  const auto& verbs = r->decl->verbs;
  std::string verb = info.verb;
  if (std::find(verbs.begin(), verbs.end(), verb) == verbs.end() && info.subresource.empty()) {
    Status s(StatusCode::kMethodNotAllowed,
             "the server does not allow this method on the requested resource");
    return StatusResponse(s);
  }
  if (r->namespaced() && info.ns.empty() && !info.name.empty()) {
    return StatusResponse(
        Status(StatusCode::kNotFound, "the server could not find the requested resource"));
  }
  auto validation = FieldValidationOf(req);
  if (!validation) return StatusResponse(validation.error());
  Ctx c{req, info, *r, NegotiateOutput(req.Header("Accept")), IsDryRun(req), *validation, {}};
  if (req.non_blocking && verb != "get" && verb != "list" &&
      !(verb == "create" && info.subresource.empty() && StoreFor(*r).CreateIsQueued())) {
    // Only reads and creates the store queues without waiting are answered on the
    // connection's thread (Create hands over the kinds whose admission must wait).
    return WouldBlockResponse();
  }
  if (info.subresource == "binding" || info.subresource == "eviction") {
    if (verb != "create") {
      return StatusResponse(
          Status(StatusCode::kMethodNotAllowed,
                 "the server does not allow this method on the requested resource"));
    }
    return c.Finish(info.subresource == "binding" ? Bind(c) : Evict(c));
  }
  if (info.subresource == "token") {
    if (verb != "create") {
      return StatusResponse(
          Status(StatusCode::kMethodNotAllowed,
                 "the server does not allow this method on the requested resource"));
    }
    return c.Finish(RequestToken(c));
  }
  if (info.subresource == "finalize" && verb != "update") {
    return StatusResponse(
        Status(StatusCode::kMethodNotAllowed,
               "the server does not allow this method on the requested resource"));
  }
  if (verb == "get") return c.Finish(Get(c));
  if (verb == "list") return c.Finish(List(c));
  if (verb == "watch") return Watch(c);
  if (verb == "create") {
    if (!info.name.empty() && info.subresource.empty()) {
      return StatusResponse(
          Status(StatusCode::kMethodNotAllowed,
                 "the server does not allow this method on the requested resource"));
    }
    return c.Finish(Create(c));
  }
  if (verb == "update") return c.Finish(Update(c));
  if (verb == "patch") return c.Finish(Patch(c));
  if (verb == "delete") return c.Finish(Delete(c));
  if (verb == "deletecollection") return c.Finish(DeleteCollection(c));
  return StatusResponse(Status(StatusCode::kMethodNotAllowed,
                               "the server does not allow this method on the requested resource"));
}

Result<json::object> ResourceHandler::Load(const ResourceInfo& r, const std::string& key,
                                           int64_t* revision) {
  auto kv = StoreFor(r).Get(r.key_prefix + key);
  if (!kv) return std::unexpected(kv.error());
  json::error_code ec;
  json::value v = json::parse(kv->value, ec);
  if (ec || !v.is_object()) return Err(StatusCode::kInternal, "stored object is corrupt: " + key);
  *revision = kv->mod_revision;
  (*MetaOf(v.as_object()))["resourceVersion"] = std::to_string(kv->mod_revision);
  return std::move(v.as_object());
}

// ---------------------------------------------------------------------------------------
// Reads

namespace {

json::object ScaleFor(const ResourceInfo& r, const json::object& obj) {
  json::object scale;
  scale["kind"] = "Scale";
  scale["apiVersion"] = "autoscaling/v1";
  json::object meta;
  const json::object* m = MetaOf(obj);
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (m) {
      if (auto* v = m->if_contains(k)) meta[k] = *v;
    }
  }
  scale["metadata"] = std::move(meta);
  int64_t spec_replicas = 0, status_replicas = 0;
  std::string selector;
  if (r.custom) {
    // A custom resource's scale lives where its definition says.
    json::value whole(obj);
    auto int_at = [&](const std::string& path) -> int64_t {
      const json::value* v = path.empty() ? nullptr : api::EvaluateJsonPath(whole, path);
      return v && v->is_int64() ? v->as_int64() : 0;
    };
    spec_replicas = int_at(r.scale_spec_replicas_path);
    status_replicas = int_at(r.scale_status_replicas_path);
    if (!r.scale_label_selector_path.empty()) {
      const json::value* v = api::EvaluateJsonPath(whole, r.scale_label_selector_path);
      if (v && v->is_string()) selector = std::string(v->as_string());
    }
  } else if (auto* spec = obj.if_contains("spec"); spec && spec->is_object()) {
    if (auto* rep = spec->as_object().if_contains("replicas"); rep && rep->is_int64()) {
      spec_replicas = rep->as_int64();
    }
    if (auto* sel = spec->as_object().if_contains("selector"); sel && sel->is_object()) {
      if (r.group().empty() && r.kind() == "ReplicationController") {
        // A replication controller's selector is a plain label map.
        std::map<std::string, std::string> labels;
        for (const auto& kv : sel->as_object()) {
          if (kv.value().is_string()) labels.emplace(kv.key(), kv.value().as_string());
        }
        auto ls = LabelSelector::FromMap(labels);
        if (ls) selector = ls->ToString();
      } else {
        auto ls = LabelSelector::FromJson(*sel);
        if (ls) selector = ls->ToString();
      }
    }
  }
  if (auto* status = obj.if_contains("status"); !r.custom && status && status->is_object()) {
    if (auto* rep = status->as_object().if_contains("replicas"); rep && rep->is_int64()) {
      status_replicas = rep->as_int64();
    }
  }
  scale["spec"] = json::object{{"replicas", spec_replicas}};
  json::object st{{"replicas", status_replicas}};
  if (!selector.empty()) st["selector"] = selector;
  scale["status"] = std::move(st);
  return scale;
}

// Writes the desired replicas of a scale update into the object.
void SetScaleReplicas(const ResourceInfo& r, json::object& obj, int64_t replicas) {
  if (r.custom) {
    (void)api::SetJsonPath(obj, r.scale_spec_replicas_path, replicas);
    return;
  }
  json::value& spec = obj["spec"];
  if (!spec.is_object()) spec = json::object();
  spec.as_object()["replicas"] = replicas;
}

}  // namespace

std::optional<HttpResponse> ResourceHandler::CatchUp(const HttpRequest& req, Store& store,
                                                     WatchCache& cache) {
  if (req.non_blocking && !store.CurrentRevisionIsLocal()) return WouldBlockResponse();
  auto current = store.CurrentRevision();
  if (!current) return StatusResponse(current.error());
  if (req.non_blocking) {
    if (!cache.IsFresh(*current)) return WouldBlockResponse();
  } else if (!cache.WaitUntilFresh(*current, kFreshnessTimeout)) {
    return StatusResponse(
        Status(StatusCode::kTimeout, "Timeout: the watch cache did not catch up"));
  }
  return std::nullopt;
}

HttpResponse ResourceHandler::Get(Ctx& c) {
  std::string key = CacheKey(c.r, c.info.ns, c.info.name);
  WatchCache* cache = CacheFor(c.r);
  CachedObjectPtr obj;
  auto rv_param = c.req.Query("resourceVersion");
  if (cache) {
    if (!rv_param || rv_param->empty()) {
      if (auto answer = CatchUp(c.req, StoreFor(c.r), *cache)) return std::move(*answer);
    }
    obj = cache->Get(key, nullptr);
  }
  if (!obj) return StatusResponse(NotFound(c.r, c.info.name));
  if (c.info.subresource == "scale") {
    return ObjectResponse(200, json::value(ScaleFor(c.r, obj->object->as_object())), c.out.format);
  }
  if (c.out.format == OutputFormat::kTable) {
    return ObjectResponse(200, json::value(BuildTable(c.r, {obj}, c.req, obj->revision, "")),
                          OutputFormat::kJson);
  }
  return ObjectResponse(200, CachedJsonAs(c.r, *obj), c.out.format);
}

namespace {

struct ListFilter {
  ObjectFilter filter;
};

struct ContinueToken {
  int64_t revision = 0;
  std::string start;  // last key returned
};

std::string EncodeContinue(int64_t rev, const std::string& last_key) {
  json::object o{{"v", "meta.k8s.io/v1"}, {"rv", rev}, {"start", last_key + std::string(1, '\0')}};
  return Base64UrlEncode(json::serialize(o));
}

Result<ContinueToken> DecodeContinue(std::string_view token) {
  auto raw = Base64Decode(token);
  Status bad(StatusCode::kBadRequest, "continue key is not valid: illegal base64 data");
  if (!raw) return Err(bad);
  json::error_code ec;
  json::value v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return Err(BadRequest("continue key is not valid: invalid JSON"));
  auto& o = v.as_object();
  auto* ver = o.if_contains("v");
  auto* rv = o.if_contains("rv");
  auto* start = o.if_contains("start");
  if (!ver || !ver->is_string() || ver->as_string() != "meta.k8s.io/v1") {
    return Err(
        BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version "
                   "meta.k8s.io/v1)"));
  }
  if (!rv || !rv->is_int64() || rv->as_int64() <= 0 || !start || !start->is_string()) {
    return Err(
        BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version "
                   "meta.k8s.io/v1)"));
  }
  ContinueToken t;
  t.revision = rv->as_int64();
  t.start = std::string(start->as_string());
  if (!t.start.empty() && t.start.back() == '\0') t.start.pop_back();
  if (t.start.find("..") != std::string::npos)
    return Err(BadRequest("continue key is not valid: invalid start key"));
  return t;
}

}  // namespace

Result<ObjectFilter> ResourceHandler::MakeFilter(const Ctx& c) {
  ObjectFilter f;
  if (c.r.namespaced()) f.ns = c.info.ns;
  std::optional<LabelSelector> labels;
  std::optional<FieldSelector> fields;
  if (auto ls = c.req.Query("labelSelector"); ls && !ls->empty()) {
    auto parsed = LabelSelector::Parse(*ls);
    if (!parsed) return std::unexpected(parsed.error());
    if (!parsed->Empty()) labels = std::move(*parsed);
  }
  if (auto fs = c.req.Query("fieldSelector"); fs && !fs->empty()) {
    auto parsed = FieldSelector::Parse(*fs);
    if (!parsed) return std::unexpected(parsed.error());
    json::object probe;
    for (const auto& req : parsed->requirements()) {
      if (req.field == "metadata.name" || req.field == "metadata.namespace") continue;
      if (!c.r.storage->strategy->FieldValue(probe, req.field).has_value()) {
        return Err(BadRequest("field label not supported: " + req.field));
      }
    }
    if (!parsed->Empty()) fields = std::move(*parsed);
  }
  if (labels || fields) {
    // Filters run on cached objects, which are in the storage version.
    const api::KindStrategy* strategy = c.r.storage->strategy;
    f.predicate = [labels = std::move(labels), fields = std::move(fields),
                   strategy](const json::value& v) {
      if (labels && !labels->Matches(LabelsOf(v))) return false;
      if (fields) {
        const json::object* o = v.if_object();
        if (!o) return false;
        const json::object* meta = MetaOf(*o);
        auto lookup = [&](std::string_view field) -> std::optional<std::string> {
          if (field == "metadata.name") return StringAt(meta, "name");
          if (field == "metadata.namespace") return StringAt(meta, "namespace");
          return strategy->FieldValue(*o, field);
        };
        if (!fields->Matches(lookup)) return false;
      }
      return true;
    };
  }
  return f;
}

HttpResponse ResourceHandler::List(Ctx& c) {
  WatchCache* cache = CacheFor(c.r);
  if (!cache) return StatusResponse(Status(StatusCode::kMethodNotAllowed, "list is not supported"));
  auto filter = MakeFilter(c);
  if (!filter) return StatusResponse(filter.error());

  int64_t limit = 0;
  if (auto l = c.req.Query("limit"); l && !l->empty()) {
    bool ok = false;
    limit = ParseRevision(*l, &ok);
    if (!ok) return StatusResponse(BadRequest("invalid limit: " + std::string(*l)));
  }
  std::string_view rv_param = c.req.Query("resourceVersion").value_or("");
  std::string_view rv_match = c.req.Query("resourceVersionMatch").value_or("");
  std::string_view cont = c.req.Query("continue").value_or("");
  if (!rv_match.empty() && rv_match != "Exact" && rv_match != "NotOlderThan") {
    return StatusResponse(BadRequest("resourceVersionMatch: Unsupported value: \"" +
                                     std::string(rv_match) +
                                     "\": supported values: \"Exact\", \"NotOlderThan\""));
  }
  if (!rv_match.empty() && rv_param.empty()) {
    return StatusResponse(
        Status(StatusCode::kInvalid,
               "resourceVersionMatch is forbidden unless resourceVersion is provided"));
  }
  if (!cont.empty() && !rv_param.empty() && rv_param != "0") {
    return StatusResponse(Status(StatusCode::kInvalid,
                                 "specifying resource version is not allowed when using continue"));
  }

  std::vector<CachedObjectPtr> items;
  int64_t revision = 0;
  bool more = false;
  int64_t remaining = -1;
  int64_t from_store_rev = 0;
  std::string start_after;
  if (!cont.empty()) {
    auto token = DecodeContinue(cont);
    if (!token) return StatusResponse(token.error());
    from_store_rev = token->revision;
    start_after = token->start;
  } else if (rv_match == "Exact") {
    bool ok = false;
    from_store_rev = ParseRevision(rv_param, &ok);
    if (!ok)
      return StatusResponse(BadRequest("invalid resource version: " + std::string(rv_param)));
  } else if (rv_param.empty()) {
    if (auto answer = CatchUp(c.req, StoreFor(c.r), *cache)) return std::move(*answer);
  } else if (rv_param != "0") {
    bool ok = false;
    int64_t want = ParseRevision(rv_param, &ok);
    if (!ok)
      return StatusResponse(BadRequest("invalid resource version: " + std::string(rv_param)));
    if (c.req.non_blocking && !cache->IsFresh(want)) return WouldBlockResponse();
    if (!cache->WaitUntilFresh(want, std::chrono::seconds(3))) {
      Status s(StatusCode::kTimeout, "Too large resource version: " + std::string(rv_param) +
                                         ", current: " + std::to_string(cache->revision()));
      s.SetReason("Timeout").SetRetryAfter(1);
      return StatusResponse(s);
    }
  }

  bool from_cache = false;
  if (from_store_rev > 0) {
    // A consistent page at an older revision: rebuilt from the cache's recent events
    // when they reach back that far, else read from the store's history.
    if (c.req.non_blocking && !cache->IsFresh(from_store_rev)) return WouldBlockResponse();
    cache->WaitUntilFresh(from_store_rev, kFreshnessTimeout);
    from_cache = cache->ListAt(from_store_rev, *filter, start_after, limit, &items, &more);
    if (!from_cache && c.req.non_blocking) return WouldBlockResponse();
  }
  if (from_store_rev > 0 && !from_cache) {
    std::string prefix = c.r.key_prefix;
    if (c.r.namespaced() && !c.info.ns.empty()) prefix += c.info.ns + "/";
    std::string after = start_after.empty() ? std::string() : c.r.key_prefix + start_after;
    int64_t batch = limit > 0 ? std::max<int64_t>(limit * 2, 100) : 0;
    while (true) {
      auto range = StoreFor(c.r).Range(prefix, after, from_store_rev, batch);
      if (!range) {
        Status err = range.error();
        if (err.code() == StatusCode::kGone) {
          err = Status(StatusCode::kGone,
                       "The provided continue parameter is too old to display a consistent list "
                       "result. You can start a new list without the continue parameter.");
        }
        return StatusResponse(err);
      }
      for (auto& kv : range->kvs) {
        after = kv.key;
        auto obj =
            MakeCachedObject(kv.key.substr(c.r.key_prefix.size()), kv.value, kv.mod_revision);
        if (!obj || !filter->Matches(**obj)) continue;
        if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) {
          more = true;
          break;
        }
        items.push_back(std::move(*obj));
      }
      if (more || !range->more) break;
    }
    revision = from_store_rev;
  } else if (from_store_rev > 0) {
    revision = from_store_rev;
  } else {
    items = cache->List(*filter, "", limit, &revision, &more, &remaining);
  }

  std::string continue_token;
  if (more && !items.empty()) continue_token = EncodeContinue(revision, items.back()->key);
  if (!more) remaining = -1;

  if (c.out.format == OutputFormat::kTable) {
    return ObjectResponse(200, json::value(BuildTable(c.r, items, c.req, revision, continue_token)),
                          OutputFormat::kJson);
  }
  std::string body;
  size_t total = 256;
  std::vector<std::string> converted;
  if (!c.r.IsStorage()) {
    converted.reserve(items.size());
    for (const auto& it : items) converted.push_back(CachedJsonAs(c.r, *it));
  }
  for (const auto& it : items) total += it->json.size() + 1;
  body.reserve(total);
  body += "{\"kind\":\"";
  body += c.r.list_kind;
  body += "\",\"apiVersion\":\"";
  body += c.r.group_version;
  body += "\",\"metadata\":{\"resourceVersion\":\"";
  body += std::to_string(revision);
  body += "\"";
  if (!continue_token.empty()) {
    body += ",\"continue\":\"" + continue_token + "\"";
    if (remaining > 0) body += ",\"remainingItemCount\":" + std::to_string(remaining);
  }
  body += "},\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) body += ',';
    body += c.r.IsStorage() ? items[i]->json : converted[i];
  }
  body += "]}";
  return ObjectResponse(200, std::move(body), c.out.format);
}

json::object ResourceHandler::BuildTable(const ResourceInfo& r,
                                         const std::vector<CachedObjectPtr>& items,
                                         const HttpRequest& req, int64_t revision,
                                         const std::string& continue_token) {
  json::object table;
  table["kind"] = "Table";
  table["apiVersion"] = "meta.k8s.io/v1";
  json::object meta{{"resourceVersion", std::to_string(revision)}};
  if (!continue_token.empty()) meta["continue"] = continue_token;
  table["metadata"] = std::move(meta);
  json::array cols;
  // Tables come from the stored objects, as Kubernetes prints from its internal version.
  const api::KindStrategy* strategy = r.storage->strategy;
  for (const auto& col : strategy->Columns()) {
    cols.push_back(json::object{{"name", col.name},
                                {"type", col.type},
                                {"format", col.format},
                                {"description", col.description},
                                {"priority", col.priority}});
  }
  table["columnDefinitions"] = std::move(cols);
  std::string_view include = req.Query("includeObject").value_or("Metadata");
  api::StrategyContext ctx{std::chrono::system_clock::now()};
  json::array rows;
  for (const auto& item : items) {
    const json::object* obj = item->object ? item->object->if_object() : nullptr;
    if (!obj) continue;
    json::array cells;
    strategy->Row(*obj, ctx, cells);
    json::object row{{"cells", std::move(cells)}};
    if (include == "Object") {
      json::object full = *obj;
      api::ConvertFromStorage(r, full);
      row["object"] = std::move(full);
    } else if (include != "None") {
      json::object partial{{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}};
      if (auto* m = obj->if_contains("metadata")) partial["metadata"] = *m;
      row["object"] = std::move(partial);
    }
    rows.push_back(std::move(row));
  }
  table["rows"] = std::move(rows);
  return table;
}

// ---------------------------------------------------------------------------------------
// Watch

namespace {

const char* EventTypeName(WatchEventKind k) {
  switch (k) {
    case WatchEventKind::kAdded: return "ADDED";
    case WatchEventKind::kModified: return "MODIFIED";
    case WatchEventKind::kDeleted: return "DELETED";
    case WatchEventKind::kBookmark: return "BOOKMARK";
    case WatchEventKind::kError: return "ERROR";
  }
  return "ERROR";
}

std::string ErrorEvent(const Status& status) {
  return "{\"type\":\"ERROR\",\"object\":" + StatusJson(status) + "}\n";
}

}  // namespace

HttpResponse ResourceHandler::Watch(Ctx& c) {
  WatchCache* cache = CacheFor(c.r);
  if (!cache)
    return StatusResponse(Status(StatusCode::kMethodNotAllowed, "watch is not supported"));
  auto filter = MakeFilter(c);
  if (!filter) return StatusResponse(filter.error());
  std::string_view rv_param = c.req.Query("resourceVersion").value_or("");
  int64_t from = 0;
  if (!rv_param.empty() && rv_param != "0") {
    bool ok = false;
    from = ParseRevision(rv_param, &ok);
    if (!ok)
      return StatusResponse(BadRequest("invalid resource version: " + std::string(rv_param)));
  }
  std::string_view send_initial = c.req.Query("sendInitialEvents").value_or("");
  bool initial_events = from == 0;
  bool initial_end_bookmark = false;
  if (send_initial == "true") {
    if (c.req.Query("resourceVersionMatch").value_or("") != "NotOlderThan") {
      return StatusResponse(Status(StatusCode::kInvalid,
                                   "resourceVersionMatch: Forbidden: sendInitialEvents requires "
                                   "setting resourceVersionMatch to NotOlderThan"));
    }
    initial_events = true;
    initial_end_bookmark = true;
    if (from > 0 && !cache->WaitUntilFresh(from, std::chrono::seconds(3))) {
      return StatusResponse(Status(StatusCode::kTimeout, "Too large resource version"));
    }
    from = 0;
  } else if (send_initial == "false") {
    initial_events = false;
  }
  bool bookmarks = c.req.Query("allowWatchBookmarks").value_or("") == "true";
  int timeout = options_.max_watch_seconds;
  if (auto t = c.req.Query("timeoutSeconds"); t && !t->empty()) {
    bool ok = false;
    int64_t v = ParseRevision(*t, &ok);
    if (ok) timeout = static_cast<int>(std::min<int64_t>(v, options_.max_watch_seconds));
  }
  bool as_table = c.out.format == OutputFormat::kTable;
  const ResourceInfo* r = &c.r;
  HttpRequest req_copy;
  req_copy.query = c.req.query;
  auto shared_filter = std::make_shared<ObjectFilter>(std::move(*filter));

  HttpResponse resp;
  resp.status = 200;
  resp.SetHeader("Content-Type", "application/json");
  resp.start_stream = [this, r, cache, from, initial_events, initial_end_bookmark, bookmarks,
                       timeout, as_table, req_copy = std::move(req_copy),
                       shared_filter](std::shared_ptr<ResponseStream> stream) {
    auto session = std::make_shared<WatchSession>();
    session->stream = stream;
    session->cache = cache;
    session->bookmarks = bookmarks;
    session->deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
    session->next_bookmark =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.bookmark_interval_seconds);
    auto end_marker_pending = std::make_shared<bool>(initial_end_bookmark);
    std::weak_ptr<ResponseStream> weak_stream = stream;
    auto sink = [this, r, as_table, weak_stream, end_marker_pending, req_copy](
                    WatchEventKind kind, const CachedObjectPtr& obj, int64_t rev) -> bool {
      auto s = weak_stream.lock();
      if (!s || s->Closed()) return false;
      if (s->PendingBytes() > kMaxPendingWatchBytes) {
        // A client this far behind would only see stale state: end its watch so it re-lists.
        s->Close();
        return false;
      }
      std::string line;
      if (kind == WatchEventKind::kError) {
        line = ErrorEvent(Status(StatusCode::kGone, "the watch can no longer be served; re-list"));
        s->Write(std::move(line));
        s->Close();
        return false;
      }
      if (kind == WatchEventKind::kBookmark) {
        json::object meta{{"resourceVersion", std::to_string(rev)}, {"creationTimestamp", nullptr}};
        if (*end_marker_pending) {
          meta["annotations"] = json::object{{"k8s.io/initial-events-end", "true"}};
          *end_marker_pending = false;
        }
        json::object bm{
            {"kind", r->kind()}, {"apiVersion", r->group_version}, {"metadata", std::move(meta)}};
        line = "{\"type\":\"BOOKMARK\",\"object\":" + json::serialize(bm) + "}\n";
      } else if (as_table) {
        json::object table = BuildTable(*r, {obj}, req_copy, rev, "");
        line = std::string("{\"type\":\"") + EventTypeName(kind) +
               "\",\"object\":" + json::serialize(table) + "}\n";
      } else {
        line.reserve(obj->json.size() + 40);
        line += "{\"type\":\"";
        line += EventTypeName(kind);
        line += "\",\"object\":";
        line += CachedJsonAs(*r, *obj);
        line += "}\n";
      }
      return s->Write(std::move(line));
    };
    auto watcher = cache->Watch(from, initial_events, *shared_filter, sink);
    if (!watcher) {
      stream->Write(ErrorEvent(watcher.error()));
      stream->Close();
      return;
    }
    session->watcher = std::move(*watcher);
    if (initial_end_bookmark) cache->Bookmark(session->watcher);
    {
      std::lock_guard lock(watches_mu_);
      watches_.push_back(session);
    }
    std::weak_ptr<WatchSession> weak_session = session;
    stream->OnClose([this, weak_session] {
      auto s = weak_session.lock();
      if (!s) return;
      std::shared_ptr<CacheWatcher> w;
      {
        std::lock_guard lock(watches_mu_);
        std::erase(watches_, s);
        w = std::move(s->watcher);
      }
      w.reset();
    });
  };
  return resp;
}

void ResourceHandler::Tick() {
  for (auto& feed : feeds_) {
    if (!feed->lost) continue;
    Status st = Follow(*feed);
    if (st.ok()) {
      log::Info("apiserver", "watch caches of " + feed->prefix + " re-synchronised");
    } else {
      log::Warn("apiserver", "re-synchronising " + feed->prefix + " failed: " + st.ToString());
    }
  }
  auto now = std::chrono::steady_clock::now();
  if (services_ && now >= next_allocation_repair_) {
    next_allocation_repair_ = now + std::chrono::minutes(1);
    Status st = services_->Repair();
    if (!st.ok()) log::Warn("apiserver", "repairing service allocations failed: " + st.ToString());
  }
  std::vector<std::shared_ptr<WatchSession>> expired;
  std::vector<std::pair<WatchCache*, std::shared_ptr<CacheWatcher>>> bookmark;
  {
    std::lock_guard lock(watches_mu_);
    for (auto it = watches_.begin(); it != watches_.end();) {
      auto& s = *it;
      if (now >= s->deadline || s->stream->Closed() || !s->watcher || !s->watcher->live()) {
        expired.push_back(s);
        it = watches_.erase(it);
        continue;
      }
      if (s->bookmarks && now >= s->next_bookmark) {
        s->next_bookmark = now + std::chrono::seconds(options_.bookmark_interval_seconds);
        bookmark.emplace_back(s->cache, s->watcher);
      }
      ++it;
    }
  }
  for (auto& [cache, watcher] : bookmark) {
    if (watcher) cache->Bookmark(watcher);
  }
  bookmark.clear();
  for (auto& s : expired) {
    std::shared_ptr<CacheWatcher> w;
    {
      std::lock_guard lock(watches_mu_);
      w = std::move(s->watcher);
    }
    w.reset();
    s->stream->Close();
  }
  FinalizeNamespaces();
  PopulateNamespaces();
}

// ---------------------------------------------------------------------------------------
// Writes

namespace {

// Parses a request body as JSON or YAML (by Content-Type) into one object.
Result<json::value> ParseBody(const HttpRequest& req, const api::SchemaRegistry& registry,
                              const ResourceInfo& r, std::vector<std::string>* duplicates) {
  std::string_view ct = req.Header("Content-Type");
  if (req.body.empty()) return Err(BadRequest("the request body is empty"));
  if (ct.starts_with(api::kKubernetesProtobufMediaType)) {
    // Typed clients (kubectl 1.32+) send built-in kinds as Kubernetes protobuf.
    std::string api_version = r.group_version;
    std::string kind = r.kind();
    return api::DecodeKubernetesProtobuf(req.body, registry, &api_version, &kind);
  }
  if (ct.starts_with("application/yaml") || ct.starts_with("application/apply-patch+yaml")) {
    auto docs = ParseYamlDocuments(req.body);
    if (!docs) return std::unexpected(docs.error());
    if (docs->size() != 1) {
      return Err(BadRequest("the request body must contain exactly one YAML document"));
    }
    return std::move((*docs)[0]);
  }
  auto parsed = ParseJson(req.body, kDefaultJsonMaxDepth, duplicates);
  if (!parsed) return std::unexpected(parsed.error());
  return std::move(*parsed);
}

}  // namespace

Result<json::object> ResourceHandler::DecodeObject(Ctx& c, json::value body,
                                                   const std::vector<std::string>& duplicates) {
  if (!body.is_object()) {
    return Err(BadRequest("Object '" + std::string("Kind") + "' is missing in the request body"));
  }
  json::object& obj = body.as_object();
  std::string api_version = StringAt(&obj, "apiVersion");
  std::string kind = StringAt(&obj, "kind");
  // Status subresources take the parent's kind; scale takes autoscaling/v1 Scale and
  // serviceaccounts/token authentication.k8s.io/v1 TokenRequest.
  std::string want_kind = c.r.kind();
  std::string want_version = c.r.group_version;
  const api::Schema* schema = c.r.decl->schema;
  if (c.info.subresource == "scale") {
    want_kind = "Scale";
    want_version = "autoscaling/v1";
  } else if (c.info.subresource == "token") {
    want_kind = "TokenRequest";
    want_version = "authentication.k8s.io/v1";
    schema = catalogue_.schemas().Find("io.k8s.api.authentication.v1.TokenRequest");
    if (!schema) return Err(StatusCode::kInternal, "no schema for TokenRequest");
  }
  if (!api_version.empty() && api_version != want_version) {
    return Err(BadRequest("the API version in the data (" + api_version +
                          ") does not match the expected API version (" + want_version + ")"));
  }
  if (!kind.empty() && kind != want_kind) {
    return Err(BadRequest("the kind in the data (" + kind + ") does not match the expected kind (" +
                          want_kind + ")"));
  }
  obj["apiVersion"] = want_version;
  obj["kind"] = want_kind;
  if (c.info.subresource == "scale") return std::move(obj);

  api::DecodeReport report;
  api::DecodeAgainstSchema(body, *schema, report);
  std::string_view version_only = want_version;
  if (size_t slash = version_only.find('/'); slash != std::string_view::npos)
    version_only.remove_prefix(slash + 1);
  std::string prefix = want_kind + " in version \"" + std::string(version_only) +
                       "\" cannot be handled as a " + want_kind + ": ";
  // A custom resource's mistyped values are reported by its schema validation, with
  // field paths, as Kubernetes does.
  if (!report.type_errors.empty() && !c.r.custom) {
    return Err(BadRequest(prefix + report.type_errors.front()));
  }
  std::vector<std::string> problems;
  for (const auto& d : duplicates) problems.push_back("duplicate field \"" + d + "\"");
  for (const auto& u : report.unknown_fields) problems.push_back("unknown field \"" + u + "\"");
  if (!problems.empty()) {
    if (c.validation == FieldValidation::kStrict) {
      std::string msg = prefix + "strict decoding error: ";
      for (size_t i = 0; i < problems.size(); ++i) msg += (i ? ", " : "") + problems[i];
      return Err(BadRequest(msg));
    }
    if (c.validation == FieldValidation::kWarn) {
      for (auto& p : problems) c.warnings.push_back(p);
    }
  }
  return std::move(obj);
}

Result<json::object> ResourceHandler::DecodeCreateBody(const HttpRequest& req,
                                                       const RequestInfo& info,
                                                       std::vector<std::string>* warnings) {
  const ResourceInfo* r = catalogue_.Find(info.group, info.version, info.resource);
  if (!r) return Err(StatusCode::kNotFound, "the server could not find the requested resource");
  auto validation = FieldValidationOf(req);
  if (!validation) return std::unexpected(validation.error());
  Ctx c{req, info, *r, NegotiateOutput(req.Header("Accept")), IsDryRun(req), *validation, {}};
  std::vector<std::string> duplicates;
  auto body = ParseBody(req, catalogue_.schemas(), *r, &duplicates);
  if (!body) return std::unexpected(body.error());
  auto obj = DecodeObject(c, std::move(*body), duplicates);
  if (warnings) *warnings = c.warnings;
  return obj;
}

Status ResourceHandler::CheckNamespaceWritable(const std::string& ns, bool non_blocking,
                                               bool* would_block) {
  const ResourceInfo* nsr = catalogue_.Find("", "v1", "namespaces");
  WatchCache* cache = nsr ? CacheFor(*nsr) : nullptr;
  if (!cache) return Status::Ok();
  // Like Kubernetes' NamespaceLifecycle admission, trust the cache when it knows a live
  // namespace (a namespace's removal always starts with a deletionTimestamp), and wait
  // for the cache to catch up only when it does not know the namespace yet.
  CachedObjectPtr obj = cache->Get(ns, nullptr);
  if (!obj && non_blocking) {
    *would_block = true;
    return Status::Ok();
  }
  if (!obj) {
    // A store that cannot tell its revision cannot take the write either: fail now rather
    // than spend a second deadline on the write.
    auto current = store_.CurrentRevision();
    if (!current) return current.error();
    cache->WaitUntilFresh(*current, kFreshnessTimeout);
    obj = cache->Get(ns, nullptr);
  }
  if (!obj) return NotFound(*nsr, ns);
  const json::object* o = obj->object->if_object();
  const json::object* meta = o ? MetaOf(*o) : nullptr;
  if (meta && meta->contains("deletionTimestamp")) {
    Status s(StatusCode::kForbidden,
             "unable to create new content in namespace " + ns + " because it is being terminated");
    s.SetDetails("", "namespaces", ns);
    s.AddCause(
        {"NamespaceTerminating", "namespace " + ns + " is being terminated", "metadata.namespace"});
    return s;
  }
  return Status::Ok();
}

namespace {

// A decoded object of `r`'s version, defaulted in that version as Kubernetes defaults the
// version a client sent, then converted to the storage version.
json::object ToStorage(const ResourceInfo& r, json::object obj) {
  if (r.IsStorage()) return obj;
  json::value as_value(std::move(obj));
  api::ApplySchemaDefaults(as_value, *r.decl->schema);
  obj = std::move(as_value.as_object());
  api::ConvertToStorage(r, obj);
  return obj;
}

}  // namespace

HttpResponse ResourceHandler::Create(Ctx& c) {
  if (c.req.non_blocking) {
    // Admission that allocates (Service addresses) or reads other objects consistently
    // (a Pod's PriorityClass, the single default PriorityClass, a custom resource's
    // definition) runs on a worker.
    const bool core = c.r.group().empty();
    if ((core && (c.r.plural() == "services" || c.r.plural() == "pods")) ||
        (c.r.group() == "scheduling.k8s.io" && c.r.plural() == "priorityclasses") || c.r.custom) {
      return WouldBlockResponse();
    }
  }
  if (c.r.custom && DefinitionTerminating(c.r)) {
    return StatusResponse(
        Status(StatusCode::kMethodNotAllowed,
               "create not allowed while custom resource definition is terminating"));
  }
  std::vector<std::string> duplicates;
  auto body = ParseBody(c.req, catalogue_.schemas(), c.r, &duplicates);
  if (!body) return StatusResponse(body.error());
  auto decoded = DecodeObject(c, std::move(*body), duplicates);
  if (!decoded) return StatusResponse(decoded.error());
  json::object obj = ToStorage(c.r, std::move(*decoded));
  const ResourceInfo& s = *c.r.storage;
  json::object* meta = MetaOf(obj);

  if (c.r.namespaced()) {
    std::string ns = StringAt(meta, "namespace");
    if (ns.empty()) {
      (*meta)["namespace"] = c.info.ns;
    } else if (ns != c.info.ns) {
      return StatusResponse(
          BadRequest("the namespace of the provided object does not match the "
                     "namespace sent on the request"));
    }
  } else {
    meta->erase("namespace");
  }
  PrepareMetaForCreate(obj, s, std::chrono::system_clock::now());
  meta = MetaOf(obj);
  std::string name = StringAt(meta, "name");

  if (s.strategy->HasStatusSubresource() && !s.strategy->KeepsStatusOnCreate()) {
    obj.erase("status");
  }
  s.strategy->PrepareForCreate(obj);
  json::value as_value(std::move(obj));
  api::ApplySchemaDefaults(as_value, *s.decl->schema);
  obj = std::move(as_value.as_object());
  s.strategy->ApplyDefaults(obj);
  if (c.r.group().empty() && c.r.plural() == "pods") {
    if (Status st = AdmitPodPriority(obj); !st.ok()) return StatusResponse(st);
  }

  std::vector<StatusCause> errors;
  ValidateObjectMeta(obj, s, errors);
  s.strategy->Validate(obj, nullptr, errors);
  if (!errors.empty()) return StatusResponse(InvalidStatus(c.r, name, errors));

  if (c.r.namespaced()) {
    bool would_block = false;
    Status st = CheckNamespaceWritable(c.info.ns, c.req.non_blocking, &would_block);
    if (would_block) return WouldBlockResponse();
    if (!st.ok()) return StatusResponse(st);
  }
  if (Status st = CheckSingleDefaultPriorityClass(c.r, obj); !st.ok()) return StatusResponse(st);

  ServiceAllocator::Reservation reservation;
  if (c.r.group().empty() && c.r.plural() == "services") {
    auto res = services_->AllocateFor(obj, nullptr);
    if (!res) {
      Status err = res.error();
      if (err.code() == StatusCode::kInvalid)
        return StatusResponse(InvalidStatus(c.r, name, err.causes()));
      return StatusResponse(err);
    }
    reservation = std::move(*res);
  }

  if (c.dry_run) {
    api::ConvertFromStorage(c.r, obj);
    return ObjectResponse(201, json::value(std::move(obj)), c.out.format);
  }

  std::string key = c.r.key_prefix + CacheKey(c.r, c.info.ns, name);
  // Descriptions of custom resources outlive their definitions, so `r` stays valid.
  auto answer = [r = &c.r, obj, name, format = c.out.format, qualified = QualifiedResource(c.r),
                 group = c.r.group(), plural = c.r.plural()](Result<int64_t> rev) mutable {
    if (rev) return ObjectResponse(201, SerializeAs(*r, std::move(obj), *rev), format);
    Status err = rev.error();
    if (err.code() == StatusCode::kAlreadyExists) {
      err = Status(StatusCode::kAlreadyExists, qualified + " \"" + name + "\" already exists");
      err.SetDetails(group, plural, name);
    }
    return StatusResponse(err);
  };
  if (c.req.non_blocking) {
    // On the connection's thread: queue the write and answer when it has committed.
    HttpResponse later;
    later.deferred = [&store = StoreFor(c.r), key = std::move(key), stored = StoredForm(obj),
                      answer = std::move(answer), warnings = c.warnings](
                         std::function<void(HttpResponse::Builder)> finish) mutable {
      store.CreateAsync(key, std::move(stored),
                        [answer = std::move(answer), warnings = std::move(warnings),
                         finish](Result<int64_t> rev) mutable {
                          finish([answer = std::move(answer), warnings = std::move(warnings),
                                  rev = std::move(rev)]() mutable {
                            HttpResponse response = answer(std::move(rev));
                            for (const auto& w : warnings) {
                              response.headers.emplace_back("Warning", WarningHeader(w));
                            }
                            return response;
                          });
                        });
    };
    return later;
  }
  auto rev = StoreFor(c.r).Create(key, StoredForm(obj));
  if (rev) reservation.Commit();
  return answer(std::move(rev));
}

Result<std::string> ResourceHandler::StoreUpdate(Ctx& c, json::object obj, const json::object& old,
                                                 int64_t old_revision, bool* conflict) {
  *conflict = false;
  const std::string name = StringAt(MetaOf(old), "name");
  // `obj` and `old` are in the storage version.
  const ResourceInfo& s = *c.r.storage;
  PrepareMetaForUpdate(obj, old, s);
  if (c.r.group().empty() && c.r.plural() == "pods") KeepPodPriority(obj, old);
  json::value as_value(std::move(obj));
  api::ApplySchemaDefaults(as_value, *s.decl->schema);
  obj = std::move(as_value.as_object());
  s.strategy->ApplyDefaults(obj);
  s.strategy->PrepareForUpdate(obj, old);

  std::vector<StatusCause> errors;
  ValidateObjectMeta(obj, s, errors);
  ValidateObjectMetaUpdate(obj, old, errors);
  s.strategy->Validate(obj, &old, errors);
  if (!errors.empty()) return Err(InvalidStatus(c.r, name, errors));
  if (Status st = CheckSingleDefaultPriorityClass(c.r, obj); !st.ok()) return Err(st);

  ServiceAllocator::Reservation reservation;
  if (c.r.group().empty() && c.r.plural() == "services") {
    auto res = services_->AllocateFor(obj, &old);
    if (!res) {
      Status err = res.error();
      if (err.code() == StatusCode::kInvalid) return Err(InvalidStatus(c.r, name, err.causes()));
      return Err(err);
    }
    reservation = std::move(*res);
  }

  // Unchanged objects are not written again: the resourceVersion stays.
  json::object old_cmp = old;
  MetaOf(old_cmp)->erase("resourceVersion");
  json::object new_cmp = obj;
  MetaOf(new_cmp)->erase("resourceVersion");
  if (old_cmp == new_cmp) return SerializeAs(c.r, std::move(obj), old_revision);

  std::string key = CacheKey(c.r, c.info.ns, name);
  const json::object* meta = MetaOf(obj);
  bool deleting = meta && meta->contains("deletionTimestamp");
  bool no_finalizers = true;
  if (meta) {
    if (auto* f = meta->if_contains("finalizers"); f && f->is_array() && !f->as_array().empty()) {
      no_finalizers = false;
    }
  }
  if (c.dry_run) return SerializeAs(c.r, std::move(obj), old_revision);
  if (deleting && no_finalizers) {
    // The last finalizer is gone: the object is deleted now.
    auto del = StoreFor(c.r).Delete(c.r.key_prefix + key, old_revision);
    if (!del) {
      if (del.error().code() == StatusCode::kConflict) *conflict = true;
      return std::unexpected(del.error());
    }
    if (c.r.group().empty() && c.r.plural() == "services") services_->Release(old);
    return SerializeAs(c.r, std::move(obj), del->revision);
  }
  auto rev = StoreFor(c.r).Update(c.r.key_prefix + key, StoredForm(obj), old_revision);
  if (!rev) {
    if (rev.error().code() == StatusCode::kConflict) *conflict = true;
    if (rev.error().code() == StatusCode::kNotFound) return Err(NotFound(c.r, name));
    return std::unexpected(rev.error());
  }
  reservation.Commit();
  return SerializeAs(c.r, std::move(obj), *rev);
}

namespace {

// Applies a status-subresource write: only .status comes from `incoming`.
json::object MergeForSubresource(const std::string& subresource, bool has_status_subresource,
                                 json::object incoming, const json::object& old) {
  if (subresource == "status") {
    json::object out = old;
    if (auto* st = incoming.if_contains("status")) {
      out["status"] = *st;
    } else {
      out.erase("status");
    }
    // The client's resourceVersion precondition still applies.
    std::string rv = StringAt(MetaOf(incoming), "resourceVersion");
    if (!rv.empty()) (*MetaOf(out))["resourceVersion"] = rv;
    return out;
  }
  if (subresource == "finalize") {
    // namespaces/finalize replaces spec.finalizers and nothing else.
    json::object out = old;
    json::value& spec = out["spec"];
    if (!spec.is_object()) spec = json::object();
    const json::value* fin = nullptr;
    if (auto* in_spec = incoming.if_contains("spec"); in_spec && in_spec->is_object()) {
      fin = in_spec->as_object().if_contains("finalizers");
    }
    if (fin) {
      spec.as_object()["finalizers"] = *fin;
    } else {
      spec.as_object().erase("finalizers");
    }
    std::string rv = StringAt(MetaOf(incoming), "resourceVersion");
    if (!rv.empty()) (*MetaOf(out))["resourceVersion"] = rv;
    return out;
  }
  if (has_status_subresource) {
    if (auto* st = old.if_contains("status")) {
      incoming["status"] = *st;
    } else {
      incoming.erase("status");
    }
  }
  return incoming;
}

}  // namespace

HttpResponse ResourceHandler::Update(Ctx& c) {
  std::vector<std::string> duplicates;
  auto body = ParseBody(c.req, catalogue_.schemas(), c.r, &duplicates);
  if (!body) return StatusResponse(body.error());
  auto decoded = DecodeObject(c, std::move(*body), duplicates);
  if (!decoded) return StatusResponse(decoded.error());
  json::object incoming =
      c.info.subresource == "scale" ? std::move(*decoded) : ToStorage(c.r, std::move(*decoded));
  json::object* meta = MetaOf(incoming);
  std::string body_name = StringAt(meta, "name");
  if (body_name.empty()) {
    (*meta)["name"] = c.info.name;
  } else if (body_name != c.info.name) {
    return StatusResponse(BadRequest("the name of the object (" + body_name +
                                     ") does not match the name on the URL (" + c.info.name + ")"));
  }
  if (c.r.namespaced()) {
    std::string ns = StringAt(meta, "namespace");
    if (!ns.empty() && ns != c.info.ns) {
      return StatusResponse(
          BadRequest("the namespace of the provided object does not match the "
                     "namespace sent on the request"));
    }
    (*meta)["namespace"] = c.info.ns;
  }
  std::string key = CacheKey(c.r, c.info.ns, c.info.name);
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    int64_t rev = 0;
    auto old = Load(c.r, key, &rev);
    if (!old) {
      if (old.error().code() == StatusCode::kNotFound)
        return StatusResponse(NotFound(c.r, c.info.name));
      return StatusResponse(old.error());
    }
    if (c.info.subresource == "scale") {
      json::object updated = *old;
      int64_t replicas = 0;
      if (auto* spec = incoming.if_contains("spec"); spec && spec->is_object()) {
        if (auto* rep = spec->as_object().if_contains("replicas"); rep && rep->is_int64()) {
          replicas = rep->as_int64();
        }
      }
      std::string want_rv = StringAt(meta, "resourceVersion");
      if (!want_rv.empty() && want_rv != std::to_string(rev)) {
        return StatusResponse(ConflictModified(c.r, c.info.name));
      }
      SetScaleReplicas(c.r, updated, replicas);
      bool conflict = false;
      auto result = StoreUpdate(c, std::move(updated), *old, rev, &conflict);
      if (!result && conflict && want_rv.empty()) continue;
      if (!result)
        return StatusResponse(conflict ? ConflictModified(c.r, c.info.name) : result.error());
      json::value v = json::parse(*result);
      return ObjectResponse(200, json::value(ScaleFor(c.r, v.as_object())), c.out.format);
    }
    std::string want_rv = StringAt(meta, "resourceVersion");
    if (!want_rv.empty() && want_rv != std::to_string(rev)) {
      return StatusResponse(ConflictModified(c.r, c.info.name));
    }
    json::object obj = MergeForSubresource(
        c.info.subresource, c.r.storage->strategy->HasStatusSubresource(), incoming, *old);
    bool conflict = false;
    auto result = StoreUpdate(c, std::move(obj), *old, rev, &conflict);
    if (!result && conflict && want_rv.empty()) continue;
    if (!result)
      return StatusResponse(conflict ? ConflictModified(c.r, c.info.name) : result.error());
    return ObjectResponse(200, std::move(*result), c.out.format);
  }
  return StatusResponse(ConflictModified(c.r, c.info.name));
}

HttpResponse ResourceHandler::Patch(Ctx& c) {
  std::string_view ct = c.req.Header("Content-Type");
  enum { kJsonPatch, kMergePatch, kStrategic } type;
  if (ct.starts_with("application/json-patch+json")) {
    type = kJsonPatch;
  } else if (ct.starts_with("application/merge-patch+json")) {
    type = kMergePatch;
  } else if (ct.starts_with("application/strategic-merge-patch+json")) {
    type = kStrategic;
  } else {
    Status s(StatusCode::kUnsupportedMediaType,
             "the body of the request was in an unknown format - accepted media types include: "
             "application/json-patch+json, application/merge-patch+json, "
             "application/strategic-merge-patch+json");
    return StatusResponse(s);
  }
  std::vector<std::string> duplicates;
  auto patch = ParseJson(c.req.body, kDefaultJsonMaxDepth, &duplicates);
  if (!patch) return StatusResponse(patch.error());
  std::string key = CacheKey(c.r, c.info.ns, c.info.name);
  SchemaPatchMeta patch_meta(c.info.subresource == "scale" ? nullptr : c.r.decl->schema);
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    int64_t rev = 0;
    auto old = Load(c.r, key, &rev);
    if (!old) {
      if (old.error().code() == StatusCode::kNotFound)
        return StatusResponse(NotFound(c.r, c.info.name));
      return StatusResponse(old.error());
    }
    json::value current;
    if (c.info.subresource == "scale") {
      current = ScaleFor(c.r, *old);
    } else {
      // The patch applies to the object in the version of the URL.
      json::object in_version = *old;
      api::ConvertFromStorage(c.r, in_version);
      current = std::move(in_version);
    }
    Result<json::value> patched = Err(StatusCode::kInternal, "unreachable");
    switch (type) {
      case kJsonPatch: patched = ApplyJsonPatch(current, *patch); break;
      case kMergePatch: patched = ApplyMergePatch(current, *patch); break;
      case kStrategic: patched = ApplyStrategicMergePatch(current, *patch, &patch_meta); break;
    }
    if (!patched) return StatusResponse(patched.error());
    if (!patched->is_object())
      return StatusResponse(BadRequest("the patched object is not a JSON object"));
    std::string want_rv = StringAt(MetaOf(patched->as_object()), "resourceVersion");
    if (!want_rv.empty() && want_rv != std::to_string(rev)) {
      return StatusResponse(ConflictModified(c.r, c.info.name));
    }
    auto decoded = DecodeObject(c, std::move(*patched), duplicates);
    if (!decoded) return StatusResponse(decoded.error());
    json::object obj =
        c.info.subresource == "scale" ? std::move(*decoded) : ToStorage(c.r, std::move(*decoded));
    if (StringAt(MetaOf(obj), "name") != c.info.name) {
      return StatusResponse(
          BadRequest("metadata.name: Invalid value: the name of the object does not match the name "
                     "on the URL"));
    }
    if (c.info.subresource == "scale") {
      json::object updated = *old;
      int64_t replicas = 0;
      if (auto* spec = obj.if_contains("spec"); spec && spec->is_object()) {
        if (auto* rep = spec->as_object().if_contains("replicas"); rep && rep->is_int64()) {
          replicas = rep->as_int64();
        }
      }
      SetScaleReplicas(c.r, updated, replicas);
      obj = std::move(updated);
    } else {
      obj = MergeForSubresource(c.info.subresource, c.r.storage->strategy->HasStatusSubresource(),
                                std::move(obj), *old);
    }
    bool conflict = false;
    auto result = StoreUpdate(c, std::move(obj), *old, rev, &conflict);
    if (!result && conflict) continue;  // re-read and re-apply the patch
    if (!result) return StatusResponse(result.error());
    if (c.info.subresource == "scale") {
      json::value v = json::parse(*result);
      return ObjectResponse(200, json::value(ScaleFor(c.r, v.as_object())), c.out.format);
    }
    return ObjectResponse(200, std::move(*result), c.out.format);
  }
  return StatusResponse(ConflictModified(c.r, c.info.name));
}

// ---------------------------------------------------------------------------------------
// Deletes

namespace {

struct DeleteOptions {
  std::optional<int64_t> grace_period;
  std::string propagation;
  std::string precondition_uid;
  std::string precondition_rv;
  bool dry_run = false;
};

Result<DeleteOptions> ParseDeleteOptions(const HttpRequest& req, const json::object* body) {
  DeleteOptions o;
  o.dry_run = IsDryRun(req);
  if (auto g = req.Query("gracePeriodSeconds"); g && !g->empty()) {
    bool ok = false;
    int64_t v = ParseRevision(*g, &ok);
    if (!ok) return Err(BadRequest("invalid gracePeriodSeconds: " + std::string(*g)));
    o.grace_period = v;
  }
  if (auto p = req.Query("propagationPolicy"); p) o.propagation = std::string(*p);
  if (body) {
    if (auto* g = body->if_contains("gracePeriodSeconds"); g && g->is_int64())
      o.grace_period = g->as_int64();
    if (auto* p = body->if_contains("propagationPolicy"); p && p->is_string()) {
      o.propagation = std::string(p->as_string());
    }
    if (auto* pre = body->if_contains("preconditions"); pre && pre->is_object()) {
      o.precondition_uid = StringAt(&pre->as_object(), "uid");
      o.precondition_rv = StringAt(&pre->as_object(), "resourceVersion");
    }
    if (auto* d = body->if_contains("dryRun"); d && d->is_array()) {
      for (auto& x : d->as_array()) {
        if (x.is_string() && x.as_string() == "All") o.dry_run = true;
      }
    }
  }
  if (!o.propagation.empty() && o.propagation != "Orphan" && o.propagation != "Background" &&
      o.propagation != "Foreground") {
    return Err(Status(StatusCode::kInvalid,
                      "propagationPolicy: Unsupported value: \"" + o.propagation +
                          "\": supported values: \"Foreground\", \"Background\", \"Orphan\""));
  }
  return o;
}

bool HasFinalizers(const json::object& obj) {
  const json::object* meta = MetaOf(obj);
  if (!meta) return false;
  auto* f = meta->if_contains("finalizers");
  return f && f->is_array() && !f->as_array().empty();
}

}  // namespace

Result<std::string> ResourceHandler::DeleteOne(Ctx& c, const std::string& name,
                                               const json::object* body) {
  auto opts = ParseDeleteOptions(c.req, body);
  if (!opts) return std::unexpected(opts.error());
  std::string ns = c.r.namespaced() ? c.info.ns : std::string();
  std::string key = CacheKey(c.r, ns, name);
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    int64_t rev = 0;
    auto old = Load(c.r, key, &rev);
    if (!old) {
      if (old.error().code() == StatusCode::kNotFound) return Err(NotFound(c.r, name));
      return std::unexpected(old.error());
    }
    const json::object* meta = MetaOf(*old);
    if (!opts->precondition_uid.empty() && opts->precondition_uid != StringAt(meta, "uid")) {
      Status s(StatusCode::kConflict,
               "Operation cannot be fulfilled on " + QualifiedResource(c.r) + " \"" + name +
                   "\": Precondition failed: UID in precondition: " + opts->precondition_uid +
                   ", UID in object meta: " + StringAt(meta, "uid"));
      s.SetDetails(c.r.group(), c.r.plural(), name);
      return Err(s);
    }
    if (!opts->precondition_rv.empty() && opts->precondition_rv != std::to_string(rev)) {
      Status s(
          StatusCode::kConflict,
          "Operation cannot be fulfilled on " + QualifiedResource(c.r) + " \"" + name +
              "\": Precondition failed: ResourceVersion in precondition: " + opts->precondition_rv +
              ", ResourceVersion in object meta: " + std::to_string(rev));
      s.SetDetails(c.r.group(), c.r.plural(), name);
      return Err(s);
    }
    bool is_namespace = c.r.group().empty() && c.r.plural() == "namespaces";
    bool graceful = HasFinalizers(*old) || is_namespace;
    if (graceful) {
      // Mark for deletion; the finalizers' owners (or the namespace finalizer) finish it.
      if (meta && meta->contains("deletionTimestamp")) return SerializeAs(c.r, *old, rev);
      json::object marked = *old;
      json::object* m = MetaOf(marked);
      (*m)["deletionTimestamp"] = FormatRfc3339(std::chrono::system_clock::now());
      (*m)["deletionGracePeriodSeconds"] = opts->grace_period.value_or(0);
      if (is_namespace) {
        json::value& st = marked["status"];
        if (!st.is_object()) st = json::object();
        st.as_object()["phase"] = "Terminating";
      }
      if (opts->dry_run) return SerializeAs(c.r, std::move(marked), rev);
      auto r2 = StoreFor(c.r).Update(c.r.key_prefix + key, StoredForm(marked), rev);
      if (!r2) {
        if (r2.error().code() == StatusCode::kConflict) continue;
        return std::unexpected(r2.error());
      }
      return SerializeAs(c.r, std::move(marked), *r2);
    }
    if (opts->dry_run) return SerializeAs(c.r, *old, rev);
    auto del = StoreFor(c.r).Delete(c.r.key_prefix + key, rev);
    if (!del) {
      if (del.error().code() == StatusCode::kConflict) continue;
      if (del.error().code() == StatusCode::kNotFound) return Err(NotFound(c.r, name));
      return std::unexpected(del.error());
    }
    if (c.r.group().empty() && c.r.plural() == "services") services_->Release(*old);
    return SerializeAs(c.r, *old, rev);
  }
  return Err(ConflictModified(c.r, name));
}

HttpResponse ResourceHandler::Delete(Ctx& c) {
  std::optional<json::value> body;
  if (!c.req.body.empty()) {
    auto parsed = ParseJson(c.req.body, kDefaultJsonMaxDepth);
    if (!parsed) return StatusResponse(parsed.error());
    if (!parsed->is_object())
      return StatusResponse(BadRequest("DeleteOptions must be a JSON object"));
    body = std::move(*parsed);
  }
  auto result = DeleteOne(c, c.info.name, body ? &body->as_object() : nullptr);
  if (!result) return StatusResponse(result.error());
  return ObjectResponse(200, std::move(*result), c.out.format);
}

HttpResponse ResourceHandler::DeleteCollection(Ctx& c) {
  WatchCache* cache = CacheFor(c.r);
  if (!cache)
    return StatusResponse(
        Status(StatusCode::kMethodNotAllowed, "deletecollection is not supported"));
  auto filter = MakeFilter(c);
  if (!filter) return StatusResponse(filter.error());
  std::optional<json::value> body;
  if (!c.req.body.empty()) {
    auto parsed = ParseJson(c.req.body, kDefaultJsonMaxDepth);
    if (!parsed) return StatusResponse(parsed.error());
    if (parsed->is_object()) body = std::move(*parsed);
  }
  auto current = StoreFor(c.r).CurrentRevision();
  if (current) cache->WaitUntilFresh(*current, kFreshnessTimeout);
  int64_t revision = 0;
  bool more = false;
  auto items = cache->List(*filter, "", 0, &revision, &more);
  std::string out = "{\"kind\":\"" + c.r.list_kind + "\",\"apiVersion\":\"" + c.r.group_version +
                    "\",\"metadata\":{},\"items\":[";
  bool first = true;
  for (const auto& item : items) {
    auto result = DeleteOne(c, item->name, body ? &body->as_object() : nullptr);
    if (!result) {
      if (result.error().code() == StatusCode::kNotFound) continue;
      return StatusResponse(result.error());
    }
    if (!first) out += ',';
    first = false;
    out += *result;
  }
  out += "]}";
  return ObjectResponse(200, std::move(out), c.out.format);
}

// ---------------------------------------------------------------------------------------
// Namespaces

Status ResourceHandler::EnsureNamespace(const std::string& name) {
  const ResourceInfo* nsr = catalogue_.Find("", "v1", "namespaces");
  if (!nsr) return Status(StatusCode::kInternal, "namespaces are not in the catalogue");
  auto existing = store_.Get(nsr->key_prefix + name);
  if (existing) return Status::Ok();
  if (existing.error().code() != StatusCode::kNotFound) return existing.error();
  json::object obj{
      {"apiVersion", "v1"},
      {"kind", "Namespace"},
      {"metadata", json::object{{"name", name},
                                {"labels", json::object{{"kubernetes.io/metadata.name", name}}}}}};
  PrepareMetaForCreate(obj, *nsr, std::chrono::system_clock::now());
  nsr->strategy->PrepareForCreate(obj);
  json::value v(std::move(obj));
  api::ApplySchemaDefaults(v, *nsr->decl->schema);
  nsr->strategy->ApplyDefaults(v.as_object());
  auto rev = store_.Create(nsr->key_prefix + name, StoredForm(std::move(v.as_object())));
  if (!rev && rev.error().code() != StatusCode::kAlreadyExists) return rev.error();
  return Status::Ok();
}

Status ResourceHandler::PublishKubernetesService(const std::string& host, int port) {
  const ResourceInfo* svc = catalogue_.Find("", "v1", "services");
  const ResourceInfo* eps = catalogue_.Find("", "v1", "endpoints");
  if (!svc || !eps)
    return Status(StatusCode::kInternal, "services/endpoints are not in the catalogue");
  auto send = [this](const std::string& method, const std::string& path, const json::object& body) {
    return InternalRequest(method, path, body);
  };
  json::object labels{{"component", "apiserver"}, {"provider", "kubernetes"}};
  json::object service{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       json::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
      {"spec", json::object{{"clusterIP", services_->FirstAddress()},
                            {"type", "ClusterIP"},
                            {"sessionAffinity", "None"},
                            {"ports", json::array{json::object{{"name", "https"},
                                                               {"port", 443},
                                                               {"protocol", "TCP"},
                                                               {"targetPort", port}}}}}}};
  // Another server on the same store (or an earlier start) may have created it already.
  auto existing = store_.Get(svc->key_prefix + "default/kubernetes");
  if (!existing && existing.error().code() != StatusCode::kNotFound) return existing.error();
  HttpResponse r;
  r.status = 409;
  if (!existing) r = send("POST", "/api/v1/namespaces/default/services", service);
  if (r.status != 201 && r.status != 409) {
    return Status(StatusCode::kInternal, "cannot create the kubernetes Service: " + r.body);
  }
  json::object endpoints{
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata",
       json::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
      {"subsets", json::array{json::object{
                      {"addresses", json::array{json::object{{"ip", host}}}},
                      {"ports", json::array{json::object{
                                    {"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}}}}};
  r = send("POST", "/api/v1/namespaces/default/endpoints", endpoints);
  if (r.status == 409)
    r = send("PUT", "/api/v1/namespaces/default/endpoints/kubernetes", endpoints);
  if (r.status != 200 && r.status != 201) {
    return Status(StatusCode::kInternal, "cannot publish the kubernetes Endpoints: " + r.body);
  }
  return Status::Ok();
}

HttpResponse ResourceHandler::InternalRequest(const std::string& method, const std::string& path,
                                              const json::object& body) {
  HttpRequest req;
  req.method = method;
  req.path = path;
  req.headers.emplace("Content-Type", "application/json");
  req.body = json::serialize(body);
  RequestInfo info = ParseRequestInfo(method, path, false);
  return Handle(req, info);
}

void ResourceHandler::PopulateNamespaces() {
  const ResourceInfo* nsr = catalogue_.Find("", "v1", "namespaces");
  const ResourceInfo* sar = catalogue_.Find("", "v1", "serviceaccounts");
  const ResourceInfo* cmr = catalogue_.Find("", "v1", "configmaps");
  WatchCache* ns_cache = nsr ? CacheFor(*nsr) : nullptr;
  WatchCache* sa_cache = sar ? CacheFor(*sar) : nullptr;
  WatchCache* cm_cache = cmr ? CacheFor(*cmr) : nullptr;
  if (!ns_cache || !sa_cache || !cm_cache) return;
  for (const auto& ns : ns_cache->List(ObjectFilter{}, "", 0, nullptr, nullptr)) {
    const json::object* o = ns->object->if_object();
    const json::object* meta = o ? MetaOf(*o) : nullptr;
    if (!meta || meta->contains("deletionTimestamp")) continue;
    // Every namespace has a `default` ServiceAccount, as the ServiceAccount controller ensures.
    if (!sa_cache->Get(ns->name + "/default", nullptr)) {
      json::object sa{{"apiVersion", "v1"},
                      {"kind", "ServiceAccount"},
                      {"metadata", json::object{{"name", "default"}, {"namespace", ns->name}}}};
      (void)InternalRequest("POST", "/api/v1/namespaces/" + ns->name + "/serviceaccounts", sa);
    }
    // ... and the cluster CA bundle, as the root CA publisher ensures.
    if (!options_.cluster_ca_pem.empty() &&
        !cm_cache->Get(ns->name + "/kube-root-ca.crt", nullptr)) {
      json::object cm{
          {"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           json::object{
               {"name", "kube-root-ca.crt"},
               {"namespace", ns->name},
               {"annotations",
                json::object{{"kubernetes.io/description",
                              "Contains a CA bundle that can be used to verify the "
                              "kube-apiserver when using internal endpoints such as the "
                              "internal service IP or kubernetes.default.svc. No other usage "
                              "is guaranteed across distributions of Kubernetes clusters."}}}}},
          {"data", json::object{{"ca.crt", options_.cluster_ca_pem}}}};
      (void)InternalRequest("POST", "/api/v1/namespaces/" + ns->name + "/configmaps", cm);
    }
  }
}

namespace {

json::object NamespaceCondition(const std::string& type, bool status, const std::string& reason,
                                const std::string& message) {
  return json::object{{"type", type},
                      {"status", status ? "True" : "False"},
                      {"lastTransitionTime", FormatRfc3339(std::chrono::system_clock::now())},
                      {"reason", reason},
                      {"message", message}};
}

// Conditions equal but for their transition times.
bool SameConditions(const json::value* a, const json::array& b) {
  if (!a || !a->is_array() || a->as_array().size() != b.size()) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    json::object x = a->as_array()[i].is_object() ? a->as_array()[i].as_object() : json::object();
    json::object y = b[i].as_object();
    x.erase("lastTransitionTime");
    y.erase("lastTransitionTime");
    if (x != y) return false;
  }
  return true;
}

}  // namespace

void ResourceHandler::FinalizeNamespaces() {
  const ResourceInfo* nsr = catalogue_.Find("", "v1", "namespaces");
  WatchCache* ns_cache = nsr ? CacheFor(*nsr) : nullptr;
  if (!ns_cache) return;
  int64_t revision = 0;
  bool more = false;
  for (const auto& ns : ns_cache->List(ObjectFilter{}, "", 0, &revision, &more)) {
    const json::object* o = ns->object->if_object();
    const json::object* meta = o ? MetaOf(*o) : nullptr;
    if (!meta || !meta->contains("deletionTimestamp")) continue;
    // Delete everything in the namespace; finish once nothing is left.
    std::map<std::string, int> remaining_by_resource;
    std::map<std::string, int> remaining_by_finalizer;
    std::vector<std::pair<const ResourceInfo*, WatchCache*>> caches;
    {
      std::shared_lock caches_lock(caches_mu_);
      for (auto& [r, cache] : caches_) caches.emplace_back(r, cache.get());
    }
    for (auto& [r, cache] : caches) {
      if (!r->namespaced()) continue;
      ObjectFilter f;
      f.ns = ns->name;
      for (const auto& item : cache->List(f, "", 0, nullptr, nullptr)) {
        remaining_by_resource[QualifiedResource(*r)]++;
        const json::object* io = item->object->if_object();
        const json::object* im = io ? MetaOf(*io) : nullptr;
        if (im) {
          if (auto* fin = im->if_contains("finalizers"); fin && fin->is_array()) {
            for (const auto& fv : fin->as_array()) {
              if (fv.is_string()) remaining_by_finalizer[std::string(fv.as_string())]++;
            }
          }
        }
        if (im && im->contains("deletionTimestamp")) continue;
        HttpRequest req;
        RequestInfo info;
        info.ns = ns->name;
        info.name = item->name;
        info.resource = r->plural();
        Ctx c{req, info, *r, Negotiated{}, false, FieldValidation::kIgnore, {}};
        (void)DeleteOne(c, item->name, nullptr);
      }
    }
    int64_t rev = 0;
    auto current = Load(*nsr, ns->name, &rev);
    if (!current) continue;
    json::object updated = *current;
    if (!remaining_by_resource.empty()) {
      // Report progress the way the namespace controller does.
      std::string content = "Some resources are remaining: ";
      bool first = true;
      for (const auto& [res, n] : remaining_by_resource) {
        content += (first ? "" : ", ") + res + " has " + std::to_string(n) + " resource instances";
        first = false;
      }
      json::array conds;
      conds.push_back(NamespaceCondition("NamespaceDeletionDiscoveryFailure", false,
                                         "ResourcesDiscovered",
                                         "All resources successfully discovered"));
      conds.push_back(NamespaceCondition("NamespaceDeletionGroupVersionParsingFailure", false,
                                         "ParsedGroupVersions",
                                         "All legacy kube types successfully parsed"));
      conds.push_back(
          NamespaceCondition("NamespaceDeletionContentFailure", false, "ContentDeleted",
                             "All content successfully deleted, may be waiting on finalization"));
      conds.push_back(
          NamespaceCondition("NamespaceContentRemaining", true, "SomeResourcesRemain", content));
      if (remaining_by_finalizer.empty()) {
        conds.push_back(NamespaceCondition("NamespaceFinalizersRemaining", false,
                                           "ContentHasNoFinalizers",
                                           "All content-preserving finalizers finished"));
      } else {
        std::string fins = "Some content in the namespace has finalizers remaining: ";
        first = true;
        for (const auto& [f, n] : remaining_by_finalizer) {
          fins += (first ? "" : ", ") + f + " in " + std::to_string(n) + " resource instances";
          first = false;
        }
        conds.push_back(
            NamespaceCondition("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain", fins));
      }
      json::value& st = updated["status"];
      if (!st.is_object()) st = json::object();
      if (!SameConditions(st.as_object().if_contains("conditions"), conds)) {
        st.as_object()["conditions"] = std::move(conds);
        (void)store_.Update(nsr->key_prefix + ns->name, StoredForm(updated), rev);
      }
      continue;
    }
    if (auto* spec = updated.if_contains("spec"); spec && spec->is_object()) {
      spec->as_object().erase("finalizers");
    }
    if (HasFinalizers(updated)) {
      (void)store_.Update(nsr->key_prefix + ns->name, StoredForm(updated), rev);
      continue;
    }
    (void)store_.Delete(nsr->key_prefix + ns->name, rev);
  }
}

// ---------------------------------------------------------------------------------------
// Pod subresources: binding and eviction

namespace {

// The Status a successful binding or eviction answers with.
json::value SuccessStatus(int code) {
  return json::object{{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", json::object()},
                      {"status", "Success"},
                      {"code", code}};
}

// Checks the apiVersion/kind of a subresource body against the expected ones.
Status CheckBodyKind(const json::object& body, std::string_view kind,
                     std::initializer_list<std::string_view> versions) {
  std::string got_kind = StringAt(&body, "kind");
  std::string got_version = StringAt(&body, "apiVersion");
  if (!got_kind.empty() && got_kind != kind) {
    return BadRequest("the kind in the data (" + got_kind + ") does not match the expected kind (" +
                      std::string(kind) + ")");
  }
  if (!got_version.empty() &&
      std::find(versions.begin(), versions.end(), got_version) == versions.end()) {
    return BadRequest("the API version in the data (" + got_version +
                      ") does not match the expected API version (" +
                      std::string(*versions.begin()) + ")");
  }
  return Status::Ok();
}

bool PodReady(const json::object& pod) {
  const json::value* conds = nullptr;
  if (auto* st = pod.if_contains("status"); st && st->is_object()) {
    conds = st->as_object().if_contains("conditions");
  }
  if (!conds || !conds->is_array()) return false;
  for (const auto& c : conds->as_array()) {
    if (!c.is_object()) continue;
    if (StringAt(&c.as_object(), "type") == "Ready") {
      return StringAt(&c.as_object(), "status") == "True";
    }
  }
  return false;
}

int64_t IntAt(const json::object* o, std::string_view key) {
  if (!o) return 0;
  auto* v = o->if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

const json::object* ObjectAt(const json::object* o, std::string_view key) {
  if (!o) return nullptr;
  auto* v = o->if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

Status EvictionBlocked(std::string cause_message, int retry_after) {
  Status s(StatusCode::kTooManyRequests,
           "Cannot evict pod as it would violate the pod's disruption budget.");
  s.AddCause({"DisruptionBudget", std::move(cause_message), ""});
  if (retry_after > 0) s.SetRetryAfter(retry_after);
  return s;
}

}  // namespace

HttpResponse ResourceHandler::Bind(Ctx& c) {
  auto body = ParseBody(c.req, catalogue_.schemas(), c.r, nullptr);
  if (!body) return StatusResponse(body.error());
  if (!body->is_object()) return StatusResponse(BadRequest("the body must be a Binding object"));
  const json::object& binding = body->as_object();
  Status kind_ok = CheckBodyKind(binding, "Binding", {"v1"});
  if (!kind_ok.ok()) return StatusResponse(kind_ok);
  const json::object* meta = ObjectAt(&binding, "metadata");
  if (StringAt(meta, "name") != c.info.name) {
    return StatusResponse(BadRequest("name in URL does not match name in Binding object"));
  }
  // ValidatePodBinding; Kubernetes answers these as an unclassified (500) error.
  const json::object* target = ObjectAt(&binding, "target");
  std::vector<std::string> problems;
  std::string target_kind = StringAt(target, "kind");
  std::string node = StringAt(target, "name");
  if (!target_kind.empty() && target_kind != "Node") {
    problems.push_back("target.kind: Unsupported value: \"" + target_kind +
                       "\": supported values: \"Node\", \"<empty>\"");
  }
  if (node.empty()) problems.push_back("target.name: Required value");
  if (!problems.empty()) {
    std::string msg =
        problems.size() == 1 ? problems[0] : "[" + problems[0] + ", " + problems[1] + "]";
    return StatusResponse(Status(StatusCode::kInternal, msg));
  }

  const std::string& name = c.info.name;
  auto conflict = [&](const std::string& why) {
    Status s(StatusCode::kConflict,
             "Operation cannot be fulfilled on pods/binding \"" + name + "\": " + why);
    s.SetDetails("", "pods/binding", name);
    return StatusResponse(s);
  };
  std::string key = CacheKey(c.r, c.info.ns, name);
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    int64_t rev = 0;
    auto old = Load(c.r, key, &rev);
    if (!old) {
      if (old.error().code() == StatusCode::kNotFound) return StatusResponse(NotFound(c.r, name));
      return StatusResponse(old.error());
    }
    json::object pod = std::move(*old);
    json::object* pod_meta = MetaOf(pod);
    std::string want_uid = StringAt(meta, "uid");
    if (!want_uid.empty() && want_uid != StringAt(pod_meta, "uid")) {
      return conflict("Precondition failed: UID in precondition: " + want_uid +
                      ", UID in object meta: " + StringAt(pod_meta, "uid"));
    }
    if (pod_meta && pod_meta->contains("deletionTimestamp")) {
      return conflict("pod " + name + " is being deleted, cannot be assigned to a host");
    }
    json::value& spec_value = pod["spec"];
    if (!spec_value.is_object()) spec_value = json::object();
    json::object& spec = spec_value.as_object();
    std::string assigned = StringAt(&spec, "nodeName");
    if (!assigned.empty()) {
      return conflict("pod " + name + " is already assigned to node \"" + assigned + "\"");
    }
    if (auto* gates = spec.if_contains("schedulingGates");
        gates && gates->is_array() && !gates->as_array().empty()) {
      return conflict("pod " + name + " has non-empty .spec.schedulingGates");
    }
    spec["nodeName"] = node;
    if (const json::object* annotations = ObjectAt(meta, "annotations")) {
      json::value& dst = (*pod_meta)["annotations"];
      if (!dst.is_object()) dst = json::object();
      for (const auto& kv : *annotations) dst.as_object()[kv.key()] = kv.value();
    }
    // The PodScheduled condition becomes True, as the scheduler's binding records it.
    json::value& status_value = pod["status"];
    if (!status_value.is_object()) status_value = json::object();
    json::value& conds = status_value.as_object()["conditions"];
    if (!conds.is_array()) conds = json::array();
    json::object* scheduled = nullptr;
    for (auto& cv : conds.as_array()) {
      if (cv.is_object() && StringAt(&cv.as_object(), "type") == "PodScheduled") {
        scheduled = &cv.as_object();
      }
    }
    if (!scheduled) {
      conds.as_array().push_back(json::object{{"type", "PodScheduled"}});
      scheduled = &conds.as_array().back().as_object();
    }
    if (StringAt(scheduled, "status") != "True") {
      (*scheduled)["status"] = "True";
      (*scheduled)["lastProbeTime"] = nullptr;
      (*scheduled)["lastTransitionTime"] = FormatRfc3339(std::chrono::system_clock::now());
      scheduled->erase("reason");
      scheduled->erase("message");
    }
    if (c.dry_run) return ObjectResponse(201, SuccessStatus(201), c.out.format);
    auto updated = store_.Update(c.r.key_prefix + key, StoredForm(std::move(pod)), rev);
    if (!updated) {
      if (updated.error().code() == StatusCode::kConflict) continue;
      return StatusResponse(updated.error());
    }
    return ObjectResponse(201, SuccessStatus(201), c.out.format);
  }
  return StatusResponse(ConflictModified(c.r, name));
}

HttpResponse ResourceHandler::Evict(Ctx& c) {
  auto body = ParseBody(c.req, catalogue_.schemas(), c.r, nullptr);
  if (!body) return StatusResponse(body.error());
  if (!body->is_object()) return StatusResponse(BadRequest("the body must be an Eviction object"));
  const json::object& eviction = body->as_object();
  Status kind_ok = CheckBodyKind(eviction, "Eviction", {"policy/v1", "policy/v1beta1"});
  if (!kind_ok.ok()) return StatusResponse(kind_ok);
  const json::object* meta = ObjectAt(&eviction, "metadata");
  const std::string& name = c.info.name;
  if (StringAt(meta, "name") != name) {
    return StatusResponse(BadRequest("name in URL does not match name in Eviction object"));
  }
  json::object delete_options;
  if (const json::object* opts = ObjectAt(&eviction, "deleteOptions")) delete_options = *opts;
  if (c.dry_run) delete_options["dryRun"] = json::array{"All"};

  int64_t rev = 0;
  auto pod = Load(c.r, CacheKey(c.r, c.info.ns, name), &rev);
  if (!pod) {
    if (pod.error().code() == StatusCode::kNotFound) return StatusResponse(NotFound(c.r, name));
    return StatusResponse(pod.error());
  }
  const std::string pod_path = "/api/v1/namespaces/" + c.info.ns + "/pods/" + name;
  auto delete_pod = [&]() {
    HttpResponse r = InternalRequest("DELETE", pod_path, delete_options);
    if (r.status != 200 && r.status != 202) return r;
    return ObjectResponse(201, SuccessStatus(201), c.out.format);
  };

  const json::object* pod_meta = MetaOf(*pod);
  std::string phase = StringAt(ObjectAt(&*pod, "status"), "phase");
  // Pods that are not running (or already going away) may always be evicted.
  if ((pod_meta && pod_meta->contains("deletionTimestamp")) || phase == "Succeeded" ||
      phase == "Failed" || phase == "Pending") {
    return delete_pod();
  }

  const ResourceInfo* pdbr = catalogue_.Find("policy", "v1", "poddisruptionbudgets");
  WatchCache* pdb_cache = pdbr ? CacheFor(*pdbr) : nullptr;
  if (!pdb_cache) return delete_pod();
  auto current = store_.CurrentRevision();
  if (current) pdb_cache->WaitUntilFresh(*current, kFreshnessTimeout);
  const json::value* pod_labels = nullptr;
  if (pod_meta) pod_labels = pod_meta->if_contains("labels");
  std::vector<json::object> covering;
  for (const auto& item :
       pdb_cache->List(ObjectFilter{c.info.ns, nullptr}, "", 0, nullptr, nullptr)) {
    const json::object* pdb = item->object->if_object();
    const json::object* spec = pdb ? ObjectAt(pdb, "spec") : nullptr;
    const json::value* sel = spec ? spec->if_contains("selector") : nullptr;
    if (!sel || sel->is_null()) continue;  // a nil selector selects no pod
    auto selector = LabelSelector::FromJson(*sel);
    if (!selector || !selector->Matches(pod_labels)) continue;
    covering.push_back(*pdb);
  }
  if (covering.empty()) return delete_pod();
  if (covering.size() > 1) {
    return StatusResponse(Status(StatusCode::kInternal,
                                 "This pod has more than one PodDisruptionBudget, which the "
                                 "eviction subresource does not support."));
  }
  json::object pdb = std::move(covering.front());
  std::string pdb_name = StringAt(MetaOf(pdb), "name");
  const json::object* pdb_spec = ObjectAt(&pdb, "spec");
  const json::object* status = ObjectAt(&pdb, "status");
  if (!PodReady(*pod)) {
    std::string policy = StringAt(pdb_spec, "unhealthyPodEvictionPolicy");
    if (policy == "AlwaysAllow") return delete_pod();
    int64_t desired = IntAt(status, "desiredHealthy");
    if (IntAt(status, "currentHealthy") >= desired && desired > 0) return delete_pod();
  }
  if (IntAt(status, "observedGeneration") < IntAt(MetaOf(pdb), "generation")) {
    return StatusResponse(EvictionBlocked(
        "The disruption budget " + pdb_name + " is still being processed by the server.", 10));
  }
  int64_t allowed = IntAt(status, "disruptionsAllowed");
  if (allowed < 0) {
    Status s(StatusCode::kForbidden, "poddisruptionbudgets.policy \"" + pdb_name +
                                         "\" is forbidden: pdb disruptions allowed is negative");
    s.SetDetails("policy", "poddisruptionbudgets", pdb_name);
    return StatusResponse(s);
  }
  if (allowed == 0) {
    return StatusResponse(EvictionBlocked(
        "The disruption budget " + pdb_name + " needs " +
            std::to_string(IntAt(status, "desiredHealthy")) + " healthy pods and has " +
            std::to_string(IntAt(status, "currentHealthy")) + " currently",
        0));
  }
  // Record the disruption so the budget counts this pod as gone until it is.
  json::value& st = pdb["status"];
  if (!st.is_object()) st = json::object();
  st.as_object()["disruptionsAllowed"] = allowed - 1;
  json::value& disrupted = st.as_object()["disruptedPods"];
  if (!disrupted.is_object()) disrupted = json::object();
  std::string now = FormatRfc3339(std::chrono::system_clock::now());
  disrupted.as_object()[name] = now;
  if (allowed - 1 == 0) {
    json::value& conds = st.as_object()["conditions"];
    if (!conds.is_array()) conds = json::array();
    json::object cond{{"type", "DisruptionAllowed"},
                      {"status", "False"},
                      {"reason", "InsufficientPods"},
                      {"message", ""},
                      {"observedGeneration", IntAt(status, "observedGeneration")},
                      {"lastTransitionTime", now}};
    bool replaced = false;
    for (auto& cv : conds.as_array()) {
      if (cv.is_object() && StringAt(&cv.as_object(), "type") == "DisruptionAllowed") {
        if (StringAt(&cv.as_object(), "status") == "False") {
          cond["lastTransitionTime"] = cv.as_object()["lastTransitionTime"];
        }
        cv = cond;
        replaced = true;
      }
    }
    if (!replaced) conds.as_array().push_back(std::move(cond));
  }
  if (!c.dry_run) {
    HttpResponse r = InternalRequest(
        "PUT",
        "/apis/policy/v1/namespaces/" + c.info.ns + "/poddisruptionbudgets/" + pdb_name + "/status",
        pdb);
    if (r.status != 200) return r;
  }
  return delete_pod();
}

// ---------------------------------------------------------------------------------------
// serviceaccounts/token: TokenRequest

namespace {

// An Invalid TokenRequest, as Kubernetes words it ("TokenRequest.authentication.k8s.io
// "NAME" is invalid: FIELD: Invalid value: VALUE: WHY").
Status InvalidTokenRequest(const std::string& name, const std::string& field,
                           const std::string& value_json, const std::string& why) {
  std::string detail = "Invalid value: " + value_json + ": " + why;
  Status s(StatusCode::kInvalid, "TokenRequest.authentication.k8s.io \"" + name +
                                     "\" is invalid: " + field + ": " + detail);
  s.SetDetails("authentication.k8s.io", "TokenRequest", name);
  s.AddCause({"FieldValueInvalid", detail, field});
  return s;
}

}  // namespace

std::shared_ptr<const json::value> ResourceHandler::CachedCoreObject(std::string_view plural,
                                                                     const std::string& ns,
                                                                     const std::string& name) {
  const ResourceInfo* r = catalogue_.Find("", "v1", plural);
  WatchCache* cache = r ? CacheFor(*r) : nullptr;
  if (!cache) return nullptr;
  CachedObjectPtr obj = cache->Get(CacheKey(*r, ns, name), nullptr);
  return obj ? obj->object : nullptr;
}

HttpResponse ResourceHandler::RequestToken(Ctx& c) {
  if (!tokens_) {
    return StatusResponse(
        Status(StatusCode::kNotFound, "the server could not find the requested resource"));
  }
  std::vector<std::string> duplicates;
  auto body = ParseBody(c.req, catalogue_.schemas(), c.r, &duplicates);
  if (!body) return StatusResponse(body.error());
  auto decoded = DecodeObject(c, std::move(*body), duplicates);
  if (!decoded) return StatusResponse(decoded.error());
  json::value request(std::move(*decoded));
  api::ApplySchemaDefaults(request,
                           *catalogue_.schemas().Find("io.k8s.api.authentication.v1.TokenRequest"));
  json::object& out = request.as_object();
  json::object* meta = MetaOf(out);
  const std::string& sa_name = c.info.name;
  const std::string request_name = StringAt(meta, "name");
  // The body may repeat the service account's name and namespace, but not contradict them.
  if (!request_name.empty() && request_name != sa_name) {
    return StatusResponse(InvalidTokenRequest(sa_name, "metadata.name",
                                              json::serialize(json::value(request_name)),
                                              "must match the service account name if specified"));
  }
  if (std::string ns = StringAt(meta, "namespace"); !ns.empty() && ns != c.info.ns) {
    return StatusResponse(
        InvalidTokenRequest(sa_name, "metadata.namespace", json::serialize(json::value(ns)),
                            "must match the service account namespace if specified"));
  }
  json::object& spec = out["spec"].as_object();
  int64_t expiration = IntAt(&spec, "expirationSeconds");
  if (expiration < 600) {
    return StatusResponse(InvalidTokenRequest(request_name, "spec.expirationSeconds",
                                              std::to_string(expiration),
                                              "may not specify a duration less than 10 minutes"));
  }
  if (expiration > (int64_t{1} << 32)) {
    return StatusResponse(
        InvalidTokenRequest(request_name, "spec.expirationSeconds", std::to_string(expiration),
                            "may not specify a duration larger than 2^32 seconds"));
  }

  int64_t rev = 0;
  auto account = Load(c.r, CacheKey(c.r, c.info.ns, sa_name), &rev);
  if (!account) {
    if (account.error().code() == StatusCode::kNotFound)
      return StatusResponse(NotFound(c.r, sa_name));
    return StatusResponse(account.error());
  }
  ServiceAccountClaims claims;
  claims.ns = c.info.ns;
  claims.name = sa_name;
  claims.uid = StringAt(MetaOf(*account), "uid");

  if (json::object* ref = spec.contains("boundObjectRef") && spec["boundObjectRef"].is_object()
                              ? &spec["boundObjectRef"].as_object()
                              : nullptr) {
    std::string kind = StringAt(ref, "kind");
    std::string api_version = StringAt(ref, "apiVersion");
    std::string group, version = api_version;
    if (size_t slash = api_version.find('/'); slash != std::string::npos) {
      group = api_version.substr(0, slash);
      version = api_version.substr(slash + 1);
    }
    std::string ref_name = StringAt(ref, "name");
    const char* plural = nullptr;
    if (group.empty() && kind == "Pod") plural = "pods";
    if (group.empty() && kind == "Secret") plural = "secrets";
    if (group.empty() && kind == "Node") plural = "nodes";
    if (!plural) {
      return StatusResponse(BadRequest("cannot bind token to object of type " + group + "/" +
                                       version + ", Kind=" + kind));
    }
    const ResourceInfo* target = catalogue_.Find("", "v1", plural);
    if (!target) return StatusResponse(BadRequest("cannot bind token to object of type " + kind));
    int64_t target_rev = 0;
    auto bound = Load(*target, CacheKey(*target, c.info.ns, ref_name), &target_rev);
    if (!bound) {
      if (bound.error().code() == StatusCode::kNotFound)
        return StatusResponse(NotFound(*target, ref_name));
      return StatusResponse(bound.error());
    }
    std::string uid = StringAt(MetaOf(*bound), "uid");
    if (kind == "Pod") {
      const json::object* pod_spec = ObjectAt(&*bound, "spec");
      std::string pod_account = StringAt(pod_spec, "serviceAccountName");
      if (pod_account != sa_name) {
        return StatusResponse(BadRequest("cannot bind token for serviceaccount \"" + sa_name +
                                         "\" to pod running with serviceaccount \"" + pod_account +
                                         "\""));
      }
      // A scheduled pod's token names its node too.
      if (std::string node = StringAt(pod_spec, "nodeName"); !node.empty()) {
        if (auto n = CachedCoreObject("nodes", "", node)) {
          const json::object* node_meta =
              n->is_object() ? ObjectAt(&n->as_object(), "metadata") : nullptr;
          claims.node = BoundObject{"Node", node, StringAt(node_meta, "uid")};
        }
      }
    }
    if (std::string want = StringAt(ref, "uid"); !want.empty() && want != uid) {
      Status s(StatusCode::kConflict,
               "Operation cannot be fulfilled on " + kind + " \"" + ref_name +
                   "\": the UID in the bound object reference (" + want +
                   ") does not match the UID in record (" + uid +
                   "). The object might have been deleted and then recreated");
      s.SetDetails("", kind, ref_name);
      return StatusResponse(s);
    }
    claims.bound = BoundObject{kind, ref_name, uid};
  }

  json::value& audiences = spec["audiences"];
  if (!audiences.is_array() || audiences.as_array().empty())
    audiences = json::array{json::value(tokens_->issuer())};
  for (const auto& a : audiences.as_array()) {
    if (a.is_string()) claims.audiences.emplace_back(a.as_string());
  }
  claims.issued_at =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  claims.expiry = claims.issued_at + std::chrono::seconds(expiration);
  claims.id = NewUuid();
  auto token = tokens_->Issue(claims);
  if (!token) return StatusResponse(token.error());
  out["status"] = json::object{{"token", std::move(*token)},
                               {"expirationTimestamp", FormatRfc3339(claims.expiry)}};
  (*meta)["creationTimestamp"] = nullptr;
  return ObjectResponse(201, std::move(request), c.out.format);
}

// The Priority admission plugin for pods: spec.priority (and preemptionPolicy) come from
// the PriorityClass the pod names, else from the global default class, else 0 and
// PreemptLowerPriority.
Status ResourceHandler::AdmitPodPriority(json::object& pod) {
  json::value& spec_value = pod["spec"];
  if (!spec_value.is_object()) spec_value = json::object();
  json::object& spec = spec_value.as_object();
  std::string pod_name = StringAt(MetaOf(pod), "name");
  auto forbidden = [&](const std::string& why) {
    Status s(StatusCode::kForbidden, "pods \"" + pod_name + "\" is forbidden: " + why);
    s.SetDetails("", "pods", pod_name);
    return s;
  };
  std::string class_name = StringAt(&spec, "priorityClassName");
  int64_t priority = 0;
  std::string policy = "PreemptLowerPriority";
  const ResourceInfo* pcr = catalogue_.Find("scheduling.k8s.io", "v1", "priorityclasses");
  WatchCache* cache = pcr ? CacheFor(*pcr) : nullptr;
  if (cache) {
    auto current = store_.CurrentRevision();
    if (current) cache->WaitUntilFresh(*current, kFreshnessTimeout);
  }
  auto apply_class = [&](const json::object& pc) {
    priority = 0;
    if (auto* v = pc.if_contains("value"); v && v->is_int64()) priority = v->as_int64();
    policy = StringAt(&pc, "preemptionPolicy");
  };
  if (class_name.empty()) {
    if (cache) {
      for (const auto& item : cache->List(ObjectFilter{}, "", 0, nullptr, nullptr)) {
        const json::object* pc = item->object->if_object();
        const json::value* d = pc ? pc->if_contains("globalDefault") : nullptr;
        if (!d || !d->is_bool() || !d->as_bool()) continue;
        apply_class(*pc);
        spec["priorityClassName"] = item->name;
        break;
      }
    }
  } else {
    CachedObjectPtr pc = cache ? cache->Get(class_name, nullptr) : nullptr;
    const json::object* pc_obj = pc ? pc->object->if_object() : nullptr;
    if (!pc_obj) return forbidden("no PriorityClass with name " + class_name + " was found");
    apply_class(*pc_obj);
  }
  if (auto* given = spec.if_contains("priority");
      given && given->is_int64() && given->as_int64() != priority) {
    return forbidden("the integer value of priority (" + std::to_string(given->as_int64()) +
                     ") must not be provided in pod spec; priority admission controller computed " +
                     std::to_string(priority) + " from the given PriorityClass name");
  }
  spec["priority"] = priority;
  if (!policy.empty()) {
    std::string given = StringAt(&spec, "preemptionPolicy");
    if (!given.empty() && given != policy) {
      return forbidden("the string value of PreemptionPolicy (" + given +
                       ") must not be provided in pod spec; priority admission controller "
                       "computed " +
                       policy + " from the given PriorityClass name");
    }
    spec["preemptionPolicy"] = policy;
  }
  return Status::Ok();
}

// Updates keep the priority admission set on create when the client leaves it out.
void ResourceHandler::KeepPodPriority(json::object& pod, const json::object& old) {
  const json::value* old_spec = old.if_contains("spec");
  json::value* spec = pod.if_contains("spec");
  if (!old_spec || !old_spec->is_object() || !spec || !spec->is_object()) return;
  for (const char* field : {"priority", "preemptionPolicy"}) {
    const json::value* before = old_spec->as_object().if_contains(field);
    if (before && !spec->as_object().contains(field)) spec->as_object()[field] = *before;
  }
}

// The Priority admission plugin: at most one PriorityClass may be the global default.
Status ResourceHandler::CheckSingleDefaultPriorityClass(const ResourceInfo& r,
                                                        const json::object& obj) {
  if (r.group() != "scheduling.k8s.io" || r.plural() != "priorityclasses") return Status::Ok();
  const json::value* global_default = obj.if_contains("globalDefault");
  if (!global_default || !global_default->is_bool() || !global_default->as_bool()) {
    return Status::Ok();
  }
  WatchCache* cache = CacheFor(r);
  if (!cache) return Status::Ok();
  auto current = store_.CurrentRevision();
  if (current) cache->WaitUntilFresh(*current, kFreshnessTimeout);
  std::string name = StringAt(MetaOf(obj), "name");
  for (const auto& item : cache->List(ObjectFilter{}, "", 0, nullptr, nullptr)) {
    const json::object* other = item->object->if_object();
    if (!other || item->name == name) continue;
    const json::value* d = other->if_contains("globalDefault");
    if (!d || !d->is_bool() || !d->as_bool()) continue;
    Status s(StatusCode::kForbidden, QualifiedResource(r) + " \"" + name +
                                         "\" is forbidden: PriorityClass " + item->name +
                                         " is already marked as default. Only one default can "
                                         "exist");
    s.SetDetails(r.group(), r.plural(), name);
    return s;
  }
  return Status::Ok();
}

Status ResourceHandler::EnsureSystemPriorityClasses() {
  struct SystemClass {
    const char* name;
    int64_t value;
    const char* description;
  };
  static const SystemClass kClasses[] = {
      {"system-node-critical", 2000001000,
       "Used for system critical pods that must not be moved from their current node."},
      {"system-cluster-critical", 2000000000,
       "Used for system critical pods that must run in the cluster, but can be moved to "
       "another node if necessary."},
  };
  for (const SystemClass& pc : kClasses) {
    json::object obj{{"apiVersion", "scheduling.k8s.io/v1"},
                     {"kind", "PriorityClass"},
                     {"metadata", json::object{{"name", pc.name}}},
                     {"value", pc.value},
                     {"description", pc.description}};
    HttpResponse r = InternalRequest("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", obj);
    if (r.status != 201 && r.status != 409) {
      return Status(StatusCode::kInternal,
                    std::string("cannot create PriorityClass ") + pc.name + ": " + r.body);
    }
  }
  return Status::Ok();
}

}  // namespace skiff
