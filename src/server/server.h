// Server: `skiff server` wired together — datastore, cluster PKI, authentication, the
// API server and its HTTPS transport.
// Thread safety: Run blocks the calling thread; RequestStop may be called from any thread
// (including a signal-handling thread).
#pragma once

#include <memory>
#include <string>

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
  // Scheduled datastore snapshots (off when the schedule is empty).
  std::string snapshot_schedule;  // five-field cron expression or @macro
  int snapshot_retention = 5;
  std::string snapshot_dir;  // default: <data_dir>/snapshots
};

// Starts the server and serves until RequestStop (or SIGINT/SIGTERM via cmd/skiff).
// Errors: any start-up failure (bad flags, unreadable data dir, port in use).
Status RunServer(const ServerOptions& options);

// Asks a running RunServer to shut down gracefully.
void RequestServerStop();

}  // namespace skiff
