// Conversion functions of built-in kinds between a served version and the storage
// version (see api/conversion.h). Each works in place on the object's JSON; apiVersion
// and kind are set by the caller.
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace skiff::api::conversions {

// autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler. What v1 cannot express
// (metrics other than the CPU utilization target, current metrics, conditions, behavior)
// travels in the autoscaling.alpha.kubernetes.io/* annotations on the v1 form.
void HpaV1ToV2(boost::json::object& obj);
void HpaV2ToV1(boost::json::object& obj);

// events.k8s.io/v1 Event <-> core v1 Event (the storage version).
void EventsV1ToCoreEvent(boost::json::object& obj);
void CoreEventToEventsV1(boost::json::object& obj);
// "message" -> "note", "involvedObject.kind" -> "regarding.kind", ...
std::string CoreEventFieldPathInEventsV1(std::string_view path);

}  // namespace skiff::api::conversions
