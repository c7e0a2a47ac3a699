// ResourceHandler: the REST verbs on resources (get, list, watch, create, update,
// patch, delete, deletecollection) and their subresources (status, scale).
// Thread safety: all methods are thread-safe.
#pragma once

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
struct ApiServerOptions;

class ResourceHandler {
 public:
  // Custom resources are added to and removed from `catalogue` as their definitions
  // change.
  ResourceHandler(const ApiServerOptions& options, api::Catalogue& catalogue, Store& store);
  ~ResourceHandler();

  // Creates and loads a watch cache for every resource, serves the custom resources of
  // the stored definitions and starts following definition changes.
  Status Start();
  // Ends every watch and stops the caches.
  void Stop();

  HttpResponse Handle(const HttpRequest& req, const RequestInfo& info);

  // Decodes a create request's body (JSON, YAML or protobuf) into the resource's object,
  // with field validation as requested. Used for reviews the server answers itself.
  Result<boost::json::object> DecodeCreateBody(const HttpRequest& req, const RequestInfo& info,
                                               std::vector<std::string>* warnings);

  // Periodic work: bookmarks and watch timeouts; finalizes terminating namespaces.
  void Tick();

  // Creates a namespace if it does not exist (used at start-up).
  Status EnsureNamespace(const std::string& name);

  // Creates the `kubernetes` Service in `default` (the first address of the service
  // range, port 443) if missing, and points its Endpoints at host:port.
  Status PublishKubernetesService(const std::string& host, int port);

 private:
  struct Ctx;
  struct WatchSession;

  HttpResponse Get(Ctx& c);
  HttpResponse List(Ctx& c);
  HttpResponse Watch(Ctx& c);
  HttpResponse Create(Ctx& c);
  HttpResponse Update(Ctx& c);
  HttpResponse Patch(Ctx& c);
  HttpResponse Delete(Ctx& c);
  HttpResponse DeleteCollection(Ctx& c);

  // Reads the current stored object.
  Result<boost::json::object> Load(const api::ResourceInfo& r, const std::string& key,
                                   int64_t* revision);
  // Shared tail of update and patch: validate `obj` against `old` and store it.
  Result<std::string> StoreUpdate(Ctx& c, boost::json::object obj, const boost::json::object& old,
                                  int64_t old_revision, bool* conflict);
  // Deletes one object (finalizers and graceful deletion honoured); returns the response body.
  Result<std::string> DeleteOne(Ctx& c, const std::string& name,
                                const boost::json::object* options);

  Status CheckNamespaceWritable(const std::string& ns);
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
  std::unique_ptr<ServiceAllocator> services_;

  void OnStoreBatch(WatchBatch&& batch);

  // Caches of built-in resources are created by Start(), those of custom resources as
  // their definitions appear; a cache lives as long as the handler (requests and
  // watches in flight keep pointers to it).
  mutable std::shared_mutex caches_mu_;
  std::map<const api::ResourceInfo*, std::unique_ptr<WatchCache>> caches_;  // by caches_mu_
  // One store watch over every resource feeds all caches, so each cache knows it is
  // fresh up to the store's latest revision even when its own resource did not change.
  std::unique_ptr<StoreWatch> store_watch_;

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
