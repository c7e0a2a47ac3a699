// The Store contract suite's backend entry for etcd: each test gets its own key prefix on
// the etcd shared by the test process (etcd_test_server.h).
//
// store_contract.h is compiled in exactly one translation unit of the storage test binary,
// which instantiates the suite for every backend; for etcd that is:
//
//   #include "storage/etcd_test_env.h"
//   INSTANTIATE_TEST_SUITE_P(Etcd, StoreContractTest,
//                            ::testing::Values(etcd_test::EtcdContractBackend()),
//                            StoreContractBackendName);
#pragma once

#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "storage/etcd/etcd_store.h"
#include "storage/etcd_test_server.h"
#include "storage/store_contract.h"

namespace skiff::etcd_test {

// Each contract test gets its own key prefix on the shared etcd, so it starts with no keys;
// tests of one process run one after another, so revisions only move under its own writes.
class EtcdTestEnv final : public StoreTestEnv {
 public:
  EtcdTestEnv() {
    static std::atomic<int> next = 0;
    prefix_ = "/skiff-test-" + std::to_string(::getpid()) + "-" + std::to_string(next++);
  }
  Result<std::unique_ptr<Store>> Open() override {
    auto server = SharedEtcd();
    if (!server) return Err(std::move(server.error()));
    auto store = EtcdStore::Open((*server)->Options(prefix_));
    if (!store) return Err(std::move(store.error()));
    return std::unique_ptr<Store>(std::move(*store));
  }

 private:
  std::string prefix_;
};

inline StoreContractBackend EtcdContractBackend() {
  return StoreContractBackend{.name = "Etcd",
                              .make_env = [] { return std::make_unique<EtcdTestEnv>(); },
                              .supports_reopen = true,
                              // etcd starts at revision 1, so its first write is 2.
                              .first_write_is_revision_one = false};
}

}  // namespace skiff::etcd_test
