// ServiceAllocator: cluster IPs from --service-cluster-ip-range and node ports from
// --service-node-port-range, without duplicates — also across several API servers that
// share one store.
//
// As in Kubernetes, what is allocated lives in the store, as two RangeAllocation objects
// holding a bitmap each: /registry/ranges/serviceips (bit i = the range's address i) and
// /registry/ranges/servicenodeports (bit i = port min + i). Every allocation or release is
// a read-modify-write of the bitmap guarded by its mod revision (compare-and-swap), retried
// on a conflict, so two servers never hand out the same address or port.
//
// A create or update takes what it needs before the Service is written; the Reservation
// gives it back unless the write succeeded (Commit). Repair() rebuilds the bitmaps from
// the stored Services: what a Service holds is marked; what is marked but held by no
// Service is released only after three consecutive repairs saw it so (an allocation whose
// Service write is still in flight on another server is not a leak).
// Thread safety: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "base/status.h"

namespace skiff {

class Store;
class WatchCache;
struct ApiServerOptions;

class ServiceAllocator {
 public:
  // What one write took. Commit() keeps it; otherwise the destructor gives it back.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation();
    void Commit() { owner_ = nullptr; }

   private:
    friend class ServiceAllocator;
    ServiceAllocator* owner_ = nullptr;
    std::vector<uint32_t> ips_;
    std::vector<int> ports_;
  };

  static constexpr const char* kServiceIpsKey = "/registry/ranges/serviceips";
  static constexpr const char* kNodePortsKey = "/registry/ranges/servicenodeports";

  // `services` is the Services watch cache (may be null: nothing to repair from).
  ServiceAllocator(const ApiServerOptions& options, Store& store, WatchCache* services);

  // Parses the ranges and repairs the stored allocation maps from existing Services.
  // Errors: kInvalid for a malformed range; the store's errors.
  Status Init();

  // Marks everything the stored Services hold and releases leaks (see above).
  // Errors: the store's.
  Status Repair();

  // Assigns spec.clusterIP(s) and node ports to `svc` (a create when `old` is null).
  // Errors: kInvalid with field causes (out of range, already allocated, immutable);
  // kInternal when a range is full; the store's errors (e.g. kServiceUnavailable).
  Result<Reservation> AllocateFor(boost::json::object& svc, const boost::json::object* old);

  // Returns the addresses and ports of a deleted Service (best effort: a failure leaves a
  // leak that Repair reclaims).
  void Release(const boost::json::object& svc);

  // The first address of the range (the `kubernetes` Service's address).
  std::string FirstAddress() const;

 private:
  struct Bitmap;
  // One allocation map in the store.
  struct RangeMap {
    std::string key;
    std::string range;  // as stored in RangeAllocation.range
    uint32_t size = 0;  // number of offsets
  };
  // Reads a map from the store. A missing one is empty (mod_revision 0); one stored for
  // another range is read as empty, with its mod revision, and `*other_range` set.
  Result<Bitmap> Read(const RangeMap& map, bool* other_range);
  // Writes `bitmap` if its mod revision is still current. Errors: kConflict on a lost race.
  Status Write(const RangeMap& map, const Bitmap& bitmap);
  // Takes `wanted` offsets (each must be free; taken ones are returned in `*taken_already`
  // and nothing is written) and `random_count` free offsets in [random_lo, random_hi].
  // Returns the offsets taken at random.
  Result<std::vector<uint32_t>> Take(const RangeMap& map, const std::vector<uint32_t>& wanted,
                                     int random_count, uint32_t random_lo, uint32_t random_hi,
                                     std::vector<uint32_t>* taken_already);
  // Clears `offsets`. Errors: the store's.
  Status Free(const RangeMap& map, const std::vector<uint32_t>& offsets);
  // Marks `in_use`; clears what `leaks` has counted often enough. Errors: the store's.
  Status RepairMap(const RangeMap& map, const std::vector<uint32_t>& in_use,
                   std::map<uint32_t, int>& leaks);
  void Give(const std::vector<uint32_t>& ips, const std::vector<int>& ports);

  const ApiServerOptions& options_;
  Store& store_;
  WatchCache* services_;
  // Constant after Init.
  uint32_t base_ = 0;  // network address, host order
  RangeMap ip_map_;
  RangeMap port_map_;

  std::mutex mu_;
  std::mt19937 rng_;                    // protected by mu_
  std::map<uint32_t, int> ip_leaks_;    // offset -> repairs that saw it leaked; by mu_
  std::map<uint32_t, int> port_leaks_;  // protected by mu_
  std::mutex repair_mu_;                // one Repair at a time
};

}  // namespace skiff
