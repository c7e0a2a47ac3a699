// ServiceAllocator: cluster IPs from --service-cluster-ip-range and node ports from
// --service-node-port-range, without duplicates.
//
// The allocated sets are rebuilt from the stored Services at start-up and kept in
// memory; a create or update reserves what it takes and commits once the write is
// stored (an uncommitted reservation is returned when it is destroyed).
// Thread safety: thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "base/status.h"

namespace skiff {

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

  ServiceAllocator(const ApiServerOptions& options, WatchCache* services);

  // Parses the ranges and loads the allocations of existing Services.
  // Errors: kInvalid for a malformed range.
  Status Init();

  // Assigns spec.clusterIP(s) and node ports to `svc` (a create when `old` is null).
  // Errors: kInvalid with field causes (out of range, already allocated, immutable).
  Result<Reservation> AllocateFor(boost::json::object& svc, const boost::json::object* old);

  // Returns the addresses and ports of a deleted Service.
  void Release(const boost::json::object& svc);

  // The first address of the range (the `kubernetes` Service's address).
  std::string FirstAddress() const;

 private:
  void Give(const std::vector<uint32_t>& ips, const std::vector<int>& ports);

  const ApiServerOptions& options_;
  WatchCache* services_;
  uint32_t base_ = 0;  // network address, host order; constant after Init
  uint32_t size_ = 0;  // number of addresses in the range; constant after Init

  std::mutex mu_;
  std::set<uint32_t> ips_;  // protected by mu_
  std::set<int> ports_;     // protected by mu_
  std::mt19937 rng_;        // protected by mu_
};

}  // namespace skiff
