// ResourceHandler: the REST verbs on resources (get, list, watch, create, update,
// patch, delete, deletecollection) and their subresources (status, scale, pods/binding,
// pods/eviction, namespaces/finalize, serviceaccounts/token).
// Thread safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/fwd.hpp>

#include "apiserver/http.h"
#include "apiserver/request_info.h"
#include "apiserver/watch_cache.h"
#include "base/status.h"

namespace skiff {

namespace api {
class Catalogue;
struct ResourceInfo;
}  // namespace api
class Store;
class WatchCache;
class CacheWatcher;
class ServiceAllocator;
class ServiceAccountTokenIssuer;
struct ApiServerOptions;

class ResourceHandler {
 public:
  // `store` holds every resource; when `events_store` is given, core/v1 Events
  // (/registry/events/) live there instead (kube-apiserver's --etcd-servers-overrides).
  // Custom resources are added to and removed from `catalogue` as their definitions
  // change. `tokens`, when given, issues the tokens of serviceaccounts/token (else that
  // subresource answers 404); it must outlive the handler.
  ResourceHandler(const ApiServerOptions& options, api::Catalogue& catalogue, Store& store,
                  Store* events_store = nullptr, const ServiceAccountTokenIssuer* tokens = nullptr);
  ~ResourceHandler();

  // Creates and loads a watch cache for every resource, starts following each store,
  // serves the custom resources of the stored definitions and starts following definition
  // changes.
  Status Start();

  // Whether every store answers and every cache follows its store. Blocks for at most
  // the stores' request deadline.
  Status Health();

  // The stores this handler uses (the main store first).
  std::vector<Store*> stores() const;
  // Ends every watch and stops the caches.
  void Stop();

  HttpResponse Handle(const HttpRequest& req, const RequestInfo& info);

  // Decodes a create request's body (JSON, YAML or protobuf) into the resource's object,
  // with field validation as requested. Used for reviews the server answers itself.
  Result<boost::json::object> DecodeCreateBody(const HttpRequest& req, const RequestInfo& info,
                                               std::vector<std::string>* warnings);

  // The cached object `name` (in `ns`, empty for cluster-scoped kinds) of the core/v1
  // resource `plural`, or nullptr when the cache does not hold it. Never waits: used to
  // check what a service account token names on every request that carries one.
  std::shared_ptr<const boost::json::value> CachedCoreObject(std::string_view plural,
                                                             const std::string& ns,
                                                             const std::string& name);

  // Periodic work: re-synchronises caches whose store watch was lost; bookmarks and
  // watch timeouts; finalizes terminating namespaces.
  void Tick();

  // Creates a namespace if it does not exist (used at start-up).
  Status EnsureNamespace(const std::string& name);

  // Creates the built-in PriorityClasses system-cluster-critical and system-node-critical
  // if missing.
  Status EnsureSystemPriorityClasses();

  // Creates the `kubernetes` Service in `default` (the first address of the service
  // range, port 443) if missing, and points its Endpoints at host:port.
  Status PublishKubernetesService(const std::string& host, int port);

 private:
  struct Ctx;
  struct WatchSession;

  // For a consistent read: waits until `cache` has caught up with the store. Returns a
  // response to answer instead (an error, or would_block for a non-blocking request).
  std::optional<HttpResponse> CatchUp(const HttpRequest& req, Store& store, WatchCache& cache);
  HttpResponse Get(Ctx& c);
  HttpResponse List(Ctx& c);
  HttpResponse Watch(Ctx& c);
  HttpResponse Create(Ctx& c);
  HttpResponse Update(Ctx& c);
  HttpResponse Patch(Ctx& c);
  HttpResponse Delete(Ctx& c);
  HttpResponse DeleteCollection(Ctx& c);
  // pods/binding: sets spec.nodeName of an unassigned pod (the scheduler's bind).
  HttpResponse Bind(Ctx& c);
  // pods/eviction: deletes the pod unless a PodDisruptionBudget covering it forbids it.
  HttpResponse Evict(Ctx& c);
  // serviceaccounts/token: issues a service account token (TokenRequest).
  HttpResponse RequestToken(Ctx& c);

  // Reads the current stored object.
  Result<boost::json::object> Load(const api::ResourceInfo& r, const std::string& key,
                                   int64_t* revision);
  // Shared tail of update and patch: validate `obj` against `old` and store it.
  Result<std::string> StoreUpdate(Ctx& c, boost::json::object obj, const boost::json::object& old,
                                  int64_t old_revision, bool* conflict);
  // Deletes one object (finalizers and graceful deletion honoured); returns the response body.
  Result<std::string> DeleteOne(Ctx& c, const std::string& name,
                                const boost::json::object* options);

  // With `non_blocking`, a namespace the cache does not know yet sets *would_block
  // instead of waiting for the cache.
  Status CheckNamespaceWritable(const std::string& ns, bool non_blocking = false,
                                bool* would_block = nullptr);
  // Priority admission of a new pod: spec.priority and preemptionPolicy from its class.
  Status AdmitPodPriority(boost::json::object& pod);
  // Keeps the admitted priority of a pod an update leaves out.
  static void KeepPodPriority(boost::json::object& pod, const boost::json::object& old);
  // Forbidden when `obj` is a PriorityClass marked globalDefault while another one is.
  Status CheckSingleDefaultPriorityClass(const api::ResourceInfo& r,
                                         const boost::json::object& obj);
  Result<ObjectFilter> MakeFilter(const Ctx& c);
  Result<boost::json::object> DecodeObject(Ctx& c, boost::json::value body,
                                           const std::vector<std::string>& duplicates);
  static boost::json::object BuildTable(const api::ResourceInfo& r,
                                        const std::vector<CachedObjectPtr>& items,
                                        const HttpRequest& req, int64_t revision,
                                        const std::string& continue_token);
  WatchCache* CacheFor(const api::ResourceInfo& r);
  void FinalizeNamespaces();
  // Ensures the objects every namespace has: the `default` ServiceAccount and the
  // `kube-root-ca.crt` ConfigMap.
  void PopulateNamespaces();
  // Runs a request through the normal path on behalf of the server itself.
  HttpResponse InternalRequest(const std::string& method, const std::string& path,
                               const boost::json::object& body);

  // One store and the caches it feeds: a single watch over the store's prefix feeds all
  // of them, so each cache knows it is fresh up to that store's latest revision even when
  // its own resource did not change. Revisions of different stores are never compared.
  struct Feed {
    Store* store = nullptr;
    std::string prefix;                                       // what the watch covers
    std::vector<std::pair<std::string, WatchCache*>> caches;  // by key prefix
    std::mutex mu;
    std::unique_ptr<StoreWatch> watch;  // protected by mu
    std::atomic<bool> lost{false};      // the watch ended: re-list and watch again
  };
  // The store holding resource `r`.
  Store& StoreFor(const api::ResourceInfo& r);
  // Loads every cache of `feed` and starts its watch. Errors: the store's.
  Status Follow(Feed& feed);
  void OnStoreBatch(Feed& feed, WatchBatch&& batch);
  // --- custom resources (crd_registrar.cpp) ---
  // Brings the catalogue in line with the stored CustomResourceDefinitions: serves new
  // and changed ones, reports their conditions, and for a deleted one deletes its
  // custom resources, then lets the definition go.
  void SyncCustomResources();
  // Deletes what a terminating definition serves; true once nothing is left.
  bool CleanUpCustomResources(const boost::json::object& definition);
  // Writes the definition's status if it differs from the stored one.
  void UpdateDefinitionStatus(const std::string& name, const boost::json::object& status);
  // True while the definition of custom resource `r` is being deleted.
  bool DefinitionTerminating(const api::ResourceInfo& r);
  // The watch cache of `r`'s storage, created (and loaded) if it does not exist yet.
  Result<WatchCache*> EnsureCache(const api::ResourceInfo& r);
  void DefinitionLoop();

  const ApiServerOptions& options_;
  api::Catalogue& catalogue_;
  Store& store_;
  Store* const events_store_;                      // may be null
  const ServiceAccountTokenIssuer* const tokens_;  // may be null
  std::unique_ptr<ServiceAllocator> services_;

  // Caches of built-in resources are created by Start(), those of custom resources as
  // their definitions appear; a cache lives as long as the handler (requests and
  // watches in flight keep pointers to it). `caches_` and every feed's `caches` are
  // protected by caches_mu_.
  mutable std::shared_mutex caches_mu_;
  std::map<const api::ResourceInfo*, std::unique_ptr<WatchCache>> caches_;
  std::vector<std::unique_ptr<Feed>> feeds_;  // set by Start()
  // Used by Tick only.
  std::chrono::steady_clock::time_point next_allocation_repair_{};

  std::mutex watches_mu_;
  std::vector<std::shared_ptr<WatchSession>> watches_;  // protected by watches_mu_

  // Definition changes wake the registrar thread.
  std::mutex crd_mu_;
  std::condition_variable crd_cv_;
  bool crd_dirty_ = false;     // protected by crd_mu_
  bool crd_stopping_ = false;  // protected by crd_mu_
  std::mutex crd_sync_mu_;     // one SyncCustomResources at a time
  // Definition name -> "uid/generation" of the definition its served resources come from.
  std::map<std::string, std::string> crd_registered_;  // protected by crd_sync_mu_
  std::thread crd_thread_;
};

}  // namespace skiff
