#include "api/conversion.h"

#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/conversions/conversions.h"

namespace skiff::api {

const VersionConversion* FindConversion(std::string_view group, std::string_view version,
                                        std::string_view kind) {
  struct Entry {
    std::string_view group;
    std::string_view version;
    std::string_view kind;
    VersionConversion conversion;
  };
  static const Entry kEntries[] = {
      {"autoscaling",
       "v1",
       "HorizontalPodAutoscaler",
       {&conversions::HpaV1ToV2, &conversions::HpaV2ToV1}},
      {"events.k8s.io",
       "v1",
       "Event",
       {&conversions::EventsV1ToCoreEvent, &conversions::CoreEventToEventsV1,
        &conversions::CoreEventFieldPathInEventsV1}},
  };
  for (const Entry& e : kEntries) {
    if (e.group == group && e.version == version && e.kind == kind) return &e.conversion;
  }
  return nullptr;
}

void ConvertToStorage(const ResourceInfo& r, boost::json::object& obj) {
  if (r.IsStorage()) return;
  if (r.conversion) r.conversion->to_storage(obj);
  obj["apiVersion"] = r.storage->group_version;
  obj["kind"] = r.storage->kind();
}

void ConvertFromStorage(const ResourceInfo& r, boost::json::object& obj) {
  if (r.IsStorage()) return;
  if (r.conversion) r.conversion->from_storage(obj);
  obj["apiVersion"] = r.group_version;
  obj["kind"] = r.kind();
}

std::string FieldPathInVersion(const ResourceInfo& r, std::string_view path) {
  if (r.IsStorage() || !r.conversion || !r.conversion->field_path_from_storage) {
    return std::string(path);
  }
  return r.conversion->field_path_from_storage(path);
}

}  // namespace skiff::api
