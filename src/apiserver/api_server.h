// ApiServer: the Kubernetes API over HTTP, as a pure function of requests.
//
// Owns one WatchCache per resource and the request pipeline: authentication,
// authorization, routing (discovery, OpenAPI, health, resources), decoding, field
// validation, defaulting, kind strategies, storage and watch streaming.
// Thread safety: Handle() may be called concurrently from any number of threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/http.h"
#include "base/status.h"

namespace skiff {

namespace api {
class Catalogue;
struct ResourceInfo;
}  // namespace api
class Store;
class Authenticator;
class Authorizer;
class WatchCache;
class ResourceHandler;

struct ApiServerOptions {
  std::string service_cluster_ip_range = "10.43.0.0/16";
  int service_node_port_min = 30000;
  int service_node_port_max = 32767;
  // Address clients reach the server at (discovery's serverAddressByClientCIDRs).
  std::string advertise_address = "127.0.0.1:6443";
  // Longest a watch stays open without a client timeout (Kubernetes: 30-60 minutes).
  int max_watch_seconds = 1800;
  // The cluster CA certificate (PEM), published in every namespace as kube-root-ca.crt.
  std::string cluster_ca_pem;
  // History older than one interval is compacted every interval (0 = never). Several
  // servers on one store may all compact: each compacts only to a revision it saw one
  // interval earlier, and a compaction already overtaken by another is a no-op.
  int compaction_interval_seconds = 300;
  // Interval of BOOKMARK events for watchers that asked for them.
  int bookmark_interval_seconds = 60;
};

class ApiServer {
 public:
  // `events_store`, when given, holds core/v1 Events instead of `store`.
  ApiServer(ApiServerOptions options, api::Catalogue& catalogue, Store& store,
            const Authenticator& authenticator, const Authorizer& authorizer,
            Store* events_store = nullptr);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Loads the watch caches, creates the built-in namespaces if missing and starts the
  // background work (watch bookmarks and timeouts, namespace finalization).
  Status Start();
  // Publishes where the API is served: the `kubernetes` Service and its Endpoints.
  Status PublishEndpoint(const std::string& host, int port);

  // Stops background work and ends every watch. Idempotent.
  void Stop();

  // Serves one request.
  HttpResponse Handle(HttpRequest&& request);

  bool ready() const { return ready_.load(); }

 private:
  HttpResponse HandleNonResource(const HttpRequest& req);
  // POST tokenreviews: authenticates spec.token with the server's authenticator.
  HttpResponse HandleTokenReview(const HttpRequest& req, const struct RequestInfo& info);
  HttpResponse HandleAccessReview(const HttpRequest& req, const struct RequestInfo& info,
                                  const struct UserInfo& requester);
  void BackgroundLoop();

  const ApiServerOptions options_;
  api::Catalogue& catalogue_;
  const Authenticator& authenticator_;
  const Authorizer& authorizer_;
  std::unique_ptr<ResourceHandler> resources_;
  std::atomic<bool> ready_{false};

  std::mutex docs_mu_;
  std::map<std::string, std::string> docs_;  // discovery/OpenAPI documents; by docs_mu_
  uint64_t docs_generation_ = 0;             // catalogue generation of docs_; by docs_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // protected by mu_
  std::thread background_;
};

}  // namespace skiff
