// The HTTP exchange as plain values, so request handling is a pure function of the
// request and can be tested without sockets. The HTTPS transport (https_server.h)
// parses the wire into an HttpRequest and writes an HttpResponse back.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skiff {

// Compares header names case-insensitively.
struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};

// Identity proven by a client certificate that chains to the cluster CA.
struct PeerCertificate {
  std::string common_name;                 // subject CN: the user name
  std::vector<std::string> organizations;  // subject O entries: the groups
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/api/v1/pods?watch=1"
  std::string path;    // percent-decoded path, e.g. "/api/v1/pods"
  // Percent-decoded query parameters in order; a key may repeat.
  std::vector<std::pair<std::string, std::string>> query;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::optional<PeerCertificate> peer;
  std::string remote_address;
  // Set when the transport calls the handler on a connection thread, where it must not
  // block (no waiting on the datastore or on other threads). A handler that would have
  // to block answers a response with `would_block` set, leaving the request untouched;
  // the transport then calls it again on a worker thread with this flag cleared.
  bool non_blocking = false;

  // First value of query parameter `key`, if present.
  std::optional<std::string_view> Query(std::string_view key) const;
  // Value of header `name`, or "" when absent.
  std::string_view Header(std::string_view name) const;
};

// Fills `request.path` (percent-decoded) and `request.query` from a request target
// ("/api/v1/pods?watch=1&labelSelector=a%3Db"), leniently for what Boost.URL rejects.
void ParseRequestTarget(std::string_view target, HttpRequest& request);

// A response body streamed in chunks (watch). Write and Close may be called from any
// thread; they never block. Thread-safe.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Queues `chunk` to be sent as one HTTP chunk. Returns false once the client is gone
  // or the stream was closed (the chunk is dropped).
  virtual bool Write(std::string chunk) = 0;
  // Ends the response with the terminating chunk. Idempotent.
  virtual void Close() = 0;
  // Bytes queued and not yet written to the socket.
  virtual size_t PendingBytes() const = 0;
  // True once the client disconnected or Close was called.
  virtual bool Closed() const = 0;
  // Runs `callback` once, when the client disconnects or the stream is closed (at once
  // if that already happened). The callback runs on a transport thread and must not block.
  virtual void OnClose(std::function<void()> callback) = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type etc.
  std::string body;
  // When set, the transport sends the status line and headers with chunked transfer
  // encoding, then hands the stream to this function; `body` is ignored.
  std::function<void(std::shared_ptr<ResponseStream>)> start_stream;
  // See HttpRequest::non_blocking.
  bool would_block = false;
  // When set, the answer comes later and `status`, `headers` and `body` are ignored: the
  // transport calls `deferred` once, on the connection's thread, with a `finish`
  // function. Whoever completes the work calls `finish` once, from any thread, with a
  // function that builds the answer; the transport runs that on the connection's thread.
  using Builder = std::function<HttpResponse()>;
  std::function<void(std::function<void(Builder)>)> deferred;

  void SetHeader(std::string name, std::string value);
};

// Handles one request. Runs on a worker thread; may block (e.g. on a storage commit).
using HttpHandler = std::function<HttpResponse(HttpRequest&&)>;

}  // namespace skiff
