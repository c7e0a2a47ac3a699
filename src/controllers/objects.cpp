#include "controllers/objects.h"

#include <boost/json.hpp>

namespace skiff {

namespace json = boost::json;

namespace {

const json::value* ValueAt(const json::object& obj, std::initializer_list<std::string_view> path) {
  const json::object* cur = &obj;
  const json::value* v = nullptr;
  for (auto key : path) {
    if (!cur) return nullptr;
    v = cur->if_contains(key);
    if (!v) return nullptr;
    cur = v->if_object();
  }
  return v;
}

const json::object* ReadyCondition(const json::object& pod) {
  const json::value* conds = ValueAt(pod, {"status", "conditions"});
  if (!conds || !conds->is_array()) return nullptr;
  for (const json::value& c : conds->as_array()) {
    if (c.is_object() && StrAt(c.as_object(), {"type"}) == "Ready") return &c.as_object();
  }
  return nullptr;
}

}  // namespace

std::string StrAt(const json::object& obj, std::initializer_list<std::string_view> path) {
  const json::value* v = ValueAt(obj, path);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t IntAt(const json::object& obj, std::initializer_list<std::string_view> path,
              int64_t fallback) {
  const json::value* v = ValueAt(obj, path);
  if (!v) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return fallback;
}

const json::object* ObjAt(const json::object& obj, std::initializer_list<std::string_view> path) {
  const json::value* v = ValueAt(obj, path);
  return v ? v->if_object() : nullptr;
}

std::map<std::string, std::string> LabelsOf(const json::object& obj) {
  std::map<std::string, std::string> out;
  if (const json::object* labels = ObjAt(obj, {"metadata", "labels"})) {
    for (const auto& kv : *labels) {
      if (kv.value().is_string()) out.emplace(kv.key(), kv.value().as_string());
    }
  }
  return out;
}

std::optional<OwnerRef> ControllerOf(const json::object& obj) {
  const json::value* refs = ValueAt(obj, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return std::nullopt;
  for (const json::value& r : refs->as_array()) {
    if (!r.is_object()) continue;
    const json::value* controller = r.as_object().if_contains("controller");
    if (controller && controller->is_bool() && controller->as_bool()) {
      const json::object& o = r.as_object();
      return OwnerRef{StrAt(o, {"apiVersion"}), StrAt(o, {"kind"}), StrAt(o, {"name"}),
                      StrAt(o, {"uid"})};
    }
  }
  return std::nullopt;
}

json::object ControllerRefTo(const json::object& owner) {
  return json::object{{"apiVersion", StrAt(owner, {"apiVersion"})},
                      {"kind", StrAt(owner, {"kind"})},
                      {"name", StrAt(owner, {"metadata", "name"})},
                      {"uid", StrAt(owner, {"metadata", "uid"})},
                      {"controller", true},
                      {"blockOwnerDeletion", true}};
}

bool IsPodActive(const json::object& pod) {
  std::string phase = StrAt(pod, {"status", "phase"});
  return phase != "Succeeded" && phase != "Failed" &&
         !ValueAt(pod, {"metadata", "deletionTimestamp"});
}

bool IsPodReady(const json::object& pod) {
  const json::object* ready = ReadyCondition(pod);
  return ready && StrAt(*ready, {"status"}) == "True";
}

bool IsPodAvailable(const json::object& pod, int64_t min_ready_seconds, TimePoint now) {
  const json::object* ready = ReadyCondition(pod);
  if (!ready || StrAt(*ready, {"status"}) != "True") return false;
  if (min_ready_seconds <= 0) return true;
  auto since = ParseRfc3339(StrAt(*ready, {"lastTransitionTime"}));
  return since && *since + std::chrono::seconds(min_ready_seconds) <= now;
}

}  // namespace skiff
