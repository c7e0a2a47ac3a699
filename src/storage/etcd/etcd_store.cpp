// EtcdStore: Store operations mapped onto etcd's v3 KV and Watch services.
//
// The generated gRPC code is included here only, so that the rest of Skiff does not pay for
// compiling it.
#include "storage/etcd/etcd_store.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "base/log.h"
#include "rpc.grpc.pb.h"
#include "rpc.pb.h"

namespace skiff {
namespace {

namespace pb = etcdserverpb;

constexpr std::string_view kComponent = "etcd";

using Clock = std::chrono::system_clock;

// One member's client URL, parsed.
struct EndpointSpec {
  std::string url;     // as given
  std::string target;  // host:port for gRPC
  bool tls = false;
};

Result<EndpointSpec> ParseEndpoint(std::string_view url) {
  EndpointSpec spec;
  spec.url = std::string(url);
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    spec.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("etcd://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return Err(StatusCode::kBadRequest,
               "etcd endpoint \"" + spec.url + "\": scheme must be http, https or etcd");
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return Err(StatusCode::kBadRequest, "etcd endpoint \"" + spec.url + "\" is not host:port");
  }
  spec.target = std::string(rest);
  return spec;
}

Result<std::string> ReadPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(StatusCode::kInternal, "cannot read " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in.good() && !in.eof()) return Err(StatusCode::kInternal, "cannot read " + path);
  return contents.str();
}

// The end of the key range holding every key that starts with `prefix`: the prefix with its
// last byte below 0xff incremented and what follows dropped. "\0" (etcd's "to the end")
// when there is no such byte.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

bool IsCompactedError(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::OUT_OF_RANGE &&
         status.error_message().find("compacted") != std::string::npos;
}

// Translates a gRPC failure of `what` into a Status with a Kubernetes-style code.
Status FromGrpc(const grpc::Status& status, std::string_view what) {
  const std::string message = "etcd " + std::string(what) + ": " + status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK: return Status::Ok();
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED: return Status(StatusCode::kServiceUnavailable, message);
    case grpc::StatusCode::DEADLINE_EXCEEDED: return Status(StatusCode::kTimeout, message);
    case grpc::StatusCode::OUT_OF_RANGE:
      if (IsCompactedError(status)) return Status(StatusCode::kGone, message);
      return Status(StatusCode::kBadRequest, message);  // e.g. a future revision
    case grpc::StatusCode::INVALID_ARGUMENT:
      if (status.error_message().find("too large") != std::string::npos) {
        return Status(StatusCode::kRequestEntityTooLarge, message);
      }
      return Status(StatusCode::kBadRequest, message);
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return Status(StatusCode::kTooManyRequests, message);
    default: return Status(StatusCode::kInternal, message);
  }
}

std::string Quoted(std::string_view key) { return "\"" + std::string(key) + "\""; }

Status CompactedError(int64_t revision, int64_t compacted) {
  return Status(StatusCode::kGone,
                "required revision has been compacted: revision " + std::to_string(revision) +
                    " is older than compacted revision " + std::to_string(compacted));
}

}  // namespace

// --- EtcdWatchState -----------------------------------------------------------------------

// One watch: its request, its callback and the thread that runs both. Shared between the
// StoreWatch handle, the client's thread registry and the thread itself.
class EtcdWatchState {
 public:
  EtcdWatchState(std::string key, std::string range_end, int64_t next_revision,
                 WatchCallback callback)
      : key_(std::move(key)),
        range_end_(std::move(range_end)),
        callback_(std::move(callback)),
        next_revision_(next_revision) {}

  // No callback starts after this returns (one may be running).
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
    cv_.notify_all();
  }

  // Makes the thread deliver one final kServiceUnavailable error and exit.
  void Shutdown() {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
    cv_.notify_all();
  }

  bool OnWatchThread() const {
    std::lock_guard lock(mu_);
    return thread_id_ == std::this_thread::get_id();
  }

  bool exited() const {
    std::lock_guard lock(mu_);
    return exited_;
  }

  void WaitExited() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return exited_; });
  }

  // The thread body.
  void Run(EtcdClient& client);

 private:
  enum class StreamEnd { kBroken, kStop };

  // Runs one stream on endpoint `index` until it breaks or the watch must stop.
  StreamEnd RunStream(EtcdClient& client, size_t index);

  // Runs the callback unless the watch was cancelled. Returns false if it was not run.
  bool Deliver(WatchBatch&& batch) {
    {
      std::lock_guard lock(mu_);
      if (cancelled_) return false;
    }
    callback_(std::move(batch));
    return true;
  }

  // Delivers the final error (unless cancelled).
  void Fail(Status error) { Deliver(WatchBatch{.events = {}, .error = std::move(error)}); }

  bool Stopping() {
    std::lock_guard lock(mu_);
    return cancelled_ || shutdown_;
  }

  // Constant after construction.
  const std::string key_;
  const std::string range_end_;
  const WatchCallback callback_;

  // Used only by the watch thread.
  int64_t next_revision_;  // the first revision not yet delivered

  // Protected by mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;  // signals cancellation, shutdown and exit
  bool cancelled_ = false;
  bool shutdown_ = false;
  bool exited_ = false;
  std::thread::id thread_id_;
  grpc::ClientContext* stream_context_ = nullptr;  // of the open stream, if any
};

// --- EtcdClient ---------------------------------------------------------------------------

// The connections to the cluster, the unary request helper with failover, and the
// registry of watch threads. Thread-safe.
class EtcdClient {
 public:
  // A channel to one member and its stubs. Replaced as a whole, never changed.
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<pb::KV::Stub> kv;
    std::unique_ptr<pb::Watch::Stub> watch;
    std::chrono::steady_clock::time_point created;
  };

  struct Endpoint {
    EndpointSpec spec;
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    std::shared_ptr<const Connection> connection;  // protected by EtcdClient::connections_mu_
  };

  EtcdClient(EtcdStoreOptions options, std::vector<Endpoint> endpoints)
      : options_(std::move(options)), endpoints_(std::move(endpoints)) {
    for (Endpoint& endpoint : endpoints_) endpoint.connection = Connect(endpoint);
  }

  ~EtcdClient() { ShutdownWatches(); }

  const EtcdStoreOptions& options() const { return options_; }
  size_t endpoint_count() const { return endpoints_.size(); }
  const EndpointSpec& spec(size_t index) const {
    return endpoints_[index % endpoints_.size()].spec;
  }

  // The current connection to endpoint `index`.
  std::shared_ptr<const Connection> connection(size_t index) {
    std::lock_guard lock(connections_mu_);
    return endpoints_[index % endpoints_.size()].connection;
  }

  // Called after `used` failed as unreachable. A channel that has failed to connect stays
  // in backoff (and its name resolution too) for many seconds after the member is back,
  // so one that is in TRANSIENT_FAILURE is replaced by a fresh channel, at most once per
  // reconnect interval.
  void Reconnect(size_t index, const std::shared_ptr<const Connection>& used) {
    if (used->channel->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) return;
    std::lock_guard lock(connections_mu_);
    Endpoint& endpoint = endpoints_[index % endpoints_.size()];
    if (endpoint.connection != used) return;  // already replaced
    if (std::chrono::steady_clock::now() - used->created < kReconnectInterval) return;
    endpoint.connection = Connect(endpoint);
  }
  size_t preferred() const { return preferred_.load(std::memory_order_relaxed); }
  // Moves on from `index` after it failed, unless another request already did.
  void Rotate(size_t index) {
    size_t expected = index % endpoints_.size();
    preferred_.compare_exchange_strong(expected, (expected + 1) % endpoints_.size(),
                                       std::memory_order_relaxed);
  }

  std::string WireKey(std::string_view key) const { return options_.key_prefix + std::string(key); }
  std::string UserKey(const std::string& wire) const {
    return wire.substr(std::min(options_.key_prefix.size(), wire.size()));
  }
  KeyValue ToKeyValue(const mvccpb::KeyValue& kv) const {
    return KeyValue{.key = UserKey(kv.key()),
                    .value = kv.value(),
                    .create_revision = kv.create_revision(),
                    .mod_revision = kv.mod_revision()};
  }
  // A key no Store caller can name (keys are never empty), for requests about no key.
  std::string ProbeKey() const { return options_.key_prefix + std::string(1, '\0'); }

  void NoteCompacted(int64_t revision) {
    int64_t known = compacted_.load(std::memory_order_relaxed);
    while (revision > known &&
           !compacted_.compare_exchange_weak(known, revision, std::memory_order_relaxed)) {
    }
  }
  int64_t compacted() const { return compacted_.load(std::memory_order_relaxed); }

  template <typename Request, typename Response>
  using KvMethod = grpc::Status (pb::KV::Stub::*)(grpc::ClientContext*, const Request&, Response*);

  // Sends one KV request within `timeout`, trying the next endpoint while an endpoint is
  // unreachable. A request that may change data is resent elsewhere only if its endpoint
  // had no connection when it was sent (so it cannot have been applied).
  template <typename Request, typename Response>
  grpc::Status Call(KvMethod<Request, Response> method, const Request& request, Response& response,
                    bool mutating, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const size_t first = preferred();
    grpc::Status status;
    for (size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
      const size_t index = (first + attempt) % endpoints_.size();
      const std::shared_ptr<const Connection> target = connection(index);
      const bool was_connected = target->channel->GetState(false) == GRPC_CHANNEL_READY;
      grpc::ClientContext context;
      context.set_deadline(deadline);
      status = (target->kv.get()->*method)(&context, request, &response);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
        if (index != first) preferred_.store(index, std::memory_order_relaxed);
        return status;
      }
      Reconnect(index, target);
      if (mutating && was_connected) return status;  // it may have been applied
      if (Clock::now() >= deadline) break;
    }
    Rotate(first);
    return status;
  }

  template <typename Request, typename Response>
  grpc::Status Call(KvMethod<Request, Response> method, const Request& request, Response& response,
                    bool mutating) {
    return Call(method, request, response, mutating, options_.request_timeout);
  }

  // Asks the cluster how far it has compacted and records the answer. etcd has no request
  // for it: a read at revision 1 tells whether anything was compacted, and a watch from
  // revision 1 is then refused with the compacted revision.
  Result<int64_t> LearnCompacted(std::chrono::milliseconds timeout) {
    pb::RangeRequest probe;
    probe.set_key(ProbeKey());
    probe.set_revision(1);
    probe.set_count_only(true);
    pb::RangeResponse ignored;
    grpc::Status status = Call(&pb::KV::Stub::Range, probe, ignored, false, timeout);
    if (status.ok()) return compacted();
    if (!IsCompactedError(status)) return Err(FromGrpc(status, "range"));

    const std::shared_ptr<const Connection> target = connection(preferred());
    grpc::ClientContext context;
    context.set_deadline(Clock::now() + timeout);
    auto stream = target->watch->Watch(&context);
    pb::WatchRequest request;
    pb::WatchCreateRequest* create = request.mutable_create_request();
    create->set_key(ProbeKey());
    create->set_start_revision(1);
    std::optional<int64_t> learnt;
    if (stream->Write(request)) {
      pb::WatchResponse response;
      while (stream->Read(&response)) {
        if (response.compact_revision() > 0) {
          learnt = response.compact_revision();
          break;
        }
        if (response.canceled()) break;
      }
    }
    context.TryCancel();
    grpc::Status finished = stream->Finish();
    if (!learnt) {
      if (finished.ok() || finished.error_code() == grpc::StatusCode::CANCELLED) {
        return Err(StatusCode::kInternal, "etcd did not report its compacted revision");
      }
      return Err(FromGrpc(finished, "watch"));
    }
    NoteCompacted(*learnt);
    return compacted();
  }

  // --- watch threads ---

  // Starts the thread of `state`. Errors: kServiceUnavailable once shut down.
  Status StartWatch(const std::shared_ptr<EtcdWatchState>& state) {
    std::vector<std::thread> finished;
    {
      std::lock_guard lock(watches_mu_);
      if (shut_down_) return Status(StatusCode::kServiceUnavailable, "etcd store is closed");
      // Join threads of watches that were destroyed from their own callback and have exited.
      for (auto it = watches_.begin(); it != watches_.end();) {
        if (it->first->exited()) {
          finished.push_back(std::move(it->second));
          it = watches_.erase(it);
        } else {
          ++it;
        }
      }
      watches_.emplace_back(state, std::thread([this, state] { state->Run(*this); }));
    }
    for (std::thread& thread : finished) thread.join();
    return Status::Ok();
  }

  // Waits for the thread of `state` to exit. REQUIRES: state was cancelled and this is not
  // its thread.
  void JoinWatch(const std::shared_ptr<EtcdWatchState>& state) {
    std::thread thread;
    {
      std::lock_guard lock(watches_mu_);
      auto it = std::find_if(watches_.begin(), watches_.end(),
                             [&](const auto& entry) { return entry.first == state; });
      if (it != watches_.end()) {
        thread = std::move(it->second);
        watches_.erase(it);
      }
    }
    if (thread.joinable()) {
      thread.join();
    } else {
      state->WaitExited();  // being joined by ShutdownWatches
    }
  }

  // Ends every watch with a final error and joins all watch threads.
  void ShutdownWatches() {
    std::vector<std::pair<std::shared_ptr<EtcdWatchState>, std::thread>> watches;
    {
      std::lock_guard lock(watches_mu_);
      shut_down_ = true;
      watches.swap(watches_);
    }
    for (auto& [state, thread] : watches) state->Shutdown();
    for (auto& [state, thread] : watches) thread.join();
  }

 private:
  static constexpr std::chrono::milliseconds kReconnectInterval{500};

  std::shared_ptr<const Connection> Connect(const Endpoint& endpoint) const {
    grpc::ChannelArguments args;
    // Come back quickly once a restarted member listens again. (The minimum backoff is
    // also the connect timeout: a member that accepts connections before it serves them,
    // as etcd does while starting, needs the default.)
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // A replacement channel must not inherit the backoff of the one it replaces.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Notice a silently dead member under an open watch stream.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    args.SetMaxReceiveMessageSize(INT_MAX);  // a large list is one Range response
    auto connection = std::make_shared<Connection>();
    connection->channel =
        grpc::CreateCustomChannel(endpoint.spec.target, endpoint.credentials, args);
    connection->kv = pb::KV::NewStub(connection->channel);
    connection->watch = pb::Watch::NewStub(connection->channel);
    connection->created = std::chrono::steady_clock::now();
    return connection;
  }

  // Constant after construction.
  const EtcdStoreOptions options_;

  std::mutex connections_mu_;
  std::vector<Endpoint> endpoints_;  // the vector and specs are constant

  std::atomic<size_t> preferred_{0};  // the endpoint requests try first
  std::atomic<int64_t> compacted_{0};

  // Protected by watches_mu_.
  std::mutex watches_mu_;
  bool shut_down_ = false;
  std::vector<std::pair<std::shared_ptr<EtcdWatchState>, std::thread>> watches_;
};

void EtcdWatchState::Run(EtcdClient& client) {
  {
    std::lock_guard lock(mu_);
    thread_id_ = std::this_thread::get_id();
  }
  std::chrono::milliseconds delay = client.options().watch_retry_delay;
  size_t index = client.preferred();
  for (;;) {
    const int64_t before = next_revision_;
    if (RunStream(client, index) == StreamEnd::kStop) break;
    if (next_revision_ != before) delay = client.options().watch_retry_delay;
    client.Rotate(index);
    index = client.preferred();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, delay, [&] { return cancelled_ || shutdown_; })) {
      lock.unlock();
      break;
    }
    delay = std::min(delay * 2, client.options().max_watch_retry_delay);
  }
  bool final_error = false;
  {
    std::lock_guard lock(mu_);
    final_error = shutdown_ && !cancelled_;
  }
  if (final_error) Fail(Status(StatusCode::kServiceUnavailable, "etcd store is closed"));
  std::lock_guard lock(mu_);
  exited_ = true;
  cv_.notify_all();
}

EtcdWatchState::StreamEnd EtcdWatchState::RunStream(EtcdClient& client, size_t index) {
  const std::shared_ptr<const EtcdClient::Connection> target = client.connection(index);
  grpc::ClientContext context;
  // Without this a member cut off from the leader would keep the stream open and silent.
  context.AddMetadata("hasleader", "true");
  {
    std::lock_guard lock(mu_);
    if (cancelled_ || shutdown_) return StreamEnd::kStop;
    stream_context_ = &context;
  }
  auto stream = target->watch->Watch(&context);

  pb::WatchRequest request;
  pb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(key_);
  create->set_range_end(range_end_);
  create->set_start_revision(next_revision_);
  create->set_prev_kv(true);
  create->set_progress_notify(true);

  std::optional<Status> final_error;
  bool stop = false;
  if (stream->Write(request)) {
    pb::WatchResponse response;
    while (!stop && stream->Read(&response)) {
      if (response.compact_revision() > 0) {
        client.NoteCompacted(response.compact_revision());
        final_error = CompactedError(next_revision_ - 1, response.compact_revision());
        break;
      }
      if (response.canceled()) {
        final_error =
            Status(StatusCode::kInternal, "etcd cancelled the watch: " + response.cancel_reason());
        break;
      }
      WatchBatch batch;
      int64_t last = 0;
      for (const mvccpb::Event& event : response.events()) {
        const int64_t revision = event.kv().mod_revision();
        // A resumed stream may repeat what an earlier one delivered.
        if (revision < next_revision_) continue;
        last = revision;
        WatchEvent out;
        if (event.type() == mvccpb::Event::DELETE) {
          out.type = WatchEventType::kDelete;
          out.kv.key = client.UserKey(event.kv().key());
          out.kv.mod_revision = revision;
          if (event.has_prev_kv()) {
            out.kv.value = event.prev_kv().value();
            out.kv.create_revision = event.prev_kv().create_revision();
          }
        } else {
          out.type = WatchEventType::kPut;
          out.kv = client.ToKeyValue(event.kv());
        }
        if (event.has_prev_kv()) out.prev = client.ToKeyValue(event.prev_kv());
        batch.events.push_back(std::move(out));
      }
      if (batch.events.empty()) continue;  // created, progress, or already delivered
      next_revision_ = last + 1;
      if (!Deliver(std::move(batch))) stop = true;
    }
  }
  {
    std::lock_guard lock(mu_);
    stream_context_ = nullptr;
    if (cancelled_ || shutdown_) stop = true;
  }
  context.TryCancel();
  grpc::Status status = stream->Finish();
  if (final_error) {
    Fail(std::move(*final_error));
    return StreamEnd::kStop;
  }
  if (stop) return StreamEnd::kStop;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) client.Reconnect(index, target);
  log::V(1, kComponent,
         "watch stream broke; resuming endpoint=" + client.spec(index).url + " next_revision=" +
             std::to_string(next_revision_) + " error=" + status.error_message());
  return StreamEnd::kBroken;
}

namespace {

// The handle given to callers.
class EtcdStoreWatch final : public StoreWatch {
 public:
  EtcdStoreWatch(std::shared_ptr<EtcdClient> client, std::shared_ptr<EtcdWatchState> state)
      : client_(std::move(client)), state_(std::move(state)) {}

  ~EtcdStoreWatch() override {
    state_->Cancel();
    // From inside its own callback the thread cannot be joined; it exits once the callback
    // returns and the client joins it later.
    if (!state_->OnWatchThread()) client_->JoinWatch(state_);
  }

 private:
  std::shared_ptr<EtcdClient> client_;
  std::shared_ptr<EtcdWatchState> state_;
};

}  // namespace

// --- EtcdStore ----------------------------------------------------------------------------

Result<std::vector<std::string>> ParseEtcdEndpoints(std::string_view list) {
  std::vector<std::string> endpoints;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view entry = list.substr(start, comma - start);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) return Err(StatusCode::kBadRequest, "empty etcd endpoint in list");
    endpoints.emplace_back(entry);
    start = comma + 1;
  }
  return endpoints;
}

Result<std::unique_ptr<EtcdStore>> EtcdStore::Open(EtcdStoreOptions options) {
  if (options.endpoints.empty()) return Err(StatusCode::kBadRequest, "no etcd endpoint given");
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Err(StatusCode::kBadRequest, "etcd client certificate and key go together");
  }
  if (options.request_timeout.count() <= 0 || options.dial_timeout.count() <= 0) {
    return Err(StatusCode::kBadRequest, "etcd timeouts must be positive");
  }
  grpc::SslCredentialsOptions tls;
  if (!options.ca_file.empty()) {
    auto ca = ReadPemFile(options.ca_file);
    if (!ca) return Err(std::move(ca.error()));
    tls.pem_root_certs = std::move(*ca);
  }
  if (!options.cert_file.empty()) {
    auto cert = ReadPemFile(options.cert_file);
    if (!cert) return Err(std::move(cert.error()));
    auto key = ReadPemFile(options.key_file);
    if (!key) return Err(std::move(key.error()));
    tls.pem_cert_chain = std::move(*cert);
    tls.pem_private_key = std::move(*key);
  }

  std::vector<EtcdClient::Endpoint> endpoints;
  for (const std::string& url : options.endpoints) {
    auto spec = ParseEndpoint(url);
    if (!spec) return Err(std::move(spec.error()));
    EtcdClient::Endpoint endpoint;
    endpoint.credentials =
        spec->tls ? grpc::SslCredentials(tls) : grpc::InsecureChannelCredentials();
    endpoint.spec = std::move(*spec);
    endpoints.push_back(std::move(endpoint));
  }

  auto client = std::make_shared<EtcdClient>(std::move(options), std::move(endpoints));
  // Wait for a first answer, giving each member a turn, until the dial timeout.
  const auto dial_deadline = Clock::now() + client->options().dial_timeout;
  Status last;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(dial_deadline - Clock::now());
    if (left.count() <= 0) break;
    auto compacted = client->LearnCompacted(std::min(left, client->options().request_timeout));
    if (compacted) {
      return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(client)));
    }
    last = std::move(compacted.error());
    if (last.code() != StatusCode::kServiceUnavailable) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (last.ok()) last = Status(StatusCode::kTimeout, "etcd did not answer in time");
  std::string endpoints_text;
  for (size_t i = 0; i < client->endpoint_count(); ++i) {
    endpoints_text += (i ? "," : "") + client->spec(i).url;
  }
  return Err(last.code(), "cannot reach etcd at " + endpoints_text + ": " + last.message());
}

EtcdStore::EtcdStore(std::shared_ptr<EtcdClient> client) : client_(std::move(client)) {}

EtcdStore::~EtcdStore() { client_->ShutdownWatches(); }

Result<int64_t> EtcdStore::Create(std::string_view key, std::string value) {
  if (key.empty()) return Err(StatusCode::kBadRequest, "key must not be empty");
  const std::string wire = client_->WireKey(key);
  pb::TxnRequest txn;
  pb::Compare* absent = txn.add_compare();
  absent->set_key(wire);
  absent->set_target(pb::Compare::CREATE);
  absent->set_result(pb::Compare::EQUAL);
  absent->set_create_revision(0);
  pb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(wire);
  put->set_value(std::move(value));
  pb::TxnResponse response;
  grpc::Status status = client_->Call(&pb::KV::Stub::Txn, txn, response, true);
  if (!status.ok()) return Err(FromGrpc(status, "create"));
  if (!response.succeeded()) {
    return Err(StatusCode::kAlreadyExists, "key " + Quoted(key) + " already exists");
  }
  return response.header().revision();
}

Result<int64_t> EtcdStore::Update(std::string_view key, std::string value,
                                  int64_t expected_mod_revision) {
  if (key.empty()) return Err(StatusCode::kBadRequest, "key must not be empty");
  if (expected_mod_revision == 0) {
    // etcd would take 0 as "the key is absent" and create it; no live key has revision 0.
    auto current = Get(key);
    if (!current) return Err(std::move(current.error()));
    return Err(StatusCode::kConflict, "key " + Quoted(key) + " was modified: its mod revision is " +
                                          std::to_string(current->mod_revision) + ", expected 0");
  }
  const std::string wire = client_->WireKey(key);
  pb::TxnRequest txn;
  pb::Compare* unchanged = txn.add_compare();
  unchanged->set_key(wire);
  unchanged->set_target(pb::Compare::MOD);
  unchanged->set_result(pb::Compare::EQUAL);
  unchanged->set_mod_revision(expected_mod_revision);
  pb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(wire);
  put->set_value(std::move(value));
  txn.add_failure()->mutable_request_range()->set_key(wire);
  pb::TxnResponse response;
  grpc::Status status = client_->Call(&pb::KV::Stub::Txn, txn, response, true);
  if (!status.ok()) return Err(FromGrpc(status, "update"));
  if (response.succeeded()) return response.header().revision();
  if (response.responses_size() == 0 || response.responses(0).response_range().kvs_size() == 0) {
    return Err(StatusCode::kNotFound, "key " + Quoted(key) + " not found");
  }
  return Err(StatusCode::kConflict,
             "key " + Quoted(key) + " was modified: its mod revision is " +
                 std::to_string(response.responses(0).response_range().kvs(0).mod_revision()) +
                 ", expected " + std::to_string(expected_mod_revision));
}

Result<DeleteResult> EtcdStore::Delete(std::string_view key, int64_t expected_mod_revision) {
  if (key.empty()) return Err(StatusCode::kBadRequest, "key must not be empty");
  const std::string wire = client_->WireKey(key);
  pb::TxnRequest txn;
  if (expected_mod_revision != 0) {
    pb::Compare* unchanged = txn.add_compare();
    unchanged->set_key(wire);
    unchanged->set_target(pb::Compare::MOD);
    unchanged->set_result(pb::Compare::EQUAL);
    unchanged->set_mod_revision(expected_mod_revision);
    txn.add_failure()->mutable_request_range()->set_key(wire);
  }
  pb::DeleteRangeRequest* remove = txn.add_success()->mutable_request_delete_range();
  remove->set_key(wire);
  remove->set_prev_kv(true);
  pb::TxnResponse response;
  grpc::Status status = client_->Call(&pb::KV::Stub::Txn, txn, response, true);
  if (!status.ok()) return Err(FromGrpc(status, "delete"));
  if (response.responses_size() == 0) return Err(StatusCode::kInternal, "etcd txn: no response");
  const pb::ResponseOp& op = response.responses(0);
  if (!response.succeeded()) {
    if (op.response_range().kvs_size() == 0) {
      return Err(StatusCode::kNotFound, "key " + Quoted(key) + " not found");
    }
    return Err(StatusCode::kConflict,
               "key " + Quoted(key) + " was modified: its mod revision is " +
                   std::to_string(op.response_range().kvs(0).mod_revision()) + ", expected " +
                   std::to_string(expected_mod_revision));
  }
  if (op.response_delete_range().prev_kvs_size() == 0) {
    return Err(StatusCode::kNotFound, "key " + Quoted(key) + " not found");
  }
  return DeleteResult{.deleted = client_->ToKeyValue(op.response_delete_range().prev_kvs(0)),
                      .revision = response.header().revision()};
}

Result<KeyValue> EtcdStore::Get(std::string_view key) {
  if (key.empty()) return Err(StatusCode::kNotFound, "key \"\" not found");
  pb::RangeRequest request;
  request.set_key(client_->WireKey(key));
  pb::RangeResponse response;
  grpc::Status status = client_->Call(&pb::KV::Stub::Range, request, response, false);
  if (!status.ok()) return Err(FromGrpc(status, "get"));
  if (response.kvs_size() == 0)
    return Err(StatusCode::kNotFound, "key " + Quoted(key) + " not found");
  return client_->ToKeyValue(response.kvs(0));
}

Result<RangeResult> EtcdStore::Range(std::string_view prefix, std::string_view start_after,
                                     int64_t revision, int64_t limit) {
  if (revision < 0) return Err(StatusCode::kBadRequest, "revision must not be negative");
  if (limit < 0) return Err(StatusCode::kBadRequest, "limit must not be negative");
  const std::string wire_prefix = client_->WireKey(prefix);
  std::string start = wire_prefix;
  if (!start_after.empty()) {
    std::string after = client_->WireKey(start_after);
    after.push_back('\0');  // the first key after start_after
    if (after > start) start = std::move(after);
  }
  if (start.empty()) start.push_back('\0');  // etcd refuses an empty key; "\0" is the least
  pb::RangeRequest request;
  request.set_key(start);
  request.set_range_end(PrefixEnd(wire_prefix));
  request.set_revision(revision);
  request.set_limit(limit);
  // Keys come in ascending order without asking: a requested sort would make etcd read the
  // whole range before applying the limit.
  pb::RangeResponse response;
  grpc::Status status = client_->Call(&pb::KV::Stub::Range, request, response, false);
  if (IsCompactedError(status)) {
    auto compacted = client_->LearnCompacted(client_->options().request_timeout);
    return Err(CompactedError(revision, compacted.value_or(client_->compacted())));
  }
  if (!status.ok()) return Err(FromGrpc(status, "range"));
  RangeResult result;
  result.revision = revision != 0 ? revision : response.header().revision();
  result.more = response.more();
  result.kvs.reserve(response.kvs_size());
  for (const mvccpb::KeyValue& kv : response.kvs()) result.kvs.push_back(client_->ToKeyValue(kv));
  return result;
}

Result<std::unique_ptr<StoreWatch>> EtcdStore::Watch(std::string_view prefix,
                                                     int64_t after_revision,
                                                     WatchCallback callback) {
  if (after_revision < 0) return Err(StatusCode::kBadRequest, "revision must not be negative");
  if (!callback) return Err(StatusCode::kBadRequest, "watch callback must be set");
  if (after_revision < client_->compacted()) {
    return Err(CompactedError(after_revision, client_->compacted()));
  }
  // Refuse compacted history now rather than in the first callback: a read at the
  // revision fails exactly when it is older than the compacted revision.
  pb::RangeRequest probe;
  probe.set_key(client_->ProbeKey());
  probe.set_revision(std::max<int64_t>(after_revision, 1));
  probe.set_count_only(true);
  pb::RangeResponse ignored;
  grpc::Status status = client_->Call(&pb::KV::Stub::Range, probe, ignored, false);
  if (IsCompactedError(status)) {
    auto compacted = client_->LearnCompacted(client_->options().request_timeout);
    return Err(CompactedError(after_revision, compacted.value_or(client_->compacted())));
  }
  // A revision in the future is fine to watch from.
  if (!status.ok() && status.error_code() != grpc::StatusCode::OUT_OF_RANGE) {
    return Err(FromGrpc(status, "watch"));
  }
  const std::string wire_prefix = client_->WireKey(prefix);
  auto state = std::make_shared<EtcdWatchState>(
      wire_prefix.empty() ? std::string(1, '\0') : wire_prefix, PrefixEnd(wire_prefix),
      after_revision + 1, std::move(callback));
  if (Status started = client_->StartWatch(state); !started.ok()) return Err(std::move(started));
  return std::unique_ptr<StoreWatch>(new EtcdStoreWatch(client_, std::move(state)));
}

Result<int64_t> EtcdStore::CurrentRevision() {
  pb::RangeRequest request;
  request.set_key(client_->ProbeKey());
  request.set_count_only(true);
  pb::RangeResponse response;
  grpc::Status status = client_->Call(&pb::KV::Stub::Range, request, response, false);
  if (!status.ok()) return Err(FromGrpc(status, "current revision"));
  return response.header().revision();
}

Status EtcdStore::Compact(int64_t revision) {
  if (revision < 0) return Status(StatusCode::kBadRequest, "revision must not be negative");
  if (revision <= client_->compacted()) {
    if (revision == client_->compacted()) return Status::Ok();
    return CompactedError(revision, client_->compacted());
  }
  pb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(false);
  pb::CompactionResponse response;
  grpc::Status status = client_->Call(&pb::KV::Stub::Compact, request, response, true);
  if (status.ok()) {
    client_->NoteCompacted(revision);
    return Status::Ok();
  }
  if (IsCompactedError(status)) {
    // Another client compacted further (or as far): learn how far.
    auto compacted = client_->LearnCompacted(client_->options().request_timeout);
    if (!compacted) return std::move(compacted.error());
    if (*compacted == revision) return Status::Ok();
    return CompactedError(revision, *compacted);
  }
  return FromGrpc(status, "compact");
}

int64_t EtcdStore::CompactedRevision() { return client_->compacted(); }

}  // namespace skiff
