// Client: how control loops talk to the Kubernetes API (client-go's rest.Interface).
//
// Two implementations honour the same API semantics: InProcessClient (inside
// `skiff server`, through the API server's whole request path: authentication,
// admission, validation, storage) and, for agents, an HTTPS client. Requests are the
// Kubernetes REST paths; the typed helpers parse answers and turn error answers back
// into their Status (reason, message), so callers branch on StatusCode::kNotFound,
// kConflict, kAlreadyExists as client-go callers do on apierrors.
//
// Thread safety: implementations may be called concurrently from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "base/status.h"

namespace skiff {

// A resource collection: group ("" for core), version and plural.
struct ResourcePath {
  std::string group;
  std::string version;
  std::string resource;

  // "/api/v1/namespaces/NS/pods", "/apis/apps/v1/deployments" (ns empty: all namespaces
  // or a cluster-scoped resource).
  std::string Collection(std::string_view ns) const;
  // The collection path plus "/NAME[/SUBRESOURCE]".
  std::string Item(std::string_view ns, std::string_view name,
                   std::string_view subresource = {}) const;
};

// One answer: HTTP status and body (JSON for every API answer).
struct ClientResponse {
  int status = 0;
  std::string body;
};

// The events of one watch, one JSON watch event ({"type":..,"object":..}) per line.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Blocks for the next event line; std::nullopt once the watch has ended (the server
  // closed it or Stop was called).
  virtual std::optional<std::string> Next() = 0;
  // Ends the watch; a blocked Next returns std::nullopt. Idempotent, any thread.
  virtual void Stop() = 0;
};

class Client {
 public:
  virtual ~Client() = default;

  // Sends one request (`target` is a path with its query). Errors: only a failure to get
  // an answer at all (kServiceUnavailable); HTTP errors are answers.
  virtual Result<ClientResponse> Do(std::string_view method, std::string_view target,
                                    std::string_view body = {},
                                    std::string_view content_type = "application/json") = 0;
  // Opens a watch: `target` must carry watch=true. Errors: the Status of an error answer
  // (e.g. kGone for a compacted resourceVersion), or a transport failure.
  virtual Result<std::unique_ptr<WatchStream>> Watch(std::string_view target) = 0;

  // Typed helpers on Do. Each returns the answer's object, or the Status the server
  // answered with (its reason mapped back to a StatusCode, its message kept).
  Result<boost::json::object> Get(const ResourcePath& r, std::string_view ns,
                                  std::string_view name);
  // `query` without '?', e.g. "labelSelector=app%3Dweb&limit=500".
  Result<boost::json::object> List(const ResourcePath& r, std::string_view ns,
                                   std::string_view query = {});
  Result<boost::json::object> Create(const ResourcePath& r, std::string_view ns,
                                     const boost::json::object& obj);
  // PUT of `obj` (named by its metadata.name), optionally to a subresource ("status").
  Result<boost::json::object> Update(const ResourcePath& r, std::string_view ns,
                                     const boost::json::object& obj,
                                     std::string_view subresource = {});
  // PATCH with `content_type` ("application/merge-patch+json", ...).
  Result<boost::json::object> Patch(const ResourcePath& r, std::string_view ns,
                                    std::string_view name, std::string_view content_type,
                                    std::string_view patch, std::string_view subresource = {});
  // DELETE, with DeleteOptions when given (propagationPolicy, preconditions, ...).
  Status Delete(const ResourcePath& r, std::string_view ns, std::string_view name,
                const boost::json::object* options = nullptr);
  // POST to a subresource (pods/binding, pods/eviction): the answer's object.
  Result<boost::json::object> CreateSubresource(const ResourcePath& r, std::string_view ns,
                                                std::string_view name, std::string_view subresource,
                                                const boost::json::object& body);
};

// The Status an error answer carries (a metav1.Status body, else the HTTP code alone).
Status StatusFromResponse(const ClientResponse& response);

// Percent-encodes a query parameter value.
std::string QueryEscape(std::string_view value);

}  // namespace skiff
