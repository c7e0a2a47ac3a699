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
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apiserver/authn.h"
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
class ServiceAccountTokenIssuer;

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
  // The ECDSA P-256 private key (PEM) that signs service account tokens; empty: the
  // server issues none (serviceaccounts/token answers 404) and accepts none.
  std::string service_account_key_pem;
  // The `iss` of the tokens it issues, and their default audience.
  std::string service_account_issuer = "https://kubernetes.default.svc.cluster.local";
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

  // Errors: kInvalid when options.service_account_key_pem is set and does not parse (the
  // server then issues and accepts no service account tokens).
  Status init_status() const { return init_status_; }

  // Loads the watch caches, creates the built-in namespaces if missing and starts the
  // background work (watch bookmarks and timeouts, namespace finalization).
  Status Start();
  // Publishes where the API is served: the `kubernetes` Service and its Endpoints.
  Status PublishEndpoint(const std::string& host, int port);

  // Stops background work and ends every watch. Idempotent.
  void Stop();

  // Serves one request. Answers of 128 KiB or more go gzip-compressed to clients whose
  // Accept-Encoding allows it, as kube-apiserver does.
  HttpResponse Handle(HttpRequest&& request);

  bool ready() const { return ready_.load(); }

 private:
  // Handle without the final compression; `gzip`: the client accepts gzip (documents
  // then come compressed from their cache).
  HttpResponse Route(HttpRequest&& req, bool gzip);
  HttpResponse HandleNonResource(const HttpRequest& req, bool gzip);
  // Authenticates `token` as a service account token of this server valid for one of
  // `audiences`; `*valid_for` receives those audiences. std::nullopt when `token` is not
  // one of this server's tokens. Errors: kUnauthorized with the reason it is invalid.
  Result<std::optional<UserInfo>> AuthenticateServiceAccount(
      std::string_view token, const std::vector<std::string>& audiences,
      std::vector<std::string>* valid_for) const;
  // The request's user: a service account token first, then `authenticator_`.
  Result<std::optional<UserInfo>> Authenticate(const HttpRequest& req) const;
  // POST tokenreviews: authenticates spec.token with the server's authenticator.
  HttpResponse HandleTokenReview(const HttpRequest& req, const struct RequestInfo& info);
  HttpResponse HandleAccessReview(const HttpRequest& req, const struct RequestInfo& info,
                                  const struct UserInfo& requester);
  void BackgroundLoop();

  const ApiServerOptions options_;
  api::Catalogue& catalogue_;
  const Authenticator& authenticator_;
  const Authorizer& authorizer_;
  Status init_status_;                                 // constant after construction
  std::unique_ptr<ServiceAccountTokenIssuer> tokens_;  // constant after construction; may be null
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
