// EtcdStore: the Store backend for a real etcd v3 cluster, spoken to over gRPC.
//
// Every Store operation is one etcd request (or two, for a failure that must be told
// apart), so the revisions a caller sees are etcd's own revisions:
//   Create   Txn(create_revision(key) == 0 ? Put)
//   Update   Txn(mod_revision(key) == expected ? Put : Range(key))
//   Delete   Txn(mod_revision(key) == expected ? DeleteRange(prev_kv) : Range(key)), or a
//            plain DeleteRange(prev_kv) when no revision is expected
//   Get      Range(key)
//   Range    Range([max(prefix, start_after + "\0"), prefix end), revision, limit)
//   Watch    a Watch stream per StoreWatch, with prev_kv, from after_revision + 1
//   Compact  Compact(revision, physical = false)
// All keys may live under a `key_prefix` (like the API server's --etcd-prefix), which
// callers never see.
//
// etcd starts at revision 1 and counts every write of every client, so revisions are
// increasing but a caller sharing the cluster must not assume they are consecutive.
//
// Failures: each RPC carries a deadline (request_timeout), so a down cluster yields
// kServiceUnavailable (nothing reachable) or kTimeout (no answer in time), never a hang.
// A request that finds an endpoint unreachable is retried on the next endpoint within the
// same deadline; later requests start from the endpoint that last answered.
//
// Thread safety: all public methods may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/store.h"

namespace skiff {

struct EtcdStoreOptions {
  // Client URLs of the cluster members: "http://h1:2379" or "https://h1:2379" (TLS), or a
  // bare "h1:2379" (plaintext). At least one.
  std::vector<std::string> endpoints;
  // PEM files for https endpoints: the CA that signed the servers' certificates (empty:
  // the system roots), and a client certificate and key (both or neither).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // Prepended to every key on the wire; callers see keys without it. May be empty.
  std::string key_prefix;
  // How long Open waits for a first answer from the cluster.
  std::chrono::milliseconds dial_timeout{5000};
  // Deadline of every request (including failover to other endpoints).
  std::chrono::milliseconds request_timeout{5000};
  // Pause between attempts to re-establish a broken watch stream, doubled per failed
  // attempt up to max_watch_retry_delay.
  std::chrono::milliseconds watch_retry_delay{100};
  std::chrono::milliseconds max_watch_retry_delay{2000};
};

// Parses a comma-separated endpoint list ("http://h1:2379,http://h2:2379"; an "etcd://"
// scheme is taken as plaintext). Errors: kBadRequest for an empty list or an empty entry.
Result<std::vector<std::string>> ParseEtcdEndpoints(std::string_view list);

class EtcdClient;

class EtcdStore final : public Store {
 public:
  // Connects to the cluster and learns its current and compacted revisions.
  // Errors: kBadRequest for invalid options; kInternal if a TLS file cannot be read;
  // kServiceUnavailable / kTimeout if no endpoint answers within dial_timeout.
  static Result<std::unique_ptr<EtcdStore>> Open(EtcdStoreOptions options);

  // Ends every watch still open (each gets one final kServiceUnavailable error) and
  // closes the connections. REQUIRES: no other call on this store is in progress or
  // starts. StoreWatch handles may outlive the store.
  ~EtcdStore() override;

  EtcdStore(const EtcdStore&) = delete;
  EtcdStore& operator=(const EtcdStore&) = delete;

  // Store
  //
  // As SqliteStore: an empty key is kBadRequest; Update with an expected revision of 0
  // (or less) on a live key is kConflict; negative revisions and limits are kBadRequest;
  // Compact(CompactedRevision()) is a no-op success. A write whose outcome is unknown (the
  // deadline passed after it was sent) returns kTimeout and may or may not have happened.
  //
  // Watch: a watch runs on its own thread, which runs its callbacks (so callbacks of one
  // watch never overlap) and may call this store. When the stream breaks (a member
  // restarts, a connection drops) the watch reconnects, to the next endpoint if needed,
  // from the revision after the last one it delivered, retrying until the StoreWatch is
  // destroyed: the callback sees neither a gap nor a duplicate. It ends with an error only
  // when etcd can no longer serve it: kGone once its next revision has been compacted.
  // Destroying the StoreWatch from another thread waits for a running callback to return;
  // from inside its own callback it returns at once.
  Result<int64_t> Create(std::string_view key, std::string value) override;
  Result<int64_t> Update(std::string_view key, std::string value,
                         int64_t expected_mod_revision) override;
  Result<DeleteResult> Delete(std::string_view key, int64_t expected_mod_revision) override;
  Result<KeyValue> Get(std::string_view key) override;
  Result<RangeResult> Range(std::string_view prefix, std::string_view start_after, int64_t revision,
                            int64_t limit) override;
  Result<std::unique_ptr<StoreWatch>> Watch(std::string_view prefix, int64_t after_revision,
                                            WatchCallback callback) override;
  Result<int64_t> CurrentRevision() override;
  Status Compact(int64_t revision) override;
  // The highest compaction this store has performed or learnt of from the cluster (at
  // Open, and whenever etcd reports requested history as compacted).
  int64_t CompactedRevision() override;

 private:
  explicit EtcdStore(std::shared_ptr<EtcdClient> client);

  // Constant after construction; internally synchronised. Shared with watch handles.
  const std::shared_ptr<EtcdClient> client_;
};

}  // namespace skiff
