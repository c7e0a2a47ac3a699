// Server: `skiff server` wired together — datastore, cluster PKI, authentication, the
// API server and its HTTPS transport.
// Thread safety: Run blocks the calling thread; RequestStop may be called from any thread
// (including a signal-handling thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace skiff {

struct ServerOptions {
  std::string data_dir = "/var/lib/skiff";
  std::string bind_address = "0.0.0.0";
  int secure_port = 6443;
  std::string write_kubeconfig;  // default: <data_dir>/admin.kubeconfig
  bool disable_agent = false;
  std::string service_cluster_ip_range = "10.43.0.0/16";
  std::string service_node_port_range = "30000-32767";
  std::string token_auth_file;
  std::string advertise_address;  // default: 127.0.0.1
  std::vector<std::string> tls_sans;
  int worker_threads = 16;
  // etcd instead of the embedded SQLite store: "etcd://h1:2379,h2:2379" (also http://,
  // https://). Empty: SQLite under data_dir.
  std::string datastore_endpoint;
  // A second etcd for core/v1 Events (/registry/events/). Empty: Events live with the rest.
  std::string datastore_endpoint_events;
  // PEM files for https:// datastore endpoints (both stores).
  std::string datastore_cafile;
  std::string datastore_certfile;
  std::string datastore_keyfile;
  // How often history is compacted, as a Go duration ("5m0s", "300s"; "0" disables).
  std::string compaction_interval = "5m0s";
  // Scheduled datastore snapshots (off when the schedule is empty).
  std::string snapshot_schedule;  // five-field cron expression or @macro
  int snapshot_retention = 5;
  std::string snapshot_dir;  // default: <data_dir>/snapshots
  // kube-controller-manager's --controllers ("*", "name", "-name").
  std::vector<std::string> controllers = {"*"};
  // Elect one server to run the controllers (a Lease in kube-system).
  bool leader_elect = true;
};

// Starts the server and serves until RequestStop (or SIGINT/SIGTERM via cmd/skiff).
// Errors: any start-up failure (bad flags, unreadable data dir, port in use).
Status RunServer(const ServerOptions& options);

// Asks a running RunServer to shut down gracefully.
void RequestServerStop();

}  // namespace skiff
