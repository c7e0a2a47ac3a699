#include "storage/open_store.h"

#include <filesystem>

#include "storage/etcd/etcd_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace skiff {

std::string SqliteDatastorePath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "db" / "state.db").string();
}

std::string DatastoreDescription(const DatastoreOptions& options) {
  if (UsesEtcd(options)) return "etcd " + options.endpoint;
  return "sqlite " + SqliteDatastorePath(options.data_dir);
}

Status ValidateDatastoreOptions(const DatastoreOptions& options) {
  if (UsesEtcd(options)) {
    auto endpoints = ParseEtcdEndpoints(options.endpoint);
    return endpoints ? Status::Ok() : endpoints.error();
  }
  if (!options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty()) {
    return Status(StatusCode::kBadRequest,
                  "--datastore-cafile, --datastore-certfile and --datastore-keyfile need "
                  "--datastore-endpoint");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Store>> OpenDatastore(const DatastoreOptions& options) {
  if (Status st = ValidateDatastoreOptions(options); !st.ok()) return Err(std::move(st));
  if (!UsesEtcd(options)) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(options.data_dir) / "db", ec);
    if (ec) {
      return Err(StatusCode::kInternal,
                 "cannot create data dir " + options.data_dir + ": " + ec.message());
    }
    auto store = SqliteStore::Open(SqliteDatastorePath(options.data_dir));
    if (!store) return Err(std::move(store.error()));
    return std::unique_ptr<Store>(std::move(*store));
  }
  auto endpoints = ParseEtcdEndpoints(options.endpoint);
  if (!endpoints) return Err(std::move(endpoints.error()));
  EtcdStoreOptions etcd;
  etcd.endpoints = std::move(*endpoints);
  etcd.ca_file = options.ca_file;
  etcd.cert_file = options.cert_file;
  etcd.key_file = options.key_file;
  auto store = EtcdStore::Open(std::move(etcd));
  if (!store) return Err(std::move(store.error()));
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace skiff
