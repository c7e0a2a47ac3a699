// EventRecorder: core/v1 Events that controllers write about the objects they act on, as
// client-go's record.EventRecorder does; `kubectl describe` lists them. An event with the
// same object, type, reason and message as one recorded before by this recorder updates
// that Event (count + 1, lastTimestamp) instead of creating another.
//
// Thread safety: Record may be called concurrently.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include <boost/json/fwd.hpp>

#include "base/k8s_time.h"
#include "client/client.h"

namespace skiff {

class EventRecorder {
 public:
  // `component` is the source (e.g. "replicaset-controller"). `client` must outlive it.
  EventRecorder(Client& client, std::string component, const Clock* clock = nullptr);

  // Records an event about `object` (its kind, apiVersion, namespace, name, uid and
  // resourceVersion become involvedObject). `type` is "Normal" or "Warning". Failures
  // are logged, never returned: events are best effort.
  void Record(const boost::json::object& object, std::string_view type, std::string_view reason,
              std::string_view message);

 private:
  TimePoint Now() const;

  Client& client_;
  const std::string component_;
  const Clock* const clock_;
  const RealClock real_clock_;
  std::mutex mu_;
  // aggregation key -> (namespace, event name, count); protected by mu_
  struct Seen {
    std::string ns;
    std::string name;
    int64_t count = 0;
  };
  std::map<std::string, Seen> seen_;
};

}  // namespace skiff
