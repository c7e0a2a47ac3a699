// Opening the datastore that `skiff server` and `skiff datastore` are pointed at by their
// flags: the embedded SQLite file under the data dir, or an etcd cluster given by
// --datastore-endpoint (with --datastore-cafile/--datastore-certfile/--datastore-keyfile).
// Thread safety: stateless functions.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "storage/store.h"

namespace skiff {

struct DatastoreOptions {
  std::string data_dir = "/var/lib/skiff";  // used when `endpoint` is empty
  // --datastore-endpoint: comma-separated etcd client URLs ("etcd://h1:2379,h2:2379",
  // "https://h1:2379", ...). Empty: the embedded SQLite datastore.
  std::string endpoint;
  std::string ca_file;    // --datastore-cafile
  std::string cert_file;  // --datastore-certfile
  std::string key_file;   // --datastore-keyfile
};

// True when the options name an etcd cluster rather than the embedded datastore.
inline bool UsesEtcd(const DatastoreOptions& options) { return !options.endpoint.empty(); }

// DATA_DIR/db/state.db: where the embedded datastore lives.
std::string SqliteDatastorePath(const std::string& data_dir);

// Human-readable name of the datastore, for logs and messages.
std::string DatastoreDescription(const DatastoreOptions& options);

// Checks that the flags fit together. Errors: kBadRequest for TLS files given without an
// endpoint or a malformed endpoint list.
Status ValidateDatastoreOptions(const DatastoreOptions& options);

// Opens the datastore, creating DATA_DIR/db for SQLite when needed.
// Errors: kBadRequest for a malformed endpoint list or TLS files given without an
// endpoint; errors of SqliteStore::Open / EtcdStore::Open.
Result<std::unique_ptr<Store>> OpenDatastore(const DatastoreOptions& options);

}  // namespace skiff
