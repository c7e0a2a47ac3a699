// HttpsClient: a Client over HTTPS to any Kubernetes API server, for processes outside
// `skiff server` (agents, hollow nodes). Keep-alive connections are pooled; each watch
// has a connection of its own. Requests are throttled by a token bucket like client-go's
// (--kube-api-qps, --kube-api-burst).
//
// Thread safety: every method may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <memory>

#include "client/client.h"
#include "client/kubeconfig.h"

namespace skiff {

struct HttpsClientOptions {
  double qps = 50;                   // sustained requests per second (<= 0: unlimited)
  int burst = 100;                   // requests allowed at once above the rate
  std::chrono::seconds timeout{30};  // per request (not for watches)
  std::string user_agent = "skiff";
};

class HttpsClient final : public Client {
 public:
  // Errors: kInvalid for TLS material that does not load, kServiceUnavailable when the
  // server's host does not resolve.
  static Result<std::unique_ptr<HttpsClient>> Create(const ClusterAccess& access,
                                                     HttpsClientOptions options = {});
  ~HttpsClient() override;

  // Client
  Result<ClientResponse> Do(std::string_view method, std::string_view target,
                            std::string_view body = {},
                            std::string_view content_type = "application/json") override;
  Result<std::unique_ptr<WatchStream>> Watch(std::string_view target) override;

 private:
  struct Impl;
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff
