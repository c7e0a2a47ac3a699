// skiff: Kubernetes in one binary. Subcommands: server (control plane), datastore
// (snapshot save/restore).
#include <pthread.h>
#include <csignal>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "server/server.h"
#include "storage/datastore_snapshot.h"

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

// Datastore selection flags shared by the `datastore` subcommands (as on `skiff server`).
void AddDatastoreFlags(CLI::App* cmd, skiff::DatastoreOptions& options) {
  cmd->add_option("--data-dir", options.data_dir, "Data dir holding the embedded datastore")
      ->capture_default_str();
  cmd->add_option("--datastore-endpoint", options.endpoint,
                  "etcd client URLs, comma-separated (etcd://h1:2379,h2:2379 or https://...)");
  cmd->add_option("--datastore-cafile", options.ca_file, "CA certificate of the etcd servers");
  cmd->add_option("--datastore-certfile", options.cert_file, "Client certificate for etcd");
  cmd->add_option("--datastore-keyfile", options.key_file, "Client key for etcd");
}

std::string MiB(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// Reports progress on stderr at most once a second.
skiff::SnapshotProgressFn ProgressPrinter(const char* what) {
  auto next = std::make_shared<std::chrono::steady_clock::time_point>(
      std::chrono::steady_clock::now() + std::chrono::seconds(1));
  return [what, next](const skiff::SnapshotProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now < *next) return;
    *next = now + std::chrono::seconds(1);
    std::string line = std::string(what) + ": " + std::to_string(p.keys);
    if (p.total_keys > 0) line += "/" + std::to_string(p.total_keys);
    line += " keys, " + MiB(p.bytes);
    std::fprintf(stderr, "%s\n", line.c_str());
  };
}

int SnapshotSave(const skiff::DatastoreOptions& options, const std::string& file) {
  auto header = skiff::SaveDatastoreSnapshot(options, file, ProgressPrinter("saving"));
  if (!header) {
    std::fprintf(stderr, "error: snapshot save failed: %s\n", header.error().message().c_str());
    return 1;
  }
  auto reader = skiff::SnapshotReader::Open(file);
  if (!reader) {
    std::fprintf(stderr, "error: snapshot written but unreadable: %s\n",
                 reader.error().message().c_str());
    return 1;
  }
  std::printf("Snapshot saved to %s: revision %lld, %zu keys (from %s)\n", file.c_str(),
              static_cast<long long>(header->revision), (*reader)->size(),
              skiff::DatastoreDescription(options).c_str());
  return 0;
}

int SnapshotRestore(const skiff::DatastoreOptions& options, const std::string& file) {
  auto summary = skiff::RestoreDatastoreSnapshot(options, file, ProgressPrinter("restoring"));
  if (!summary) {
    std::fprintf(stderr, "error: snapshot restore failed: %s\n", summary.error().message().c_str());
    return 1;
  }
  std::printf(
      "Snapshot %s restored into %s: %llu keys; snapshot revision %lld, datastore revision "
      "%lld\n",
      file.c_str(), skiff::DatastoreDescription(options).c_str(),
      static_cast<unsigned long long>(summary->keys),
      static_cast<long long>(summary->snapshot.revision),
      static_cast<long long>(summary->revision));
  return 0;
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
  srv->add_option("--snapshot-schedule", server.snapshot_schedule,
                  "Cron schedule of datastore snapshots (e.g. \"0 */12 * * *\"); none if empty");
  srv->add_option("--snapshot-retention", server.snapshot_retention,
                  "Number of scheduled snapshots to keep")
      ->capture_default_str();
  srv->add_option("--snapshot-dir", server.snapshot_dir,
                  "Directory of scheduled snapshots (default DATA_DIR/snapshots)");
  srv->add_option("--controllers", server.controllers,
                  "Controllers to run: '*' for the default set, 'name' to enable, '-name' to "
                  "disable (comma-separated)")
      ->delimiter(',');
  srv->add_flag("--leader-elect,!--no-leader-elect", server.leader_elect,
                "Elect one server to run the controllers (--leader-elect=false: run them here)");
  srv->add_option("-v,--v", verbosity, "Log verbosity (klog-style)");

  CLI::App* datastore = app.add_subcommand("datastore", "Manage the datastore");
  datastore->require_subcommand(1);
  CLI::App* snapshot = datastore->add_subcommand("snapshot", "Save or restore datastore snapshots");
  snapshot->require_subcommand(1);
  skiff::DatastoreOptions save_opts;
  std::string save_file;
  CLI::App* save = snapshot->add_subcommand("save", "Write a snapshot of the datastore to FILE");
  save->add_option("FILE", save_file, "Snapshot file to write")->required();
  AddDatastoreFlags(save, save_opts);
  skiff::DatastoreOptions restore_opts;
  std::string restore_file;
  CLI::App* restore =
      snapshot->add_subcommand("restore", "Restore the snapshot FILE into a new, empty datastore");
  restore->add_option("FILE", restore_file, "Snapshot file to read")->required();
  AddDatastoreFlags(restore, restore_opts);

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
  if (save->parsed()) return SnapshotSave(save_opts, save_file);
  if (restore->parsed()) return SnapshotRestore(restore_opts, restore_file);
  return 0;
}
