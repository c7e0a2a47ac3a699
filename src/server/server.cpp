#include "server/server.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "api/catalogue.h"
#include "apiserver/api_server.h"
#include "apiserver/authn.h"
#include "apiserver/authz.h"
#include "apiserver/https_server.h"
#include "apiserver/pki.h"
#include "base/k8s_time.h"
#include "base/log.h"
#include "base/uuid.h"
#include "client/in_process_client.h"
#include "controllers/controller_manager.h"
#include "server/snapshot_scheduler.h"
#include "storage/open_store.h"

namespace skiff {

namespace {

std::mutex g_stop_mu;
std::condition_variable g_stop_cv;
bool g_stop_requested = false;

Result<std::pair<int, int>> ParsePortRange(const std::string& range) {
  auto dash = range.find('-');
  if (dash == std::string::npos)
    return Err(StatusCode::kInvalid, "--service-node-port-range must look like 30000-32767");
  try {
    int lo = std::stoi(range.substr(0, dash));
    int hi = std::stoi(range.substr(dash + 1));
    if (lo <= 0 || hi > 65535 || lo > hi) throw std::out_of_range("range");
    return std::make_pair(lo, hi);
  } catch (...) {
    return Err(StatusCode::kInvalid,
               "--service-node-port-range is not a valid port range: " + range);
  }
}

// "<host>_<uuid>", the uuid made once and kept in DATA_DIR/identity.
Result<std::string> ServerIdentity(const std::string& data_dir) {
  namespace fs = std::filesystem;
  const fs::path file = fs::path(data_dir) / "identity";
  std::string id;
  if (FILE* f = std::fopen(file.c_str(), "r")) {
    char buf[128] = {};
    if (std::fgets(buf, sizeof(buf), f)) id = buf;
    std::fclose(f);
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  }
  if (id.empty()) {
    id = NewUuid();
    Status st = WriteFileAtomically(file, id + "\n", 0644);
    if (!st.ok()) return std::unexpected(st);
  }
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof(host), "%s", "skiff");
  return std::string(host) + "_" + id;
}

}  // namespace

void RequestServerStop() {
  {
    std::lock_guard lock(g_stop_mu);
    g_stop_requested = true;
  }
  g_stop_cv.notify_all();
}

Status RunServer(const ServerOptions& opts) {
  auto started = std::chrono::steady_clock::now();
  // Every watch holds a connection: allow as many descriptors as the system lets us.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(opts.data_dir) / "db", ec);
  if (ec)
    return Status(StatusCode::kInternal,
                  "cannot create data dir " + opts.data_dir + ": " + ec.message());

  auto ports = ParsePortRange(opts.service_node_port_range);
  if (!ports) return ports.error();

  auto catalogue = api::Catalogue::LoadBuiltin();
  if (!catalogue) return catalogue.error();

  auto compaction = ParseGoDuration(opts.compaction_interval);
  if (!compaction || compaction->count() < 0) {
    return Status(StatusCode::kInvalid, "--compaction-interval must be a duration like 5m0s, got " +
                                            opts.compaction_interval);
  }
  if (opts.datastore_endpoint.empty() && !opts.datastore_endpoint_events.empty()) {
    return Status(StatusCode::kInvalid,
                  "--datastore-endpoint-events requires --datastore-endpoint");
  }

  DatastoreOptions datastore;
  datastore.data_dir = opts.data_dir;
  datastore.endpoint = opts.datastore_endpoint;
  datastore.ca_file = opts.datastore_cafile;
  datastore.cert_file = opts.datastore_certfile;
  datastore.key_file = opts.datastore_keyfile;
  auto opened_store = OpenDatastore(datastore);
  if (!opened_store) return opened_store.error();
  std::unique_ptr<Store> store = std::move(*opened_store);
  log::Info("server", "datastore " + DatastoreDescription(datastore));
  std::unique_ptr<Store> events_store;
  if (!opts.datastore_endpoint_events.empty()) {
    DatastoreOptions events = datastore;
    events.endpoint = opts.datastore_endpoint_events;
    auto opened = OpenDatastore(events);
    if (!opened) return opened.error();
    log::Info("server", "events datastore " + DatastoreDescription(events));
    events_store = std::move(*opened);
  }

  std::unique_ptr<SnapshotScheduler> snapshots;
  if (!opts.snapshot_schedule.empty()) {
    SnapshotScheduleOptions snapshot_opts;
    snapshot_opts.schedule = opts.snapshot_schedule;
    snapshot_opts.retention = opts.snapshot_retention;
    snapshot_opts.directory = opts.snapshot_dir.empty()
                                  ? (fs::path(opts.data_dir) / "snapshots").string()
                                  : opts.snapshot_dir;
    char host_name[256] = {};
    if (::gethostname(host_name, sizeof(host_name) - 1) != 0 || host_name[0] == '\0') {
      std::snprintf(host_name, sizeof(host_name), "%s", "skiff");
    }
    snapshot_opts.node_name = host_name;
    auto scheduler = SnapshotScheduler::Start(*store, std::move(snapshot_opts));
    if (!scheduler) return scheduler.error();
    snapshots = std::move(*scheduler);
  }

  ClusterPkiOptions pki_opts;
  pki_opts.service_cidr = opts.service_cluster_ip_range;
  pki_opts.extra_sans = opts.tls_sans;
  auto pki = EnsureClusterPki(fs::path(opts.data_dir) / "tls", pki_opts);
  if (!pki) return pki.error();

  std::vector<std::unique_ptr<Authenticator>> authenticators;
  authenticators.push_back(std::make_unique<ClientCertAuthenticator>());
  if (!opts.token_auth_file.empty()) {
    auto tokens = StaticTokenAuthenticator::FromFile(opts.token_auth_file);
    if (!tokens) return tokens.error();
    authenticators.push_back(std::move(*tokens));
  }
  UnionAuthenticator authenticator(std::move(authenticators));
  AllowAllAuthorizer authorizer;

  // Like kube-apiserver, advertise the host's first non-loopback IPv4 address by default.
  std::string advertise = opts.advertise_address;
  if (advertise.empty()) {
    for (const auto& addr : HostInterfaceAddresses()) {
      if (addr.find(':') == std::string::npos && !addr.starts_with("127.")) {
        advertise = addr;
        break;
      }
    }
  }
  if (advertise.empty()) advertise = "127.0.0.1";
  ApiServerOptions api_opts;
  api_opts.service_cluster_ip_range = opts.service_cluster_ip_range;
  api_opts.service_node_port_min = ports->first;
  api_opts.service_node_port_max = ports->second;
  api_opts.advertise_address = advertise + ":" + std::to_string(opts.secure_port);
  api_opts.cluster_ca_pem = pki->ca.cert_pem;
  api_opts.service_account_key_pem = pki->service_account_key_pem;
  api_opts.compaction_interval_seconds =
      static_cast<int>(std::chrono::ceil<std::chrono::seconds>(*compaction).count());
  ApiServer api(api_opts, **catalogue, *store, authenticator, authorizer, events_store.get());
  Status st = api.Start();
  if (!st.ok()) return st;

  HttpsServerOptions http_opts;
  http_opts.bind_address = opts.bind_address;
  http_opts.port = static_cast<uint16_t>(opts.secure_port);
  http_opts.cert_pem = pki->serving.cert_pem;
  http_opts.key_pem = pki->serving.key_pem;
  http_opts.client_ca_pem = pki->ca.cert_pem;
  http_opts.worker_threads = opts.worker_threads;
  http_opts.io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto http = HttpsServer::Start(http_opts,
                                 [&api](HttpRequest&& req) { return api.Handle(std::move(req)); });
  if (!http) return http.error();
  int port = (*http)->port();
  st = api.PublishEndpoint(advertise, port);
  if (!st.ok()) log::Warn("server", "kubernetes service not published: " + st.message());

  // The controllers, through the same request path as every client. The election
  // identity persists in the data dir, so a restarted server takes its own lease back at
  // once instead of waiting for it to expire.
  InProcessClient controller_client(
      [&api](HttpRequest&& req) { return api.Handle(std::move(req)); },
      "system:kube-controller-manager", {});
  ControllerManagerOptions cm_opts;
  cm_opts.controllers = opts.controllers;
  cm_opts.leader_elect = opts.leader_elect;
  auto identity = ServerIdentity(opts.data_dir);
  if (!identity) return identity.error();
  cm_opts.election.identity = *identity;
  ControllerManager controllers(controller_client, cm_opts);
  st = controllers.Start();
  if (!st.ok()) return st;

  std::string kubeconfig = opts.write_kubeconfig.empty()
                               ? (fs::path(opts.data_dir) / "admin.kubeconfig").string()
                               : opts.write_kubeconfig;
  std::string host =
      opts.bind_address == "0.0.0.0" || opts.bind_address == "::" ? "127.0.0.1" : opts.bind_address;
  st = WriteKubeconfig(kubeconfig, "https://" + host + ":" + std::to_string(port), pki->ca.cert_pem,
                       pki->admin.cert_pem, pki->admin.key_pem);
  if (!st.ok()) return st;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started);
  log::Info("server", "ready port=" + std::to_string(port) + " kubeconfig=" + kubeconfig +
                          " startup_ms=" + std::to_string(ms.count()));

  {
    std::unique_lock lock(g_stop_mu);
    g_stop_cv.wait(lock, [] { return g_stop_requested; });
  }
  log::Info("server", "shutting down");
  controllers.Stop();
  snapshots.reset();
  (*http)->Stop();
  api.Stop();
  return Status::Ok();
}

}  // namespace skiff
