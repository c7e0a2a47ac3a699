// HttpsServer: the API server's HTTPS transport (HTTP/1.1 over TLS 1.2+).
//
// It parses requests off the wire into HttpRequest values, runs the HttpHandler on a
// pool of worker threads (handlers may block, e.g. on a storage commit) and writes the
// HttpResponse back, keeping connections alive between requests. A response with
// start_stream set is sent with chunked transfer encoding; its ResponseStream may be
// written from any thread and learns when the client goes away.
//
// TLS: ALPN offers only "http/1.1", so clients that also offer h2 (kubectl) speak
// HTTP/1.1. When a client CA is configured, client certificates are requested but not
// required; a certificate that chains to the CA fills HttpRequest::peer, any other
// certificate is ignored (the request is then anonymous).
//
// Limits: a body larger than max_body_bytes is answered with 413 and the connection is
// closed; a malformed request with 400; headers over max_header_bytes with 431. Every
// read and write has a deadline.
//
// Thread safety: Start, port and ActiveConnections may be called from any thread; Stop
// and the destructor must not be called from a handler or a stream callback.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "apiserver/http.h"
#include "base/status.h"

namespace skiff {

struct HttpsServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 6443;  // 0 = pick a free port; see HttpsServer::port()

  // The serving certificate (chain) and its key: PEM files, or PEM text when the file
  // names are empty.
  std::string cert_file;
  std::string key_file;
  std::string cert_pem;
  std::string key_pem;

  // CA bundle that client certificates must chain to: a PEM file, or PEM text when the
  // file name is empty. Both empty = client certificates are not requested.
  std::string client_ca_file;
  std::string client_ca_pem;

  int worker_threads = 8;  // run handlers
  int io_threads = 1;      // run TLS and HTTP parsing
  // GET, HEAD and POST requests are first offered to the handler on the connection's
  // thread (HttpRequest::non_blocking), which spares the hand-off to a worker for reads
  // answered from memory and for creates the datastore queues (HttpResponse::deferred).
  bool try_on_io_threads = true;

  size_t max_body_bytes = 3 * 1024 * 1024;
  size_t max_header_bytes = 1024 * 1024;

  // A kept-alive connection waiting for its next request is closed after this long.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(90);
  // Deadline for the TLS handshake, for reading one request once its headers are in,
  // and for each write.
  std::chrono::milliseconds io_timeout = std::chrono::seconds(60);
};

class HttpsServer {
 public:
  // Binds and listens, then serves `handler` until Stop. Errors: kInvalid for unusable
  // certificates, keys or CA; kInternal when the address cannot be bound.
  static Result<std::unique_ptr<HttpsServer>> Start(HttpsServerOptions options,
                                                    HttpHandler handler);

  // Stops (see Stop).
  ~HttpsServer();

  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // The port actually bound (the chosen one when options.port was 0).
  uint16_t port() const;

  // Connections currently open.
  size_t ActiveConnections() const;

  // Stops accepting, closes every connection (streams see their client go away and run
  // their OnClose callbacks), waits for running handlers to return and joins all
  // threads. Idempotent.
  void Stop();

 private:
  class Impl;
  explicit HttpsServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff
