#include "apiserver/https_server.h"

#include "base/log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace skiff {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

constexpr auto kNoDeadline = SteadyClock::time_point::max();
// Bodies up to this size are copied behind the headers so the response leaves in one
// write (one TLS record); larger ones are written separately.
constexpr size_t kCoalesceBodyBytes = 16 * 1024;
// Bytes a client may send while its streamed response is running (it should send none);
// beyond this the connection is dropped.
constexpr size_t kMaxBytesWhileStreaming = 64 * 1024;
// After rejecting a request we read and discard what the client still sends, so that
// closing the socket does not reset the connection before the client read our answer.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 64 * 1024 * 1024;
// TLS 1.2 suites: forward-secret AEAD only, as Go's crypto/tls prefers.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          std::array<char, 8> buf{};
          std::snprintf(buf.data(), buf.size(), "\\u%04x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf.data();
        } else {
          out += c;
        }
    }
  }
  return out;
}

// A metav1.Status failure body, as the Kubernetes API server sends for transport errors.
HttpResponse StatusResponse(int code, std::string_view reason, std::string_view message) {
  HttpResponse response;
  response.status = code;
  response.SetHeader("Content-Type", "application/json");
  response.body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
      JsonEscape(message) + R"(","reason":")" + std::string(reason) + R"(","code":)" +
      std::to_string(code) + "}\n";
  return response;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void AppendHeaderValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  }
}

// A status code that cannot go on the wire is a handler bug; answer 500 rather than
// something a client would misread.
int WireStatus(int status) { return status >= 100 && status <= 999 ? status : 500; }

void AppendSize(std::string& out, size_t n, int base) {
  std::array<char, 24> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), n, base);
  out.append(buf.data(), end);
}

// Appends the status line and headers of `response`. With `chunked` the body follows
// as HTTP chunks; otherwise Content-Length is `content_length` when set.
void AppendHead(std::string& out, const HttpResponse& response, bool keep_alive, bool chunked,
                std::optional<size_t> content_length) {
  out += "HTTP/1.1 ";
  const int code = WireStatus(response.status);
  AppendSize(out, static_cast<size_t>(code), 10);
  out += ' ';
  http::status status = http::int_to_status(static_cast<unsigned>(code));
  if (status != http::status::unknown) {
    beast::string_view reason = http::obsolete_reason(status);
    out.append(reason.data(), reason.size());
  }
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) continue;
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection")) {
      continue;
    }
    out += name;
    out += ": ";
    AppendHeaderValue(out, value);
    out += "\r\n";
  }
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (content_length) {
    out += "Content-Length: ";
    AppendSize(out, *content_length, 10);
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
}

bool WantsClose(const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "Connection") && EqualsIgnoreCase(value, "close")) return true;
  }
  return false;
}

std::string Asn1ToUtf8(const ASN1_STRING* str) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, str);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

// The identity of a client certificate that passed verification against the client CA.
std::optional<PeerCertificate> VerifiedPeer(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  PeerCertificate peer;
  const X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    if (nid == NID_commonName && peer.common_name.empty()) {
      peer.common_name = Asn1ToUtf8(X509_NAME_ENTRY_get_data(entry));
    } else if (nid == NID_organizationName) {
      peer.organizations.push_back(Asn1ToUtf8(X509_NAME_ENTRY_get_data(entry)));
    }
  }
  return peer;
}

// Client certificates are requested, never required: a failed verification must not
// fail the handshake, only leave the request without an identity (see VerifiedPeer;
// OpenSSL keeps the last verification error for SSL_get_verify_result).
int ContinueDespiteVerifyError(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

int SelectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
               const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof(kHttp11), in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // The client offers no protocol we speak: carry on without ALPN (HTTP/1.1 anyway).
  return SSL_TLSEXT_ERR_NOACK;
}

std::string OpenSslError(std::string_view what) {
  std::string message(what);
  while (unsigned long err = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(err, buf.data(), buf.size());
    message += ": ";
    message += buf.data();
  }
  return message;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(StatusCode::kInvalid, "cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Trusts every certificate in `pem` for client verification and advertises their
// subjects as acceptable issuers (Go clients only send a certificate whose issuer is
// on that list).
Status LoadClientCa(SSL_CTX* ctx, std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Status(StatusCode::kInternal, OpenSslError("allocating BIO"));
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    ++count;
    X509_STORE_add_cert(store, cert);
    if (X509_NAME* name = X509_NAME_dup(X509_get_subject_name(cert)))
      sk_X509_NAME_push(names, name);
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends with a "no start line" error
  BIO_free(bio);
  if (count == 0) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return Status(StatusCode::kInvalid, "client CA bundle contains no certificate");
  }
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, ContinueDespiteVerifyError);
  return Status::Ok();
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  std::string out;
  if (endpoint.address().is_v6()) {
    out = "[" + endpoint.address().to_string() + "]";
  } else {
    out = endpoint.address().to_string();
  }
  out += ':';
  out += std::to_string(endpoint.port());
  return out;
}

class Connection;

// The ResponseStream of one streamed response. Producers on any thread queue chunks
// under mu_; the connection's coroutine takes them on its strand and writes them.
class ChunkedStream final : public ResponseStream {
 public:
  explicit ChunkedStream(std::weak_ptr<Connection> connection)
      : connection_(std::move(connection)) {}

  // ResponseStream
  bool Write(std::string chunk) override;
  void Close() override;
  size_t PendingBytes() const override;
  bool Closed() const override;
  void OnClose(std::function<void()> callback) override;

  // Transport side: everything queued so far. When there is nothing to send, the
  // writer is marked as waiting so that the next Write or Close wakes it.
  struct Batch {
    std::vector<std::string> chunks;
    size_t bytes = 0;
    bool last = false;  // send the terminating chunk after these
  };
  Batch Take();
  // `bytes` of a taken batch reached the socket.
  void Sent(size_t bytes);
  // The response is over (terminating chunk sent, or the client is gone): later
  // writes are refused and the OnClose callbacks run, once.
  void Finish();

 private:
  void WakeWriter();

  const std::weak_ptr<Connection> connection_;  // constant after construction

  mutable std::mutex mu_;
  std::vector<std::string> queue_;               // protected by mu_
  size_t pending_bytes_ = 0;                     // protected by mu_; queued or being written
  bool close_requested_ = false;                 // protected by mu_
  bool last_taken_ = false;                      // protected by mu_
  bool finished_ = false;                        // protected by mu_
  bool writer_waiting_ = false;                  // protected by mu_
  std::vector<std::function<void()>> on_close_;  // protected by mu_
};

struct HandlerOutcome {
  HttpResponse response;
  std::shared_ptr<ChunkedStream> stream;  // set for a streamed response
};

// The server proper; HttpsServer::Impl is this, under the name the header promises.
class ServerCore {
 public:
  ServerCore(HttpsServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ssl_context_(ssl::context::tls_server),
        pool_(static_cast<size_t>(std::max(1, options_.worker_threads))),
        acceptor_(asio::make_strand(io_context_)) {}

  Status Init();
  void Run();
  void Stop();

  uint16_t port() const { return port_; }
  size_t ActiveConnections() const {
    std::lock_guard lock(mu_);
    return connections_.size();
  }

  // Connection bookkeeping. Register returns false once Stop has begun.
  bool Register(const std::shared_ptr<Connection>& connection);
  void Unregister(Connection* connection);

  // Constant after Init.
  const HttpsServerOptions options_;
  const HttpHandler handler_;
  ssl::context ssl_context_;  // outlives io_context_, whose connections use it
  asio::io_context io_context_;
  asio::thread_pool pool_;  // runs handlers
  std::atomic<bool> stopping_{false};

 private:
  asio::awaitable<void> AcceptLoop();

  tcp::acceptor acceptor_;  // used on its own strand only
  uint16_t port_ = 0;       // constant after Init
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;  // protected by mu_
  bool stop_called_ = false;                                                // protected by mu_
  int io_threads_running_ = 0;                                              // protected by mu_
};

// One client connection. All members are used on the connection's strand only, except
// the constants.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& server, tcp::socket socket, std::string remote_address)
      : server_(server),
        options_(server.options_),
        executor_(socket.get_executor()),
        ssl_(std::move(socket), server.ssl_context_),
        watchdog_(executor_),
        wake_(executor_),
        remote_address_(std::move(remote_address)) {
    wake_.expires_at(SteadyClock::time_point::max());
  }

  ~Connection() {
    // Only reached without ServeStream finishing when the server was torn down with
    // the connection still pending; the stream's owner must still learn it is over.
    if (std::shared_ptr<ChunkedStream> stream = active_stream_.lock()) stream->Finish();
  }

  const asio::any_io_executor& executor() const { return executor_; }

  asio::awaitable<void> Run(std::shared_ptr<Connection> self);

  // Wakes the coroutine waiting for stream output. Any thread.
  void Wake() {
    asio::post(executor_, [self = shared_from_this()] { self->wake_.cancel(); });
  }
  // Closes the socket from any thread (server shutdown).
  void Abort() {
    asio::post(executor_, [self = shared_from_this()] { self->CloseSocket(); });
  }

  // Closes the socket and ends every pending operation. On the strand only.
  void CloseSocket() {
    if (closed_) return;
    closed_ = true;
    ErrorCode ec;
    ssl_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    ssl_.lowest_layer().close(ec);
    watchdog_.cancel();
    wake_.cancel();
  }

 private:
  enum class Next { kKeepAlive, kClose, kAbort };

  asio::awaitable<Next> ServeOne();
  asio::awaitable<Next> Reject(ErrorCode ec);
  // Waits for the answer of a deferred response (HttpResponse::deferred) and builds it.
  asio::awaitable<HttpResponse> AwaitDeferred(
      std::function<void(std::function<void(HttpResponse::Builder)>)> deferred);
  asio::awaitable<Next> WriteResponse(const HttpResponse& response, bool keep_alive,
                                      bool head_request);
  asio::awaitable<Next> ServeStream(std::shared_ptr<ChunkedStream> stream,
                                    const HttpResponse& response, bool keep_alive);
  asio::awaitable<void> StreamReader(std::shared_ptr<Connection> self);
  asio::awaitable<void> Watchdog(std::shared_ptr<Connection> self);
  asio::awaitable<void> Linger();
  // Writes `first` then `second` within the I/O timeout.
  asio::awaitable<ErrorCode> WriteAll(asio::const_buffer first, asio::const_buffer second = {});

  void SetDeadline(SteadyClock::time_point deadline) {
    deadline_ = deadline;
    if (deadline < watchdog_.expiry()) watchdog_.cancel();
  }
  void SetTimeout(std::chrono::milliseconds timeout) { SetDeadline(SteadyClock::now() + timeout); }

  ServerCore& server_;
  const HttpsServerOptions& options_;
  const asio::any_io_executor executor_;  // the connection's strand
  ssl::stream<tcp::socket> ssl_;
  asio::steady_timer watchdog_;  // enforces deadline_
  asio::steady_timer wake_;      // never expires; cancelled to wake the stream writer
  beast::flat_buffer buffer_;    // bytes read and not yet parsed
  const std::string remote_address_;
  std::optional<PeerCertificate> peer_;
  SteadyClock::time_point deadline_ = kNoDeadline;
  bool closed_ = false;

  // State of a streamed response.
  bool stream_active_ = false;     // the response is still being sent
  bool reader_done_ = true;        // the stream reader has returned
  bool reader_cancelled_ = false;  // its read was cancelled on purpose
  bool peer_gone_ = false;         // the client disconnected or misbehaved
  std::weak_ptr<ChunkedStream> active_stream_;
};

bool ChunkedStream::Write(std::string chunk) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (close_requested_ || finished_) return false;
    if (chunk.empty()) return true;  // an empty chunk would end the response
    pending_bytes_ += chunk.size();
    queue_.push_back(std::move(chunk));
    wake = std::exchange(writer_waiting_, false);
  }
  if (wake) WakeWriter();
  return true;
}

void ChunkedStream::Close() {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (close_requested_ || finished_) return;
    close_requested_ = true;
    wake = std::exchange(writer_waiting_, false);
  }
  if (wake) WakeWriter();
}

size_t ChunkedStream::PendingBytes() const {
  std::lock_guard lock(mu_);
  return pending_bytes_;
}

bool ChunkedStream::Closed() const {
  std::lock_guard lock(mu_);
  return close_requested_ || finished_;
}

void ChunkedStream::OnClose(std::function<void()> callback) {
  {
    std::lock_guard lock(mu_);
    if (!finished_) {
      on_close_.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

ChunkedStream::Batch ChunkedStream::Take() {
  Batch batch;
  std::lock_guard lock(mu_);
  batch.chunks.swap(queue_);
  for (const std::string& chunk : batch.chunks) batch.bytes += chunk.size();
  if (close_requested_ && !last_taken_) {
    batch.last = true;
    last_taken_ = true;
  }
  if (batch.chunks.empty() && !batch.last) writer_waiting_ = true;
  return batch;
}

void ChunkedStream::Sent(size_t bytes) {
  std::lock_guard lock(mu_);
  pending_bytes_ -= std::min(bytes, pending_bytes_);
}

void ChunkedStream::Finish() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    pending_bytes_ = 0;
    callbacks.swap(on_close_);
  }
  for (std::function<void()>& callback : callbacks) {
    try {
      callback();
    } catch (const std::exception& e) {
      log::Warn("https", std::string("stream close callback threw error=") + e.what());
    } catch (...) {
      log::Warn("https", "stream close callback threw");
    }
  }
}

void ChunkedStream::WakeWriter() {
  // A connection that is gone has already finished this stream; nothing to wake.
  if (std::shared_ptr<Connection> connection = connection_.lock()) connection->Wake();
}

// Runs the handler on the calling thread, and start_stream right after it. A handler
// that answers `would_block` has left `request` as it was.
HandlerOutcome RunHandlerNow(const HttpHandler& handler, HttpRequest& request,
                             std::weak_ptr<Connection> connection) {
  HandlerOutcome outcome;
  try {
    outcome.response = handler(std::move(request));
  } catch (const std::exception& e) {
    log::Error("https", std::string("handler threw error=") + e.what());
    outcome.response =
        StatusResponse(500, "InternalError", "Internal error occurred: " + std::string(e.what()));
  } catch (...) {
    log::Error("https", "handler threw");
    outcome.response = StatusResponse(500, "InternalError", "Internal error occurred");
  }
  if (outcome.response.start_stream) {
    outcome.stream = std::make_shared<ChunkedStream>(std::move(connection));
    try {
      outcome.response.start_stream(outcome.stream);
    } catch (const std::exception& e) {
      log::Error("https", std::string("start_stream threw error=") + e.what());
      outcome.stream->Finish();
      outcome.stream.reset();
      outcome.response =
          StatusResponse(500, "InternalError", "Internal error occurred: " + std::string(e.what()));
    } catch (...) {
      log::Error("https", "start_stream threw");
      outcome.stream->Finish();
      outcome.stream.reset();
      outcome.response = StatusResponse(500, "InternalError", "Internal error occurred");
    }
  }
  return outcome;
}

// Runs the handler on a worker thread, so that a slow handler never holds up the
// connection threads.
asio::awaitable<HandlerOutcome> RunHandler(const HttpHandler& handler, HttpRequest request,
                                           std::weak_ptr<Connection> connection) {
  co_return RunHandlerNow(handler, request, std::move(connection));
}

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  ErrorCode ec;
  SetTimeout(options_.io_timeout);
  asio::co_spawn(executor_, Watchdog(self), asio::detached);
  co_await ssl_.async_handshake(ssl::stream_base::server,
                                asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    peer_ = VerifiedPeer(ssl_.native_handle());
    Next next = Next::kKeepAlive;
    while (next == Next::kKeepAlive && !closed_) next = co_await ServeOne();
    if (next == Next::kClose && !closed_) {
      // Send close_notify and give the client a moment to answer with its own.
      SetTimeout(std::min<std::chrono::milliseconds>(options_.io_timeout, std::chrono::seconds(2)));
      co_await ssl_.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
}

// `self` keeps the connection alive while the coroutine runs.
asio::awaitable<void> Connection::Watchdog(std::shared_ptr<Connection> /*self*/) {
  ErrorCode ec;
  while (!closed_) {
    if (deadline_ <= SteadyClock::now()) {
      CloseSocket();
      break;
    }
    watchdog_.expires_at(deadline_);
    co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<ErrorCode> Connection::WriteAll(asio::const_buffer first,
                                                asio::const_buffer second) {
  ErrorCode ec;
  const std::array<asio::const_buffer, 2> buffers{first, second};
  SetTimeout(options_.io_timeout);
  co_await asio::async_write(ssl_, buffers, asio::redirect_error(asio::use_awaitable, ec));
  SetDeadline(kNoDeadline);
  co_return ec;
}

asio::awaitable<Connection::Next> Connection::ServeOne() {
  ErrorCode ec;
  http::request_parser<http::string_body> parser;
  parser.header_limit(
      static_cast<std::uint32_t>(std::min<size_t>(options_.max_header_bytes, UINT32_MAX)));
  parser.body_limit(options_.max_body_bytes);

  SetTimeout(options_.idle_timeout);
  co_await http::async_read_header(ssl_, buffer_, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && !parser.is_done()) {
    const auto& header = parser.get();
    if (header.version() >= 11 && EqualsIgnoreCase(header[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      ec = co_await WriteAll(asio::buffer(kContinue.data(), kContinue.size()));
      if (ec) co_return Next::kAbort;
    }
    SetTimeout(options_.io_timeout);
    co_await http::async_read(ssl_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
  }
  SetDeadline(kNoDeadline);
  if (ec) co_return co_await Reject(ec);
  if (server_.stopping_.load()) co_return Next::kAbort;

  http::request<http::string_body> message = parser.release();
  const bool keep_alive = message.keep_alive();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  ParseRequestTarget(request.target, request);
  for (const auto& field : message) {
    std::string name(field.name_string());
    auto [it, inserted] = request.headers.try_emplace(std::move(name), std::string(field.value()));
    if (!inserted) {
      it->second += ", ";
      it->second.append(field.value().data(), field.value().size());
    }
  }
  request.body = std::move(message.body());
  request.peer = peer_;
  request.remote_address = remote_address_;
  const bool head_request = request.method == "HEAD";

  HandlerOutcome outcome;
  bool answered = false;
  if (options_.try_on_io_threads &&
      (head_request || request.method == "GET" || request.method == "POST")) {
    // Most reads are answered from memory: try here first, and hand the request to a
    // worker only if the handler says it would have to wait.
    request.non_blocking = true;
    outcome = RunHandlerNow(server_.handler_, request, weak_from_this());
    answered = !outcome.response.would_block;
    request.non_blocking = false;
  }
  if (!answered) {
    outcome = co_await asio::co_spawn(
        server_.pool_.get_executor(),
        RunHandler(server_.handler_, std::move(request), weak_from_this()), asio::use_awaitable);
  }
  if (outcome.response.deferred) {
    outcome.response = co_await AwaitDeferred(std::move(outcome.response.deferred));
    if (closed_) co_return Next::kAbort;
  }
  const bool keep = keep_alive && !WantsClose(outcome.response) && !server_.stopping_.load();
  if (outcome.stream)
    co_return co_await ServeStream(std::move(outcome.stream), outcome.response, keep);
  co_return co_await WriteResponse(outcome.response, keep, head_request);
}

asio::awaitable<HttpResponse> Connection::AwaitDeferred(
    std::function<void(std::function<void(HttpResponse::Builder)>)> deferred) {
  struct Outcome {
    std::mutex mu;
    HttpResponse::Builder build;  // protected by mu
    bool ready = false;           // protected by mu
  };
  auto outcome = std::make_shared<Outcome>();
  std::weak_ptr<Connection> weak = weak_from_this();
  try {
    deferred([outcome, weak](HttpResponse::Builder build) {
      {
        std::lock_guard lock(outcome->mu);
        if (outcome->ready) return;
        outcome->build = std::move(build);
        outcome->ready = true;
      }
      // The wake-up runs on this connection's strand, so it cannot slip in between the
      // check below and the wait that follows it.
      if (std::shared_ptr<Connection> self = weak.lock()) self->Wake();
    });
  } catch (const std::exception& e) {
    log::Error("https", std::string("deferred handler threw error=") + e.what());
    co_return StatusResponse(500, "InternalError",
                             "Internal error occurred: " + std::string(e.what()));
  }
  for (;;) {
    {
      std::lock_guard lock(outcome->mu);
      if (outcome->ready) break;
    }
    if (closed_) co_return StatusResponse(503, "ServiceUnavailable", "connection closed");
    ErrorCode ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  HttpResponse::Builder build;
  {
    std::lock_guard lock(outcome->mu);
    build = std::move(outcome->build);
  }
  try {
    co_return build();
  } catch (const std::exception& e) {
    log::Error("https", std::string("deferred response builder threw error=") + e.what());
    co_return StatusResponse(500, "InternalError",
                             "Internal error occurred: " + std::string(e.what()));
  }
}

asio::awaitable<Connection::Next> Connection::Reject(ErrorCode ec) {
  const auto& http_category = http::make_error_code(http::error::end_of_stream).category();
  if (closed_ || ec.category() != http_category || ec == http::error::end_of_stream ||
      ec == http::error::partial_message) {
    // The client went away, timed out or broke TLS: nobody to answer.
    co_return Next::kAbort;
  }
  HttpResponse response;
  if (ec == http::error::body_limit) {
    response = StatusResponse(
        413, "RequestEntityTooLarge",
        "Request entity too large: limit is " + std::to_string(options_.max_body_bytes));
  } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    response =
        StatusResponse(431, "RequestHeaderFieldsTooLarge", "Request header fields too large");
  } else {
    response = StatusResponse(400, "BadRequest", "Malformed HTTP request: " + ec.message());
  }
  Next next = co_await WriteResponse(response, /*keep_alive=*/false, /*head_request=*/false);
  if (next != Next::kAbort) co_await Linger();
  co_return Next::kAbort;
}

asio::awaitable<void> Connection::Linger() {
  // The answer is out; half-close so the client sees the end of it, then drain what it
  // still sends (raw TCP: it is discarded anyway) until it closes too or time is up.
  ErrorCode ec;
  ssl_.lowest_layer().shutdown(tcp::socket::shutdown_send, ec);
  SetTimeout(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime));
  std::vector<char> sink(16 * 1024);
  size_t total = 0;
  while (!closed_ && total < kLingerMaxBytes) {
    size_t n = co_await ssl_.next_layer().async_read_some(
        asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    total += n;
  }
}

asio::awaitable<Connection::Next> Connection::WriteResponse(const HttpResponse& response,
                                                            bool keep_alive, bool head_request) {
  const int status = WireStatus(response.status);
  const bool bodyless_status = (status >= 100 && status < 200) || status == 204 || status == 304;
  const bool send_body = !head_request && !bodyless_status;
  std::string head;
  head.reserve(
      256 + (send_body && response.body.size() <= kCoalesceBodyBytes ? response.body.size() : 0));
  AppendHead(head, response, keep_alive, /*chunked=*/false,
             bodyless_status ? std::nullopt : std::optional<size_t>(response.body.size()));
  asio::const_buffer body;
  if (send_body && response.body.size() <= kCoalesceBodyBytes) {
    head += response.body;
  } else if (send_body) {
    body = asio::buffer(response.body);
  }
  ErrorCode ec = co_await WriteAll(asio::buffer(head), body);
  if (ec) co_return Next::kAbort;
  co_return keep_alive ? Next::kKeepAlive : Next::kClose;
}

asio::awaitable<Connection::Next> Connection::ServeStream(std::shared_ptr<ChunkedStream> stream,
                                                          const HttpResponse& response,
                                                          bool keep_alive) {
  ErrorCode ec;
  std::string out;
  AppendHead(out, response, keep_alive, /*chunked=*/true, std::nullopt);
  if (buffer_.size() == 0) buffer_.shrink_to_fit();  // idle watches should cost little memory

  // Keep reading while the response runs: that is how a client disconnect is noticed.
  active_stream_ = stream;
  stream_active_ = true;
  reader_done_ = false;
  reader_cancelled_ = false;
  peer_gone_ = false;
  asio::co_spawn(executor_, StreamReader(shared_from_this()), asio::detached);

  bool sent_last = false;
  while (!closed_ && !peer_gone_) {
    ChunkedStream::Batch batch = stream->Take();
    for (const std::string& chunk : batch.chunks) {
      AppendSize(out, chunk.size(), 16);
      out += "\r\n";
      out += chunk;
      out += "\r\n";
    }
    if (batch.last) out += "0\r\n\r\n";
    if (out.empty()) {
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    ec = co_await WriteAll(asio::buffer(out));
    stream->Sent(batch.bytes);
    out.clear();
    if (out.capacity() > 64 * 1024) out.shrink_to_fit();
    if (ec) {
      peer_gone_ = true;
      break;
    }
    if (batch.last) {
      sent_last = true;
      break;
    }
  }
  stream_active_ = false;
  stream->Finish();
  stream.reset();
  if (!sent_last || !keep_alive || closed_ || peer_gone_) co_return Next::kAbort;

  // The response is complete; the connection stays open for the next request, which
  // the reader picks up. If it already holds the start of one, stop its read now.
  SetTimeout(options_.idle_timeout);
  if (!reader_done_ && buffer_.size() > 0) {
    reader_cancelled_ = true;
    ssl_.lowest_layer().cancel(ec);
  }
  while (!reader_done_ && !closed_)
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (closed_ || peer_gone_) co_return Next::kAbort;
  co_return Next::kKeepAlive;
}

// `self` keeps the connection alive while the coroutine runs.
asio::awaitable<void> Connection::StreamReader(std::shared_ptr<Connection> /*self*/) {
  ErrorCode ec;
  while (!closed_) {
    if (buffer_.size() >= kMaxBytesWhileStreaming) {
      peer_gone_ = true;
      break;
    }
    size_t n = co_await ssl_.async_read_some(buffer_.prepare(4096),
                                             asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!(reader_cancelled_ && ec == asio::error::operation_aborted)) peer_gone_ = true;
      break;
    }
    buffer_.commit(n);
    if (!stream_active_) break;  // the next request has begun
  }
  reader_done_ = true;
  wake_.cancel();
}

Status ServerCore::Init() {
  SSL_CTX* ctx = ssl_context_.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  // Idle connections (watches) give their TLS read/write buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Status(StatusCode::kInternal, OpenSslError("setting TLS 1.2 ciphers"));
  }
  static constexpr std::string_view kSessionContext = "skiff-apiserver";
  SSL_CTX_set_session_id_context(ctx,
                                 reinterpret_cast<const unsigned char*>(kSessionContext.data()),
                                 static_cast<unsigned>(kSessionContext.size()));
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  // Go clients keep no session cache, so TLS 1.3 tickets are mostly wasted work; one
  // still lets curl and other caching clients resume.
  SSL_CTX_set_num_tickets(ctx, 1);

  ErrorCode ec;
  if (!options_.cert_file.empty()) {
    ssl_context_.use_certificate_chain_file(options_.cert_file, ec);
  } else {
    ssl_context_.use_certificate_chain(asio::buffer(options_.cert_pem), ec);
  }
  if (ec) return Status(StatusCode::kInvalid, "loading the serving certificate: " + ec.message());
  if (!options_.key_file.empty()) {
    ssl_context_.use_private_key_file(options_.key_file, ssl::context::pem, ec);
  } else {
    ssl_context_.use_private_key(asio::buffer(options_.key_pem), ssl::context::pem, ec);
  }
  if (ec) return Status(StatusCode::kInvalid, "loading the serving key: " + ec.message());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status(StatusCode::kInvalid,
                  OpenSslError("the serving key does not match the certificate"));
  }

  if (!options_.client_ca_file.empty() || !options_.client_ca_pem.empty()) {
    std::string ca_pem = options_.client_ca_pem;
    if (!options_.client_ca_file.empty()) {
      Result<std::string> content = ReadWholeFile(options_.client_ca_file);
      if (!content) return content.error();
      ca_pem = std::move(*content);
    }
    if (Status s = LoadClientCa(ctx, ca_pem); !s.ok()) return s;
  }

  asio::ip::address address = asio::ip::make_address(options_.bind_address, ec);
  if (ec) return Status(StatusCode::kInvalid, "invalid bind address " + options_.bind_address);
  tcp::endpoint endpoint(address, options_.port);
  if (acceptor_.open(endpoint.protocol(), ec); ec) {
    return Status(StatusCode::kInternal, "socket: " + ec.message());
  }
  if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return Status(StatusCode::kInternal, "setsockopt: " + ec.message());
  }
  if (acceptor_.bind(endpoint, ec); ec) {
    return Status(StatusCode::kInternal, "bind " + options_.bind_address + ":" +
                                             std::to_string(options_.port) + ": " + ec.message());
  }
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Status(StatusCode::kInternal, "listen: " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void ServerCore::Run() {
  work_.emplace(io_context_.get_executor());
  asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::Error("https", std::string("accept loop failed error=") + ex.what());
    }
  });
  const int threads = std::max(1, options_.io_threads);
  {
    std::lock_guard lock(mu_);
    io_threads_running_ = threads;
  }
  for (int i = 0; i < threads; ++i) {
    io_threads_.emplace_back([this] {
      while (true) {
        try {
          io_context_.run();
          break;
        } catch (const std::exception& e) {
          log::Error("https", std::string("I/O thread caught error=") + e.what());
        }
      }
      std::lock_guard lock(mu_);
      --io_threads_running_;
      cv_.notify_all();
    });
  }
}

asio::awaitable<void> ServerCore::AcceptLoop() {
  asio::steady_timer backoff(acceptor_.get_executor());
  while (!stopping_.load()) {
    tcp::socket socket(asio::make_strand(io_context_));
    ErrorCode ec;
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open() || stopping_.load())
        co_return;
      // E.g. out of file descriptors: back off instead of spinning.
      log::Warn("https", "accept failed error=" + ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    socket.set_option(asio::socket_base::keep_alive(true), ec);
    // Notice dead peers of idle watches within about a minute.
    int idle = 30, interval = 10, count = 3;
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
    tcp::endpoint remote = socket.remote_endpoint(ec);
    std::string remote_address = ec ? std::string() : FormatEndpoint(remote);
    auto connection =
        std::make_shared<Connection>(*this, std::move(socket), std::move(remote_address));
    if (!Register(connection)) co_return;
    asio::co_spawn(connection->executor(), connection->Run(connection),
                   [this, connection](std::exception_ptr e) {
                     // On the connection's strand, however Run ended.
                     connection->CloseSocket();
                     Unregister(connection.get());
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       log::Error("https", std::string("connection failed error=") + ex.what());
                     } catch (...) {
                       log::Error("https", "connection failed");
                     }
                   });
  }
}

bool ServerCore::Register(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mu_);
  if (stop_called_) return false;
  connections_.emplace(connection.get(), connection);
  return true;
}

void ServerCore::Unregister(Connection* connection) {
  std::lock_guard lock(mu_);
  connections_.erase(connection);
  cv_.notify_all();
}

void ServerCore::Stop() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    if (stop_called_) return;
    stop_called_ = true;
    stopping_.store(true);
    for (auto& [ptr, weak] : connections_) {
      if (std::shared_ptr<Connection> connection = weak.lock())
        open.push_back(std::move(connection));
    }
  }
  asio::post(acceptor_.get_executor(), [this] {
    ErrorCode ec;
    acceptor_.close(ec);
  });
  for (const std::shared_ptr<Connection>& connection : open) connection->Abort();
  open.clear();
  {
    // Connections end once their running handler returns.
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [this] { return connections_.empty(); });
  }
  pool_.join();
  work_.reset();
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return io_threads_running_ == 0; });
  }
  io_context_.stop();
  for (std::thread& thread : io_threads_) thread.join();
  io_threads_.clear();
}

}  // namespace

class HttpsServer::Impl : public ServerCore {
 public:
  using ServerCore::ServerCore;
};

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() { Stop(); }

Result<std::unique_ptr<HttpsServer>> HttpsServer::Start(HttpsServerOptions options,
                                                        HttpHandler handler) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  if (Status s = impl->Init(); !s.ok()) return Err(std::move(s));
  impl->Run();
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

uint16_t HttpsServer::port() const { return impl_->port(); }

size_t HttpsServer::ActiveConnections() const { return impl_->ActiveConnections(); }

void HttpsServer::Stop() { impl_->Stop(); }

}  // namespace skiff
