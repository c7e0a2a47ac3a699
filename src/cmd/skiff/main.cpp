// skiff: Kubernetes in one binary. Subcommands: server (control plane).
#include <pthread.h>
#include <csignal>

#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "server/server.h"

namespace {

// Waits for SIGINT/SIGTERM on a dedicated thread and asks the server to stop.
std::thread StartSignalThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    skiff::RequestServerStop();
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Skiff: Kubernetes, in one binary"};
  app.require_subcommand(1);
  int verbosity = 0;
  app.add_option("-v,--v", verbosity, "Log verbosity (klog-style)");

  skiff::ServerOptions server;
  CLI::App* srv = app.add_subcommand("server", "Run the control plane (API server, datastore)");
  srv->add_option("--data-dir", server.data_dir, "Directory for state, certificates and kubeconfig")
      ->capture_default_str();
  srv->add_option("--bind-address", server.bind_address, "Address to serve HTTPS on")
      ->capture_default_str();
  srv->add_option("--secure-port", server.secure_port, "HTTPS port (0 picks a free one)")
      ->capture_default_str();
  srv->add_option("--write-kubeconfig", server.write_kubeconfig,
                  "Where to write the admin kubeconfig (default DATA_DIR/admin.kubeconfig)");
  srv->add_flag("--disable-agent", server.disable_agent, "Do not run a node agent in this process");
  srv->add_option("--service-cluster-ip-range", server.service_cluster_ip_range,
                  "CIDR for Service cluster IPs")
      ->capture_default_str();
  srv->add_option("--service-node-port-range", server.service_node_port_range,
                  "Port range for NodePort Services")
      ->capture_default_str();
  srv->add_option("--token-auth-file", server.token_auth_file,
                  "Static bearer tokens (CSV: token,user,uid,\"groups\")");
  srv->add_option("--advertise-address", server.advertise_address,
                  "Address clients reach this server at");
  srv->add_option("--tls-san", server.tls_sans,
                  "Extra subject alternative names for the serving certificate");
  srv->add_option("--datastore-endpoint", server.datastore_endpoint,
                  "etcd endpoints (etcd://h1:2379,h2:2379; http:// or https://) instead of the "
                  "embedded SQLite datastore");
  srv->add_option("--datastore-endpoint-events", server.datastore_endpoint_events,
                  "etcd endpoints for core/v1 Events (kube-apiserver's --etcd-servers-overrides)");
  srv->add_option("--datastore-cafile", server.datastore_cafile,
                  "CA certificate (PEM) that signed the etcd servers' certificates");
  srv->add_option("--datastore-certfile", server.datastore_certfile,
                  "Client certificate (PEM) for etcd");
  srv->add_option("--datastore-keyfile", server.datastore_keyfile, "Client key (PEM) for etcd");
  srv->add_option("--compaction-interval", server.compaction_interval,
                  "How often datastore history is compacted (e.g. 5m0s; 0 disables)")
      ->capture_default_str();
  srv->add_option("-v,--v", verbosity, "Log verbosity (klog-style)");

  CLI11_PARSE(app, argc, argv);
  skiff::log::SetVerbosity(verbosity);

  if (srv->parsed()) {
    std::thread signals = StartSignalThread();
    skiff::Status st = skiff::RunServer(server);
    // Wake the signal thread if no signal came, then join it.
    pthread_kill(signals.native_handle(), SIGTERM);
    signals.join();
    if (!st.ok()) {
      skiff::log::Error("server", st.ToString());
      return 1;
    }
    return 0;
  }
  return 0;
}
