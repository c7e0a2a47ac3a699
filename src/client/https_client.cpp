#include "client/https_client.h"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace skiff {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

using Stream = beast::ssl_stream<beast::tcp_stream>;

bool IsIpAddress(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// client-go's token bucket: `burst` tokens, refilled at `qps` per second.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst) : qps_(qps), burst_(std::max(1, burst)), tokens_(burst_) {}
  void Acquire() {
    if (qps_ <= 0) return;
    std::unique_lock lock(mu_);
    while (true) {
      auto now = SteadyClock::now();
      tokens_ = std::min<double>(
          burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
      last_ = now;
      if (tokens_ >= 1) {
        tokens_ -= 1;
        return;
      }
      auto wait = std::chrono::duration<double>((1 - tokens_) / qps_);
      lock.unlock();
      std::this_thread::sleep_for(wait);
      lock.lock();
    }
  }

 private:
  const double qps_;
  const int burst_;
  std::mutex mu_;
  double tokens_;                                      // protected by mu_
  SteadyClock::time_point last_ = SteadyClock::now();  // protected by mu_
};

void SetSocketTimeout(Stream& stream, std::chrono::seconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  int fd = beast::get_lowest_layer(stream).socket().native_handle();
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

struct HttpsClient::Impl {
  ClusterAccess access;
  HttpsClientOptions options;
  net::io_context io;  // sockets only; never run (every operation is synchronous)
  ssl::context tls{ssl::context::tls_client};
  tcp::resolver::results_type addresses;
  std::string authorization;
  TokenBucket limiter;

  std::mutex pool_mu;
  std::vector<std::unique_ptr<Stream>> idle;  // protected by pool_mu

  Impl(const ClusterAccess& a, HttpsClientOptions o)
      : access(a), options(std::move(o)), limiter(options.qps, options.burst) {}

  Result<std::unique_ptr<Stream>> Connect() {
    auto stream = std::make_unique<Stream>(io, tls);
    if (!IsIpAddress(access.tls_server_name))
      SSL_set_tlsext_host_name(stream->native_handle(), access.tls_server_name.c_str());
    if (access.insecure_skip_verify) {
      stream->set_verify_mode(ssl::verify_none);
    } else {
      stream->set_verify_mode(ssl::verify_peer);
      stream->set_verify_callback(ssl::host_name_verification(access.tls_server_name));
    }
    boost::system::error_code ec;
    net::connect(beast::get_lowest_layer(*stream).socket(), addresses, ec);
    if (ec)
      return Err(StatusCode::kServiceUnavailable,
                 "connect to " + access.server + ": " + ec.message());
    SetSocketTimeout(*stream, options.timeout);
    beast::get_lowest_layer(*stream).socket().set_option(tcp::no_delay(true), ec);
    stream->handshake(ssl::stream_base::client, ec);
    if (ec)
      return Err(StatusCode::kServiceUnavailable,
                 "TLS handshake with " + access.server + ": " + ec.message());
    return stream;
  }

  http::request<http::string_body> Request(std::string_view method, std::string_view target,
                                           std::string_view body, std::string_view content_type) {
    http::request<http::string_body> req;
    req.method_string(std::string(method));
    req.target(access.path_prefix + std::string(target));
    req.version(11);
    req.set(http::field::host, access.authority);
    req.set(http::field::user_agent, options.user_agent);
    req.set(http::field::accept, "application/json");
    if (!authorization.empty()) req.set(http::field::authorization, authorization);
    if (!body.empty()) {
      req.set(http::field::content_type, std::string(content_type));
      req.body() = std::string(body);
    }
    req.prepare_payload();
    return req;
  }
};

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::~HttpsClient() = default;

Result<std::unique_ptr<HttpsClient>> HttpsClient::Create(const ClusterAccess& access,
                                                         HttpsClientOptions options) {
  auto impl = std::make_unique<Impl>(access, std::move(options));
  try {
    impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
    static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(impl->tls.native_handle(), kAlpn, sizeof(kAlpn));
    if (!access.ca_pem.empty()) {
      impl->tls.add_certificate_authority(net::buffer(access.ca_pem));
    } else {
      impl->tls.set_default_verify_paths();
    }
    if (!access.client_cert_pem.empty()) {
      impl->tls.use_certificate_chain(net::buffer(access.client_cert_pem));
      impl->tls.use_private_key(net::buffer(access.client_key_pem), ssl::context::pem);
    }
  } catch (const boost::system::system_error& e) {
    return Err(StatusCode::kInvalid, std::string("TLS setup: ") + e.what());
  }
  if (!access.token.empty()) impl->authorization = "Bearer " + access.token;
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  impl->addresses = resolver.resolve(access.host, access.port, ec);
  if (ec || impl->addresses.empty())
    return Err(StatusCode::kServiceUnavailable, "resolve " + access.host + ": " + ec.message());
  return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
}

Result<ClientResponse> HttpsClient::Do(std::string_view method, std::string_view target,
                                       std::string_view body, std::string_view content_type) {
  impl_->limiter.Acquire();
  auto req = impl_->Request(method, target, body, content_type);
  // A pooled connection the server closed meanwhile fails at once: retry on a new one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Stream> stream;
    bool reused = false;
    {
      std::lock_guard lock(impl_->pool_mu);
      if (!impl_->idle.empty()) {
        stream = std::move(impl_->idle.back());
        impl_->idle.pop_back();
        reused = true;
      }
    }
    if (!stream) {
      auto opened = impl_->Connect();
      if (!opened) return std::unexpected(opened.error());
      stream = std::move(*opened);
    }
    boost::system::error_code ec;
    http::write(*stream, req, ec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    if (!ec) http::read(*stream, buffer, parser, ec);
    if (ec) {
      if (reused) continue;
      return Err(StatusCode::kServiceUnavailable,
                 std::string(method) + " " + std::string(target) + ": " + ec.message());
    }
    auto res = parser.release();
    ClientResponse out{static_cast<int>(res.result_int()), std::move(res.body())};
    if (res.keep_alive()) {
      std::lock_guard lock(impl_->pool_mu);
      if (impl_->idle.size() < 16) impl_->idle.push_back(std::move(stream));
    }
    return out;
  }
  return Err(StatusCode::kServiceUnavailable, "no answer from " + impl_->access.server);
}

namespace {

class HttpsWatch final : public WatchStream {
 public:
  HttpsWatch(std::unique_ptr<Stream> stream, beast::flat_buffer buffer,
             std::unique_ptr<http::response_parser<http::buffer_body>> parser)
      : stream_(std::move(stream)), buffer_(std::move(buffer)), parser_(std::move(parser)) {}
  ~HttpsWatch() override { Stop(); }

  std::optional<std::string> Next() override {
    while (true) {
      size_t nl = pending_.find('\n');
      if (nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        if (line.empty()) continue;
        return line;
      }
      if (done_ || stopped_.load()) return std::nullopt;
      char chunk[16 * 1024];
      parser_->get().body().data = chunk;
      parser_->get().body().size = sizeof(chunk);
      boost::system::error_code ec;
      // read_some returns once some of the body arrived (read would wait for all of it).
      http::read_some(*stream_, buffer_, *parser_, ec);
      pending_.append(chunk, sizeof(chunk) - parser_->get().body().size);
      if (ec == http::error::need_buffer) continue;
      if (ec || parser_->is_done()) done_ = true;
    }
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    // Unblocks a read in progress on another thread.
    ::shutdown(beast::get_lowest_layer(*stream_).socket().native_handle(), SHUT_RDWR);
  }

 private:
  std::unique_ptr<Stream> stream_;
  beast::flat_buffer buffer_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  std::string pending_;  // bytes read past the last full line; used by Next only
  bool done_ = false;    // used by Next only
  std::atomic<bool> stopped_{false};
};

}  // namespace

Result<std::unique_ptr<WatchStream>> HttpsClient::Watch(std::string_view target) {
  impl_->limiter.Acquire();
  auto opened = impl_->Connect();
  if (!opened) return std::unexpected(opened.error());
  std::unique_ptr<Stream> stream = std::move(*opened);
  boost::system::error_code ec;
  auto req = impl_->Request("GET", target, {}, {});
  http::write(*stream, req, ec);
  if (ec)
    return Err(StatusCode::kServiceUnavailable,
               "watch " + std::string(target) + ": " + ec.message());
  beast::flat_buffer buffer;
  auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
  parser->body_limit(boost::none);
  http::read_header(*stream, buffer, *parser, ec);
  if (ec)
    return Err(StatusCode::kServiceUnavailable,
               "watch " + std::string(target) + ": " + ec.message());
  const int status = static_cast<int>(parser->get().result_int());
  // Events may be minutes apart: no receive timeout on a watch.
  SetSocketTimeout(*stream, std::chrono::seconds(0));
  auto watch =
      std::make_unique<HttpsWatch>(std::move(stream), std::move(buffer), std::move(parser));
  if (status != 200) {
    std::string body;
    while (auto line = watch->Next()) body += *line;
    return std::unexpected(StatusFromResponse({status, std::move(body)}));
  }
  return std::unique_ptr<WatchStream>(std::move(watch));
}

}  // namespace skiff
