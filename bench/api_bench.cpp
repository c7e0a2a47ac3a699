// api_bench: load against the Kubernetes API of the cluster a kubeconfig names.
//
// Over HTTPS, with one HTTP/1.1 keep-alive connection per client, it measures:
//   - ConfigMap creates per second and their latency (N clients for S seconds);
//   - ConfigMap GETs per second and their latency (same clients, same duration);
//   - the time to LIST L ConfigMaps whole and paginated (limit=500 following
//     metadata.continue), JSON parsing and counting of the items included;
//   - watch event delivery latency: W watches served by one thread, then K ConfigMaps
//     created, each carrying its send time in an annotation; for every watcher and every
//     event, receive time - send time.
//
// Everything happens in two namespaces the benchmark creates and deletes at the end:
// NS (creates, GETs, watches) and NS-list (the L objects that are listed). It refuses to
// run in a namespace that already exists, so it never touches someone else's objects.
//
// Output: a table, then one machine-readable line
//   BENCH api creates_per_s=… create_p50_ms=… … watchers=… errors=…
// Exit status: 0 when every request got the expected answer; 2 when some did not (they
// are counted in the table and in errors=); 1 when the benchmark could not run.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <expected>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <openssl/ssl.h>
#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "base/base64.h"
#include "client/client.h"
#include "client/kubeconfig.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

template <typename T>
using Expected = std::expected<T, std::string>;

// The watch events carry their send time (steady clock, nanoseconds) in this annotation.
constexpr char kSentAnnotation[] = "bench.skiff.dev/sent-ns";
constexpr char kWatchedPrefix[] = "watch-";
constexpr int kPageLimit = 500;

struct Options {
  std::string kubeconfig;
  std::string context;
  std::string ns;
  int clients = 16;
  int seconds = 5;
  int list_objects = 10000;
  int list_runs = 5;
  int watchers = 1000;
  int watch_events = 50;
  int watch_interval_ms = 50;
  int threads = 0;  // 0: one per core, at most one per client
  int timeout_seconds = 30;
};

double ToMillis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// ---------------------------------------------------------------------------------------
// TLS for the kubeconfig's cluster (the kubeconfig is read by skiff::LoadKubeconfig)

using skiff::ClusterAccess;

Expected<std::unique_ptr<ssl::context>> MakeTlsContext(const ClusterAccess& access) {
  try {
    auto tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(tls->native_handle(), kAlpn, sizeof(kAlpn));
    if (!access.ca_pem.empty()) {
      tls->add_certificate_authority(net::buffer(access.ca_pem));
    } else {
      tls->set_default_verify_paths();
    }
    if (!access.client_cert_pem.empty()) {
      tls->use_certificate_chain(net::buffer(access.client_cert_pem));
      tls->use_private_key(net::buffer(access.client_key_pem), ssl::context::pem);
    }
    return tls;
  } catch (const boost::system::system_error& e) {
    return std::unexpected(std::string("TLS setup: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------
// HTTP over TLS

// Where requests go; shared read-only by every connection.
struct Endpoint {
  tcp::resolver::results_type addresses;
  std::string host_header;
  std::string server_name;
  std::string path_prefix;
  std::string authorization;  // "Bearer …" or empty
  bool verify = true;
  Millis timeout{30000};
};

struct Reply {
  unsigned status = 0;  // 0: no HTTP answer (connection, TLS or timeout failure)
  std::string body;
  std::string error;  // why there was no answer
};

bool IsIpAddress(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// One keep-alive HTTPS connection, opened on first use and reopened after a failure.
// Thread safety: not thread-safe; use it from one coroutine at a time, on its executor.
class Connection {
 public:
  Connection(net::any_io_executor executor, ssl::context& tls, const Endpoint& endpoint)
      : executor_(std::move(executor)), tls_(tls), endpoint_(endpoint) {}

  // Opens the connection unless it is open. Returns an empty string on success, else
  // why it failed (the connection is then closed).
  net::awaitable<std::string> Connect() {
    if (stream_) co_return std::string();
    if (cancelled_) co_return std::string("cancelled");
    stream_.emplace(executor_, tls_);
    if (!IsIpAddress(endpoint_.server_name)) {
      SSL_set_tlsext_host_name(stream_->native_handle(), endpoint_.server_name.c_str());
    }
    if (endpoint_.verify) {
      stream_->set_verify_mode(ssl::verify_peer);
      stream_->set_verify_callback(ssl::host_name_verification(endpoint_.server_name));
    } else {
      stream_->set_verify_mode(ssl::verify_none);
    }
    beast::tcp_stream& socket = beast::get_lowest_layer(*stream_);
    socket.expires_after(endpoint_.timeout);
    auto [connect_error, connected] =
        co_await socket.async_connect(endpoint_.addresses, net::as_tuple(net::use_awaitable));
    if (connect_error) co_return Drop("connect: " + connect_error.message());
    boost::system::error_code ignored;
    socket.socket().set_option(tcp::no_delay(true), ignored);
    auto [handshake_error] = co_await stream_->async_handshake(ssl::stream_base::client,
                                                               net::as_tuple(net::use_awaitable));
    if (handshake_error) co_return Drop("TLS handshake: " + handshake_error.message());
    if (opened_before_) ++reconnects_;
    opened_before_ = true;
    co_return std::string();
  }

  // Sends one request (`target` is appended to the server URL's path) and reads the
  // whole response, whatever its size. Never throws for network errors: they come back
  // as status 0 with `error` set, and the next call reconnects.
  net::awaitable<Reply> Send(http::verb verb, std::string target, std::string body = {}) {
    Reply reply;
    if (std::string error = co_await Connect(); !error.empty()) {
      reply.error = std::move(error);
      co_return reply;
    }
    http::request<http::string_body> request = MakeRequest(verb, target);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = std::move(body);
    }
    request.prepare_payload();
    beast::tcp_stream& socket = beast::get_lowest_layer(*stream_);
    socket.expires_after(endpoint_.timeout);
    auto [write_error, written] =
        co_await http::async_write(*stream_, request, net::as_tuple(net::use_awaitable));
    if (write_error) {
      reply.error = Drop("write: " + write_error.message());
      co_return reply;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    auto [read_error, read] =
        co_await http::async_read(*stream_, buffer_, parser, net::as_tuple(net::use_awaitable));
    if (read_error) {
      reply.error = Drop("read: " + read_error.message());
      co_return reply;
    }
    http::response<http::string_body> response = parser.release();
    reply.status = response.result_int();
    reply.body = std::move(response.body());
    if (!response.keep_alive()) Drop("");
    co_return reply;
  }

  // Sends a GET whose response is a stream of lines (a watch). `on_open` runs once the
  // 200 headers are in; `on_line` runs for every complete line with the time its bytes
  // were read, and returns false to end the stream. Returns an empty string when the
  // stream ended because `on_line` or Cancel asked, else why it ended.
  net::awaitable<std::string> Stream(
      std::string target, std::function<void()> on_open,
      std::function<bool(std::string_view, Clock::time_point)> on_line) {
    if (std::string error = co_await Connect(); !error.empty())
      co_return cancelled_ ? std::string() : error;
    http::request<http::string_body> request = MakeRequest(http::verb::get, target);
    beast::tcp_stream& socket = beast::get_lowest_layer(*stream_);
    socket.expires_after(endpoint_.timeout);
    auto [write_error, written] =
        co_await http::async_write(*stream_, request, net::as_tuple(net::use_awaitable));
    if (write_error) co_return Ended("write: " + write_error.message());
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    auto [header_error, header_bytes] = co_await http::async_read_header(
        *stream_, buffer_, parser, net::as_tuple(net::use_awaitable));
    if (header_error) co_return Ended("read headers: " + header_error.message());
    if (parser.get().result() != http::status::ok) {
      const unsigned status = parser.get().result_int();
      // Best effort: the status alone already says the watch failed.
      co_await http::async_read(*stream_, buffer_, parser, net::as_tuple(net::use_awaitable));
      std::string body = parser.get().body().substr(0, 300);
      Drop("");
      co_return "HTTP " + std::to_string(status) + ": " + body;
    }
    on_open();
    socket.expires_never();
    while (!parser.is_done()) {
      if (cancelled_) co_return Ended("");
      auto [read_error, read] = co_await http::async_read_some(*stream_, buffer_, parser,
                                                               net::as_tuple(net::use_awaitable));
      const Clock::time_point received = Clock::now();
      if (read_error) co_return Ended("read: " + read_error.message());
      std::string& body = parser.get().body();
      size_t start = 0;
      for (size_t newline = body.find('\n'); newline != std::string::npos;
           newline = body.find('\n', start)) {
        const bool more = on_line(std::string_view(body).substr(start, newline - start), received);
        start = newline + 1;
        if (!more) co_return Ended("");
      }
      body.erase(0, start);
    }
    co_return Ended("server ended the stream");
  }

  // Ends whatever this connection is waiting for; a Stream then returns. Must run on
  // the connection's executor.
  void Cancel() {
    cancelled_ = true;
    if (stream_) beast::get_lowest_layer(*stream_).cancel();
  }

  const net::any_io_executor& executor() const { return executor_; }
  // Times the connection had to be reopened after it was lost.
  int reconnects() const { return reconnects_; }

 private:
  http::request<http::string_body> MakeRequest(http::verb verb, const std::string& target) const {
    http::request<http::string_body> request{verb, endpoint_.path_prefix + target, 11};
    request.set(http::field::host, endpoint_.host_header);
    request.set(http::field::user_agent, "skiff-api-bench/0.1");
    request.set(http::field::accept, "application/json");
    if (!endpoint_.authorization.empty())
      request.set(http::field::authorization, endpoint_.authorization);
    request.keep_alive(true);
    return request;
  }

  std::string Drop(std::string why) {
    stream_.reset();
    buffer_.clear();
    return why;
  }

  std::string Ended(std::string why) { return Drop(cancelled_ ? std::string() : std::move(why)); }

  // Constant after construction.
  const net::any_io_executor executor_;
  ssl::context& tls_;
  const Endpoint& endpoint_;
  // Used only from the connection's executor.
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  bool opened_before_ = false;
  bool cancelled_ = false;
  int reconnects_ = 0;
};

// ---------------------------------------------------------------------------------------
// Measurements

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

// Outcomes of the requests of one phase (or of one client within it).
struct Tally {
  uint64_t ok = 0;
  std::map<unsigned, uint64_t> bad;  // by HTTP status; 0 = no HTTP answer
  std::vector<double> latencies_ms;  // of the good requests
  std::string first_problem;

  void Record(const Reply& reply, unsigned expected, double ms) {
    if (reply.status == expected) {
      ++ok;
      latencies_ms.push_back(ms);
      return;
    }
    ++bad[reply.status];
    if (first_problem.empty()) {
      first_problem = reply.status == 0 ? reply.error
                                        : "HTTP " + std::to_string(reply.status) + ": " +
                                              reply.body.substr(0, 300);
    }
  }

  void Problem(std::string what) {
    ++bad[0];
    if (first_problem.empty()) first_problem = std::move(what);
  }

  void Merge(Tally&& other) {
    ok += other.ok;
    for (const auto& [status, count] : other.bad) bad[status] += count;
    latencies_ms.insert(latencies_ms.end(), other.latencies_ms.begin(), other.latencies_ms.end());
    if (first_problem.empty()) first_problem = std::move(other.first_problem);
  }

  uint64_t BadTotal() const {
    uint64_t total = 0;
    for (const auto& [status, count] : bad) total += count;
    return total;
  }

  std::string BadSummary() const {
    std::string out;
    for (const auto& [status, count] : bad) {
      if (!out.empty()) out += ' ';
      out += (status == 0 ? std::string("neterr") : std::to_string(status)) + "x" +
             std::to_string(count);
    }
    return out;
  }
};

// One line of the result table.
struct Row {
  std::string phase;
  Tally tally;
  double seconds = 0;  // wall time of the phase; 0 = no rate
  std::string note;
};

std::string ConfigMapJson(const std::string& name, std::optional<int64_t> sent_ns = std::nullopt) {
  json::object metadata{{"name", name}};
  if (sent_ns) metadata["annotations"] = json::object{{kSentAnnotation, std::to_string(*sent_ns)}};
  // ~100 bytes of data, as a small application setting would be.
  json::object data{{"payload",
                     "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffffgggggggggghhhhhhh"
                     "hhhiiiiiiiiiijjjjjjjjjj"}};
  json::object object{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", std::move(metadata)},
                      {"data", std::move(data)}};
  return json::serialize(object);
}

const json::value* Lookup(const json::value& root, std::initializer_list<std::string_view> path) {
  const json::value* at = &root;
  for (std::string_view key : path) {
    const json::object* object = at->if_object();
    if (!object) return nullptr;
    at = object->if_contains(key);
    if (!at) return nullptr;
  }
  return at;
}

std::string LookupString(const json::value& root, std::initializer_list<std::string_view> path) {
  const json::value* v = Lookup(root, path);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// State of the watch phase shared by the watchers, all on the watch thread, and read by
// the main thread through the atomics.
struct WatchShared {
  int events = 0;
  bool stopping = false;  // watch thread only
  std::atomic<int> opened{0};
  std::atomic<int> failed{0};
  std::atomic<uint64_t> deliveries{0};
};

struct Watcher {
  Watcher(net::any_io_executor executor, ssl::context& tls, const Endpoint& endpoint)
      : connection(std::move(executor), tls, endpoint) {}
  Connection connection;
  bool opened = false;
  int received = 0;
  std::vector<char> seen;  // by event index
  std::vector<double> latencies_ms;
  uint64_t duplicates = 0;
  uint64_t unparsable = 0;
  uint64_t error_events = 0;
  std::string failure;
};

// Handles one line of a watch stream. Returns false once every event has arrived.
bool OnWatchLine(Watcher& watcher, WatchShared& shared, std::string_view line,
                 Clock::time_point received) {
  if (line.empty()) return true;
  boost::system::error_code ec;
  const json::value event = json::parse(line, ec);
  if (ec || !event.is_object()) {
    ++watcher.unparsable;
    return true;
  }
  const std::string type = LookupString(event, {"type"});
  if (type == "ERROR") {
    ++watcher.error_events;
    if (watcher.failure.empty())
      watcher.failure = "ERROR event: " + std::string(line.substr(0, 300));
    return true;
  }
  const std::string sent =
      LookupString(event, {"object", "metadata", "annotations", kSentAnnotation});
  const std::string name = LookupString(event, {"object", "metadata", "name"});
  if (sent.empty() || !name.starts_with(kWatchedPrefix)) return true;  // not one of ours
  std::optional<int64_t> sent_ns = ParseNumber<int64_t>(sent);
  std::optional<int> index =
      ParseNumber<int>(std::string_view(name).substr(std::strlen(kWatchedPrefix)));
  if (!sent_ns || !index || *index < 0 || *index >= shared.events) {
    ++watcher.unparsable;
    return true;
  }
  if (watcher.seen[*index]) {
    ++watcher.duplicates;
    return true;
  }
  watcher.seen[*index] = 1;
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(received.time_since_epoch()).count();
  watcher.latencies_ms.push_back(static_cast<double>(now_ns - *sent_ns) / 1e6);
  ++watcher.received;
  shared.deliveries.fetch_add(1, std::memory_order_relaxed);
  return watcher.received < shared.events;
}

net::awaitable<void> RunWatcher(Watcher& watcher, WatchShared& shared, std::string target) {
  if (shared.stopping) {
    shared.failed.fetch_add(1);
    co_return;
  }
  watcher.seen.assign(shared.events, 0);
  std::string error = co_await watcher.connection.Stream(
      std::move(target),
      [&] {
        watcher.opened = true;
        shared.opened.fetch_add(1);
      },
      [&](std::string_view line, Clock::time_point received) {
        return OnWatchLine(watcher, shared, line, received);
      });
  if (!watcher.opened) shared.failed.fetch_add(1);
  if (!error.empty() && watcher.failure.empty()) watcher.failure = std::move(error);
}

// Opens the watches, keeping at most `max_opening` connection setups in flight so a
// burst of TLS handshakes does not overflow the server's accept queue.
net::awaitable<void> LaunchWatchers(std::vector<std::unique_ptr<Watcher>>& watchers,
                                    WatchShared& shared, std::string target, int max_opening) {
  net::any_io_executor executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  for (size_t i = 0; i < watchers.size() && !shared.stopping; ++i) {
    while (!shared.stopping &&
           static_cast<int>(i) - (shared.opened.load() + shared.failed.load()) >= max_opening) {
      timer.expires_after(Millis(1));
      co_await timer.async_wait(net::use_awaitable);
    }
    net::co_spawn(executor, RunWatcher(*watchers[i], shared, target), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
}

// ---------------------------------------------------------------------------------------
// The benchmark

class ApiBench {
 public:
  ApiBench(Options options, ssl::context& tls, Endpoint endpoint)
      : options_(std::move(options)),
        tls_(tls),
        endpoint_(std::move(endpoint)),
        ns_(options_.ns),
        list_ns_(options_.ns + "-list"),
        work_(net::make_work_guard(pool_)) {}

  ~ApiBench() { StopPool(); }

  int Run() {
    int threads =
        options_.threads > 0
            ? options_.threads
            : std::min<int>(options_.clients, std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < threads; ++i) pool_threads_.emplace_back([this] { pool_.run(); });
    for (int i = 0; i < options_.clients; ++i) {
      clients_.push_back(std::make_unique<Connection>(net::make_strand(pool_), tls_, endpoint_));
    }
    std::vector<std::future<std::string>> connecting;
    for (auto& client : clients_) connecting.push_back(Spawn(*client, client->Connect()));
    for (auto& f : connecting) {
      if (std::string error = f.get(); !error.empty()) {
        std::fprintf(stderr, "api_bench: cannot connect to %s: %s\n", server_url().c_str(),
                     error.c_str());
        return 1;
      }
    }
    if (!CreateNamespace(ns_) || !CreateNamespace(list_ns_)) {
      Cleanup();
      return 1;
    }

    std::vector<std::string> created = RunCreates();
    RunGets(created);
    RunLists();
    RunWatch();
    Cleanup();
    StopPool();

    Print();
    return errors_ == 0 ? 0 : 2;
  }

 private:
  std::string server_url() const {
    return "https://" + endpoint_.host_header + endpoint_.path_prefix;
  }

  template <typename T>
  std::future<T> Spawn(Connection& on, net::awaitable<T> work) {
    return net::co_spawn(on.executor(), std::move(work), net::use_future);
  }

  Reply Call(http::verb verb, std::string target, std::string body = {}) {
    return Spawn(*clients_[0], clients_[0]->Send(verb, std::move(target), std::move(body))).get();
  }

  bool CreateNamespace(const std::string& name) {
    json::object object{
        {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", json::object{{"name", name}}}};
    Reply reply = Call(http::verb::post, "/api/v1/namespaces", json::serialize(object));
    if (reply.status == 201) {
      created_namespaces_.push_back(name);
      return true;
    }
    if (reply.status == 409) {
      std::fprintf(stderr,
                   "api_bench: namespace %s already exists; pick another with --namespace\n",
                   name.c_str());
    } else {
      std::fprintf(stderr, "api_bench: creating namespace %s: %s\n", name.c_str(),
                   reply.status == 0
                       ? reply.error.c_str()
                       : ("HTTP " + std::to_string(reply.status) + ": " + reply.body).c_str());
    }
    return false;
  }

  void Cleanup() {
    Tally tally;
    const Clock::time_point start = Clock::now();
    for (const std::string& name : created_namespaces_) {
      const Clock::time_point t0 = Clock::now();
      Reply reply = Call(http::verb::delete_, "/api/v1/namespaces/" + name);
      if (reply.status == 202) reply.status = 200;  // deletion accepted, finishing later
      tally.Record(reply, 200, ToMillis(Clock::now() - t0));
    }
    if (!created_namespaces_.empty()) AddRow("delete namespaces", std::move(tally), start, "");
    created_namespaces_.clear();
  }

  void StopPool() {
    work_.reset();
    for (std::thread& t : pool_threads_) t.join();
    pool_threads_.clear();
  }

  void AddRow(std::string phase, Tally tally, Clock::time_point start, std::string note,
              bool rate = true) {
    errors_ += tally.BadTotal();
    rows_.push_back(Row{std::move(phase), std::move(tally),
                        rate ? ToMillis(Clock::now() - start) / 1000.0 : 0.0, std::move(note)});
  }

  // Runs `loop(client_index)` on every client at once and merges their tallies.
  template <typename MakeLoop>
  Tally OnAllClients(MakeLoop make_loop) {
    std::vector<std::future<Tally>> running;
    for (size_t i = 0; i < clients_.size(); ++i)
      running.push_back(Spawn(*clients_[i], make_loop(i)));
    Tally total;
    for (auto& f : running) total.Merge(f.get());
    return total;
  }

  static net::awaitable<Tally> CreateLoop(Connection& client, std::string path, size_t client_index,
                                          Clock::time_point deadline,
                                          std::vector<std::string>& created) {
    Tally tally;
    for (uint64_t seq = 0; Clock::now() < deadline; ++seq) {
      std::string name = "cm-" + std::to_string(client_index) + "-" + std::to_string(seq);
      const Clock::time_point t0 = Clock::now();
      Reply reply = co_await client.Send(http::verb::post, path, ConfigMapJson(name));
      tally.Record(reply, 201, ToMillis(Clock::now() - t0));
      if (reply.status == 201) created.push_back(std::move(name));
    }
    co_return tally;
  }

  std::vector<std::string> RunCreates() {
    std::vector<std::vector<std::string>> created(clients_.size());
    const std::string path = "/api/v1/namespaces/" + ns_ + "/configmaps";
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::seconds(options_.seconds);
    Tally tally = OnAllClients(
        [&](size_t i) { return CreateLoop(*clients_[i], path, i, deadline, created[i]); });
    AddRow("create configmap", std::move(tally), start, "");
    std::vector<std::string> all;
    for (auto& names : created) all.insert(all.end(), names.begin(), names.end());
    return all;
  }

  static net::awaitable<Tally> GetLoop(Connection& client, std::string path,
                                       const std::vector<std::string>& names, size_t first,
                                       Clock::time_point deadline) {
    Tally tally;
    for (size_t i = first; Clock::now() < deadline; i += 7919) {  // a prime stride spreads the keys
      const Clock::time_point t0 = Clock::now();
      Reply reply = co_await client.Send(http::verb::get, path + names[i % names.size()]);
      tally.Record(reply, 200, ToMillis(Clock::now() - t0));
    }
    co_return tally;
  }

  void RunGets(const std::vector<std::string>& names) {
    if (names.empty()) {
      Tally tally;
      tally.Problem("no ConfigMap was created, nothing to GET");
      AddRow("get configmap", std::move(tally), Clock::now(), "skipped", false);
      return;
    }
    const std::string path = "/api/v1/namespaces/" + ns_ + "/configmaps/";
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::seconds(options_.seconds);
    Tally tally = OnAllClients([&](size_t i) {
      return GetLoop(*clients_[i], path, names, i * names.size() / clients_.size(), deadline);
    });
    AddRow("get configmap", std::move(tally), start, "");
  }

  static net::awaitable<Tally> FillLoop(Connection& client, std::string path,
                                        std::atomic<int>& next, int total,
                                        Clock::time_point deadline) {
    Tally tally;
    for (int i = next++; i < total && Clock::now() < deadline; i = next++) {
      const Clock::time_point t0 = Clock::now();
      Reply reply =
          co_await client.Send(http::verb::post, path, ConfigMapJson("list-" + std::to_string(i)));
      tally.Record(reply, 201, ToMillis(Clock::now() - t0));
    }
    co_return tally;
  }

  // GETs the collection (one page of `limit` when limit > 0) and counts its items.
  // Returns the item count and the continue token, or nullopt on a bad answer.
  static net::awaitable<std::optional<std::pair<size_t, std::string>>> ListOnce(Connection& client,
                                                                                std::string target,
                                                                                Tally& tally) {
    Reply reply = co_await client.Send(http::verb::get, std::move(target));
    if (reply.status != 200) {
      tally.Record(reply, 200, 0);
      co_return std::nullopt;
    }
    boost::system::error_code ec;
    const json::value list = json::parse(reply.body, ec);
    const json::value* items = ec ? nullptr : Lookup(list, {"items"});
    if (!items || !(items->is_array() || items->is_null())) {
      tally.Problem("LIST answer is not a list: " + reply.body.substr(0, 200));
      co_return std::nullopt;
    }
    co_return std::make_pair(items->is_array() ? items->get_array().size() : size_t{0},
                             LookupString(list, {"metadata", "continue"}));
  }

  static net::awaitable<Tally> ListRuns(Connection& client, std::string collection, int runs,
                                        int limit, size_t expected) {
    Tally tally;
    const size_t max_pages = limit > 0 ? expected / static_cast<size_t>(limit) + 100 : 1;
    for (int run = 0; run < runs; ++run) {
      const Clock::time_point t0 = Clock::now();
      size_t count = 0;
      std::string token;
      bool good = true;
      for (size_t page = 0; page < max_pages; ++page) {
        std::string target = collection;
        if (limit > 0) target += "?limit=" + std::to_string(limit);
        if (!token.empty()) target += "&continue=" + skiff::QueryEscape(token);
        auto result = co_await ListOnce(client, std::move(target), tally);
        if (!result) {
          good = false;
          break;
        }
        count += result->first;
        token = std::move(result->second);
        if (limit <= 0 || token.empty()) break;
      }
      const double ms = ToMillis(Clock::now() - t0);
      if (!good) continue;
      if (!token.empty()) {
        tally.Problem("paginated LIST still had a continue token after " +
                      std::to_string(max_pages) + " pages");
      } else if (count < expected) {
        tally.Problem("LIST returned " + std::to_string(count) + " items, expected " +
                      std::to_string(expected));
      } else {
        ++tally.ok;
        tally.latencies_ms.push_back(ms);
      }
    }
    co_return tally;
  }

  void RunLists() {
    if (options_.list_objects <= 0) return;
    const std::string collection = "/api/v1/namespaces/" + list_ns_ + "/configmaps";
    std::atomic<int> next{0};
    Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::minutes(5);
    Tally fill = OnAllClients([&](size_t i) {
      return FillLoop(*clients_[i], collection, next, options_.list_objects, deadline);
    });
    const size_t filled = fill.ok;
    AddRow("fill " + std::to_string(options_.list_objects) + " for list", std::move(fill), start,
           "");

    const std::string objects = std::to_string(options_.list_objects);
    start = Clock::now();
    Tally whole =
        Spawn(*clients_[0], ListRuns(*clients_[0], collection, options_.list_runs, 0, filled))
            .get();
    AddRow("list " + objects + " whole", std::move(whole), start, "ms per LIST", false);
    start = Clock::now();
    Tally paged = Spawn(*clients_[0],
                        ListRuns(*clients_[0], collection, options_.list_runs, kPageLimit, filled))
                      .get();
    AddRow("list " + objects + " paged " + std::to_string(kPageLimit), std::move(paged), start,
           "ms per full walk", false);
  }

  static net::awaitable<Tally> WriteWatched(Connection& client, std::string path, int events,
                                            Millis interval) {
    Tally tally;
    net::steady_timer timer(co_await net::this_coro::executor);
    Clock::time_point next = Clock::now();
    for (int i = 0; i < events; ++i) {
      timer.expires_at(next);
      co_await timer.async_wait(net::use_awaitable);
      next += interval;
      const Clock::time_point sent = Clock::now();
      const int64_t sent_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(sent.time_since_epoch()).count();
      Reply reply = co_await client.Send(
          http::verb::post, path, ConfigMapJson(kWatchedPrefix + std::to_string(i), sent_ns));
      tally.Record(reply, 201, ToMillis(Clock::now() - sent));
    }
    co_return tally;
  }

  // Waits until `done` holds or `deadline` passes; returns whether `done` held.
  template <typename Done>
  static bool WaitFor(Done done, Clock::time_point deadline) {
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(Millis(5));
    }
    return true;
  }

  void RunWatch() {
    if (options_.watchers <= 0 || options_.watch_events <= 0) return;
    const std::string collection = "/api/v1/namespaces/" + ns_ + "/configmaps";
    Tally watch_tally;
    Clock::time_point start = Clock::now();

    // The resource version to start from: the collection's, from a one-item page.
    Reply list = Call(http::verb::get, collection + "?limit=1");
    std::string resource_version;
    if (list.status == 200) {
      boost::system::error_code ec;
      const json::value parsed = json::parse(list.body, ec);
      if (!ec) resource_version = LookupString(parsed, {"metadata", "resourceVersion"});
    }
    if (resource_version.empty()) {
      list.status == 200 ? watch_tally.Problem("LIST has no metadata.resourceVersion")
                         : watch_tally.Record(list, 200, 0);
      AddRow("watch deliveries", std::move(watch_tally), start, "no resourceVersion to watch from",
             false);
      return;
    }
    const std::string target =
        collection + "?watch=true&resourceVersion=" + skiff::QueryEscape(resource_version) +
        "&allowWatchBookmarks=false";

    net::io_context watch_io(1);
    WatchShared shared;
    shared.events = options_.watch_events;
    std::vector<std::unique_ptr<Watcher>> watchers;
    for (int i = 0; i < options_.watchers; ++i) {
      watchers.push_back(std::make_unique<Watcher>(watch_io.get_executor(), tls_, endpoint_));
    }
    net::co_spawn(watch_io, LaunchWatchers(watchers, shared, target, 64), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    std::string watch_thread_failure;
    std::thread watch_thread([&] {
      try {
        watch_io.run();
      } catch (const std::exception& e) {
        watch_thread_failure = e.what();
      }
    });

    const int wanted = options_.watchers;
    WaitFor([&] { return shared.opened.load() + shared.failed.load() >= wanted; },
            Clock::now() + std::chrono::seconds(60));
    const double open_ms = ToMillis(Clock::now() - start);
    const int opened = shared.opened.load();

    Tally writes;
    if (opened > 0) {
      writes = Spawn(*clients_[0], WriteWatched(*clients_[0], collection, options_.watch_events,
                                                Millis(options_.watch_interval_ms)))
                   .get();
      const uint64_t expected = static_cast<uint64_t>(opened) * writes.ok;
      WaitFor([&] { return shared.deliveries.load() >= expected; },
              Clock::now() + std::chrono::seconds(10));
    }
    net::post(watch_io, [&] {
      shared.stopping = true;
      for (auto& w : watchers) w->connection.Cancel();
    });
    watch_thread.join();
    watchers_opened_ = opened;

    const uint64_t writes_ok = writes.ok;
    AddRow("watch writes", std::move(writes), start, "", false);
    uint64_t delivered = 0;
    uint64_t duplicates = 0;
    uint64_t unparsable = 0;
    uint64_t error_events = 0;
    int broken = 0;
    for (auto& w : watchers) {
      delivered += w->latencies_ms.size();
      watch_tally.latencies_ms.insert(watch_tally.latencies_ms.end(), w->latencies_ms.begin(),
                                      w->latencies_ms.end());
      duplicates += w->duplicates;
      unparsable += w->unparsable;
      error_events += w->error_events;
      if (!w->failure.empty()) {
        ++broken;
        if (watch_tally.first_problem.empty()) watch_tally.first_problem = w->failure;
      }
    }
    const uint64_t expected = static_cast<uint64_t>(opened) * writes_ok;
    watch_tally.ok = delivered;
    if (opened < wanted) watch_tally.bad[0] += static_cast<uint64_t>(wanted - opened);
    if (delivered < expected) watch_tally.bad[0] += expected - delivered;
    watch_tally.bad[0] += duplicates + unparsable + error_events;
    if (watch_tally.bad[0] == 0) watch_tally.bad.erase(0);
    if (!watch_thread_failure.empty()) watch_tally.Problem("watch thread: " + watch_thread_failure);
    char note[256];
    std::snprintf(note, sizeof(note),
                  "%d/%d watches open in %.0f ms; %llu/%llu events; %llu dup %llu bad %d broken",
                  opened, wanted, open_ms, static_cast<unsigned long long>(delivered),
                  static_cast<unsigned long long>(expected),
                  static_cast<unsigned long long>(duplicates),
                  static_cast<unsigned long long>(unparsable + error_events), broken);
    AddRow("watch deliveries", std::move(watch_tally), start, note, false);
  }

  const Row* FindRow(std::string_view prefix) const {
    for (const Row& row : rows_) {
      if (row.phase.starts_with(prefix)) return &row;
    }
    return nullptr;
  }

  void Print() const {
    std::printf(
        "api_bench server=%s namespace=%s clients=%d seconds=%d list_objects=%d watchers=%d\n\n",
        server_url().c_str(), ns_.c_str(), options_.clients, options_.seconds,
        options_.list_objects, options_.watchers);
    std::printf("%-24s %9s %9s %7s %10s %9s %9s %9s  %s\n", "phase", "requests", "ok", "bad",
                "per_s", "p50_ms", "p99_ms", "max_ms", "notes");
    for (const Row& row : rows_) {
      const Tally& t = row.tally;
      const uint64_t bad = t.BadTotal();
      std::string rate =
          row.seconds > 0 ? std::to_string(static_cast<long long>(t.ok / row.seconds)) : "-";
      std::string note = row.note;
      if (bad > 0) note += (note.empty() ? "" : "; ") + std::string("bad: ") + t.BadSummary();
      std::printf("%-24s %9llu %9llu %7llu %10s %9.2f %9.2f %9.2f  %s\n", row.phase.c_str(),
                  static_cast<unsigned long long>(t.ok + bad),
                  static_cast<unsigned long long>(t.ok), static_cast<unsigned long long>(bad),
                  rate.c_str(), Percentile(t.latencies_ms, 50), Percentile(t.latencies_ms, 99),
                  Percentile(t.latencies_ms, 100), note.c_str());
    }
    bool any_problem = false;
    for (const Row& row : rows_) {
      if (!row.tally.first_problem.empty()) {
        if (!any_problem) std::printf("\nfirst problem per phase:\n");
        any_problem = true;
        std::printf("  %s: %s\n", row.phase.c_str(), row.tally.first_problem.c_str());
      }
    }
    int reconnects = 0;
    for (const auto& c : clients_) reconnects += c->reconnects();
    if (reconnects > 0) std::printf("\nclient connections reopened: %d\n", reconnects);

    auto rate = [](const Row* row) {
      return row && row->seconds > 0 ? row->tally.ok / row->seconds : std::nan("");
    };
    auto pct = [](const Row* row, double p) {
      return row ? Percentile(row->tally.latencies_ms, p) : std::nan("");
    };
    const Row* creates = FindRow("create configmap");
    const Row* gets = FindRow("get configmap");
    const Row* whole = FindRow("list " + std::to_string(options_.list_objects) + " whole");
    const Row* paged = FindRow("list " + std::to_string(options_.list_objects) + " paged");
    const Row* watch = FindRow("watch deliveries");
    std::printf(
        "\nBENCH api creates_per_s=%.0f create_p50_ms=%.2f create_p99_ms=%.2f gets_per_s=%.0f "
        "get_p50_ms=%.2f "
        "get_p99_ms=%.2f list_10k_ms=%.1f list_10k_paged_ms=%.1f watch_p50_ms=%.2f "
        "watch_p99_ms=%.2f watchers=%d "
        "errors=%llu\n",
        rate(creates), pct(creates, 50), pct(creates, 99), rate(gets), pct(gets, 50), pct(gets, 99),
        pct(whole, 50), pct(paged, 50), pct(watch, 50), pct(watch, 99), watchers_opened_,
        static_cast<unsigned long long>(errors_));
    std::fflush(stdout);
  }

  // Constant after construction.
  const Options options_;
  ssl::context& tls_;
  const Endpoint endpoint_;
  const std::string ns_;
  const std::string list_ns_;
  // The client pool; clients_ are used only from their own strands.
  net::io_context pool_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<std::thread> pool_threads_;
  std::vector<std::unique_ptr<Connection>> clients_;
  // Main thread only.
  std::vector<std::string> created_namespaces_;
  std::vector<Row> rows_;
  uint64_t errors_ = 0;
  int watchers_opened_ = 0;
};

std::string RandomNamespace() {
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%06x", random() & 0xffffff);
  return std::string("api-bench-") + suffix;
}

// Every watch is a socket: lift the soft descriptor limit as far as allowed.
void RaiseFileLimit(int wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < static_cast<rlim_t>(wanted)) {
    std::fprintf(stderr,
                 "api_bench: warning: open file limit %llu is below the %d sockets needed\n",
                 static_cast<unsigned long long>(limit.rlim_cur), wanted);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Benchmarks the Kubernetes API of the cluster a kubeconfig names"};
  app.add_option("--kubeconfig", options.kubeconfig, "Kubeconfig of the cluster to drive")
      ->required();
  app.add_option("--context", options.context, "Kubeconfig context (default: current-context)");
  app.add_option("--namespace", options.ns,
                 "Namespace to create and use (NS-list is created too); both must not exist "
                 "(default: random)");
  app.add_option("--clients", options.clients, "Concurrent keep-alive clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--seconds", options.seconds, "Duration of the create and the GET phases")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--list-objects", options.list_objects, "ConfigMaps to LIST")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_option("--list-runs", options.list_runs, "LISTs of each kind; the median is reported")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--watchers", options.watchers, "Concurrent watches")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--watch-events", options.watch_events, "ConfigMaps created while watched")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--watch-interval-ms", options.watch_interval_ms, "Pause between watched creates")
      ->capture_default_str()
      ->check(CLI::Range(0, 60000));
  app.add_option("--threads", options.threads, "Threads running the clients (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  app.add_option("--timeout-seconds", options.timeout_seconds, "Deadline of every request")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  CLI11_PARSE(app, argc, argv);
  if (options.ns.empty()) options.ns = RandomNamespace();

  skiff::Result<ClusterAccess> access = skiff::LoadKubeconfig(options.kubeconfig, options.context);
  if (!access) {
    std::fprintf(stderr, "api_bench: %s\n", access.error().message().c_str());
    return 1;
  }
  Expected<std::unique_ptr<ssl::context>> tls = MakeTlsContext(*access);
  if (!tls) {
    std::fprintf(stderr, "api_bench: %s\n", tls.error().c_str());
    return 1;
  }
  RaiseFileLimit(options.watchers + options.clients + 64);

  Endpoint endpoint;
  {
    net::io_context resolve_io;
    tcp::resolver resolver(resolve_io);
    boost::system::error_code ec;
    endpoint.addresses = resolver.resolve(access->host, access->port, ec);
    if (ec) {
      std::fprintf(stderr, "api_bench: resolving %s: %s\n", access->host.c_str(),
                   ec.message().c_str());
      return 1;
    }
  }
  endpoint.host_header = access->authority;
  endpoint.server_name = access->tls_server_name;
  endpoint.path_prefix = access->path_prefix;
  endpoint.verify = !access->insecure_skip_verify;
  endpoint.timeout = std::chrono::seconds(options.timeout_seconds);
  if (!access->token.empty()) endpoint.authorization = "Bearer " + access->token;

  try {
    ApiBench bench(std::move(options), **tls, std::move(endpoint));
    return bench.Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "api_bench: %s\n", e.what());
    return 1;
  }
}
