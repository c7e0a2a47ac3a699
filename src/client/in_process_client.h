// InProcessClient: a Client whose requests run through the API server's request path in
// the same process (authentication as a client certificate of `user` would prove,
// authorization, admission, validation, storage), with no socket and no TLS.
//
// Thread safety: every method may be called concurrently from any thread.
#pragma once

#include <string>
#include <vector>

#include "apiserver/http.h"
#include "client/client.h"

namespace skiff {

class InProcessClient final : public Client {
 public:
  // `handler` serves every request (ApiServer::Handle) and must outlive the client.
  InProcessClient(HttpHandler handler, std::string user, std::vector<std::string> groups);

  // Client
  Result<ClientResponse> Do(std::string_view method, std::string_view target,
                            std::string_view body = {},
                            std::string_view content_type = "application/json") override;
  Result<std::unique_ptr<WatchStream>> Watch(std::string_view target) override;

 private:
  HttpRequest MakeRequest(std::string_view method, std::string_view target, std::string_view body,
                          std::string_view content_type) const;

  const HttpHandler handler_;
  const PeerCertificate identity_;
};

}  // namespace skiff
