#include "controllers/event_recorder.h"

#include <cstdio>

#include <boost/json.hpp>

#include "base/log.h"

namespace skiff {

namespace json = boost::json;

namespace {

const ResourcePath kEvents{"", "v1", "events"};
constexpr size_t kMaxRemembered = 4096;

std::string Field(const json::object& o, std::string_view section, std::string_view key) {
  const json::value* s = section.empty() ? nullptr : o.if_contains(section);
  const json::object* from = section.empty() ? &o : (s ? s->if_object() : nullptr);
  const json::value* v = from ? from->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

EventRecorder::EventRecorder(Client& client, std::string component, const Clock* clock)
    : client_(client), component_(std::move(component)), clock_(clock) {}

TimePoint EventRecorder::Now() const { return clock_ ? clock_->Now() : real_clock_.Now(); }

void EventRecorder::Record(const json::object& object, std::string_view type,
                           std::string_view reason, std::string_view message) {
  const std::string ns = Field(object, "metadata", "namespace");
  const std::string name = Field(object, "metadata", "name");
  const std::string uid = Field(object, "metadata", "uid");
  const std::string now = FormatRfc3339(Now());
  const std::string event_ns = ns.empty() ? "default" : ns;
  const std::string key =
      uid + "|" + std::string(type) + "|" + std::string(reason) + "|" + std::string(message);
  std::string existing;
  int64_t count = 1;
  {
    std::lock_guard lock(mu_);
    auto it = seen_.find(key);
    if (it != seen_.end()) {
      existing = it->second.name;
      count = ++it->second.count;
    }
  }
  if (!existing.empty()) {
    std::string patch = json::serialize(json::object{{"count", count}, {"lastTimestamp", now}});
    auto patched =
        client_.Patch(kEvents, event_ns, existing, "application/merge-patch+json", patch);
    if (patched) return;
    // Gone (deleted, expired): record it anew.
  }
  // Kubernetes names events <object>.<hex nanoseconds>.
  char suffix[32];
  std::snprintf(
      suffix, sizeof(suffix), "%llx",
      static_cast<unsigned long long>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Now().time_since_epoch()).count()));
  json::object event{
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", json::object{{"name", name + "." + suffix}, {"namespace", event_ns}}},
      {"involvedObject",
       json::object{{"kind", Field(object, "", "kind")},
                    {"apiVersion", Field(object, "", "apiVersion")},
                    {"namespace", ns},
                    {"name", name},
                    {"uid", uid},
                    {"resourceVersion", Field(object, "metadata", "resourceVersion")}}},
      {"reason", reason},
      {"message", message},
      {"type", type},
      {"source", json::object{{"component", component_}}},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
      {"reportingComponent", component_},
      {"reportingInstance", ""}};
  if (ns.empty()) event["involvedObject"].as_object().erase("namespace");
  auto created = client_.Create(kEvents, event_ns, event);
  if (!created) {
    log::Info("controllers", "event not recorded: " + created.error().ToString());
    return;
  }
  std::lock_guard lock(mu_);
  if (seen_.size() >= kMaxRemembered) seen_.clear();  // bounded: aggregation is best effort
  seen_[key] = Seen{event_ns, name + "." + suffix, 1};
}

}  // namespace skiff
