// Event: events.k8s.io/v1 <-> core v1 (the storage version, /registry/events/).
// The same objects under two vocabularies; every field has a counterpart.

#include <boost/json.hpp>

#include "api/conversions/conversions.h"

namespace skiff::api::conversions {

namespace json = boost::json;

namespace {

// events.k8s.io/v1 name -> core v1 name.
struct Rename {
  std::string_view events_v1;
  std::string_view core;
};
constexpr Rename kRenames[] = {
    {"eventTime", "eventTime"},
    {"series", "series"},
    {"reportingController", "reportingComponent"},
    {"reportingInstance", "reportingInstance"},
    {"action", "action"},
    {"reason", "reason"},
    {"regarding", "involvedObject"},
    {"related", "related"},
    {"note", "message"},
    {"type", "type"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"},
};

// Moves the renamed fields of `obj` from one vocabulary to the other, keeping the rest
// (apiVersion, kind, metadata) in place.
void RenameFields(json::object& obj, bool to_core) {
  json::object moved;
  for (const Rename& r : kRenames) {
    std::string_view from = to_core ? r.events_v1 : r.core;
    std::string_view to = to_core ? r.core : r.events_v1;
    if (json::value* v = obj.if_contains(from)) {
      moved[to] = std::move(*v);
      obj.erase(from);
    }
  }
  for (auto& kv : moved) obj[kv.key()] = std::move(kv.value());
}

}  // namespace

void EventsV1ToCoreEvent(json::object& obj) {
  RenameFields(obj, true);
  // events.k8s.io/v1 always shows eventTime (null when unset); core omits it.
  if (json::value* t = obj.if_contains("eventTime"); t && t->is_null()) obj.erase("eventTime");
  // Core always shows the reporting component and instance, empty when unset.
  if (!obj.contains("reportingComponent")) obj["reportingComponent"] = "";
  if (!obj.contains("reportingInstance")) obj["reportingInstance"] = "";
}

void CoreEventToEventsV1(json::object& obj) {
  RenameFields(obj, false);
  if (!obj.contains("eventTime")) obj["eventTime"] = nullptr;
  for (std::string_view key : {"reportingController", "reportingInstance"}) {
    if (json::value* v = obj.if_contains(key); v && v->is_string() && v->as_string().empty()) {
      obj.erase(key);
    }
  }
}

std::string CoreEventFieldPathInEventsV1(std::string_view path) {
  size_t end = path.find_first_of(".[");
  std::string_view head = path.substr(0, end);
  for (const Rename& r : kRenames) {
    if (r.core == head) {
      return std::string(r.events_v1) +
             std::string(end == std::string_view::npos ? std::string_view() : path.substr(end));
    }
  }
  return std::string(path);
}

}  // namespace skiff::api::conversions
