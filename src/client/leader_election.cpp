#include "client/leader_election.h"

#include <boost/json.hpp>

namespace skiff {

namespace json = boost::json;

namespace {

const ResourcePath kLeases{"coordination.k8s.io", "v1", "leases"};

std::string StringIn(const json::object* o, std::string_view key) {
  const json::value* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t IntIn(const json::object* o, std::string_view key) {
  const json::value* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_int64() ? v->as_int64() : 0;
}

}  // namespace

LeaderElector::LeaderElector(Client& client, LeaderElectionOptions options,
                             std::function<void()> on_started, std::function<void()> on_stopped)
    : client_(client),
      options_(std::move(options)),
      on_started_(std::move(on_started)),
      on_stopped_(std::move(on_stopped)) {}

LeaderElector::~LeaderElector() { Stop(); }

TimePoint LeaderElector::Now() const {
  return options_.clock ? options_.clock->Now() : real_clock_.Now();
}

bool LeaderElector::TryAcquireOrRenew() {
  const TimePoint now = Now();
  const std::string now_text = FormatRfc3339Micro(now);
  const int64_t duration_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count();
  auto lease = client_.Get(kLeases, options_.lease_namespace, options_.lease_name);
  if (!lease) {
    if (lease.error().code() != StatusCode::kNotFound) return false;
    json::object fresh{{"apiVersion", "coordination.k8s.io/v1"},
                       {"kind", "Lease"},
                       {"metadata", json::object{{"name", options_.lease_name},
                                                 {"namespace", options_.lease_namespace}}},
                       {"spec", json::object{{"holderIdentity", options_.identity},
                                             {"leaseDurationSeconds", duration_seconds},
                                             {"acquireTime", now_text},
                                             {"renewTime", now_text},
                                             {"leaseTransitions", 0}}}};
    if (!client_.Create(kLeases, options_.lease_namespace, fresh)) return false;
    observed_record_.clear();
    last_renew_ = now;
    return true;
  }
  json::object& obj = *lease;
  json::value& spec_v = obj["spec"];
  if (!spec_v.is_object()) spec_v = json::object();
  json::object& spec = spec_v.as_object();
  const std::string holder = StringIn(&spec, "holderIdentity");
  const std::string record = holder + "|" + StringIn(&spec, "renewTime") + "|" +
                             std::to_string(IntIn(&spec, "leaseTransitions"));
  if (record != observed_record_) {
    observed_record_ = record;
    observed_at_ = now;
  }
  int64_t held_seconds = IntIn(&spec, "leaseDurationSeconds");
  if (held_seconds <= 0) held_seconds = duration_seconds;
  const bool expired = observed_at_ + std::chrono::seconds(held_seconds) <= now;
  if (!holder.empty() && holder != options_.identity && !expired) return false;

  if (holder != options_.identity) {
    spec["leaseTransitions"] = IntIn(&spec, "leaseTransitions") + (holder.empty() ? 0 : 1);
    spec["acquireTime"] = now_text;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = duration_seconds;
  spec["renewTime"] = now_text;
  // The resourceVersion we read guards the write: another candidate's write wins.
  if (!client_.Update(kLeases, options_.lease_namespace, obj)) return false;
  last_renew_ = now;
  return true;
}

void LeaderElector::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    bool held = TryAcquireOrRenew();
    if (held && !leading_.exchange(true)) {
      if (on_started_) on_started_();
    } else if (!held && leading_.load() && Now() - last_renew_ >= options_.renew_deadline) {
      leading_ = false;
      if (on_stopped_) on_stopped_();
    }
    lock.lock();
    cv_.wait_for(lock, options_.retry_period, [&] { return stopping_; });
  }
}

void LeaderElector::Release() {
  auto lease = client_.Get(kLeases, options_.lease_namespace, options_.lease_name);
  if (!lease) return;
  json::value& spec_v = (*lease)["spec"];
  if (!spec_v.is_object()) return;
  json::object& spec = spec_v.as_object();
  if (StringIn(&spec, "holderIdentity") != options_.identity) return;
  spec.erase("holderIdentity");
  spec["leaseDurationSeconds"] = 1;
  spec["renewTime"] = FormatRfc3339Micro(Now());
  (void)client_.Update(kLeases, options_.lease_namespace, *lease);
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (leading_.exchange(false)) {
    Release();
    if (on_stopped_) on_stopped_();
  }
}

}  // namespace skiff
