#include "server/snapshot_scheduler.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>

#include "base/log.h"
#include "storage/snapshot.h"

namespace skiff {

namespace {

constexpr std::string_view kSnapshotPrefix = "skiff-snapshot-";

std::string NodePrefix(const std::string& node_name) {
  return std::string(kSnapshotPrefix) + node_name + "-";
}

}  // namespace

std::vector<std::string> ListNodeSnapshots(const std::string& directory,
                                           const std::string& node_name) {
  namespace fs = std::filesystem;
  const std::string prefix = NodePrefix(node_name);
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !entry.is_regular_file(ec)) continue;
    std::string_view stamp = std::string_view(name).substr(prefix.size());
    int64_t unix = 0;
    auto [end, err] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), unix);
    if (stamp.empty() || err != std::errc() || end != stamp.data() + stamp.size()) continue;
    found.emplace_back(unix, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [unix, path] : found) paths.push_back(std::move(path));
  return paths;
}

Result<std::vector<std::string>> PruneSnapshots(const std::string& directory,
                                                const std::string& node_name, int retention) {
  std::vector<std::string> snapshots = ListNodeSnapshots(directory, node_name);
  std::vector<std::string> deleted;
  const size_t keep = static_cast<size_t>(std::max(retention, 0));
  for (size_t i = 0; i + keep < snapshots.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(snapshots[i], ec);
    if (ec) {
      return Err(StatusCode::kInternal,
                 "cannot delete old snapshot " + snapshots[i] + ": " + ec.message());
    }
    deleted.push_back(snapshots[i]);
  }
  return deleted;
}

Result<std::unique_ptr<SnapshotScheduler>> SnapshotScheduler::Start(
    Store& store, SnapshotScheduleOptions options) {
  auto schedule = CronSchedule::Parse(options.schedule);
  if (!schedule) {
    return Err(StatusCode::kInvalid, "--snapshot-schedule: " + schedule.error().message());
  }
  if (options.retention < 1) {
    return Err(StatusCode::kInvalid, "--snapshot-retention must be at least 1");
  }
  if (options.node_name.empty() || options.node_name.find('/') != std::string::npos) {
    return Err(StatusCode::kInvalid, "snapshot node name \"" + options.node_name +
                                         "\" must be non-empty and contain no '/'");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec) {
    return Err(StatusCode::kInternal,
               "cannot create snapshot dir " + options.directory + ": " + ec.message());
  }
  auto scheduler = std::unique_ptr<SnapshotScheduler>(
      new SnapshotScheduler(store, std::move(options), std::move(*schedule)));
  scheduler->thread_ = std::thread([s = scheduler.get()] { s->Loop(); });
  return scheduler;
}

SnapshotScheduler::SnapshotScheduler(Store& store, SnapshotScheduleOptions options,
                                     CronSchedule schedule)
    : store_(store), options_(std::move(options)), schedule_(std::move(schedule)) {}

SnapshotScheduler::~SnapshotScheduler() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::string> SnapshotScheduler::TakeSnapshot() {
  const auto started = std::chrono::system_clock::now();
  const int64_t unix =
      std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count();
  const std::string path = (std::filesystem::path(options_.directory) /
                            (NodePrefix(options_.node_name) + std::to_string(unix)))
                               .string();
  SnapshotProgress last;
  SnapshotSaveOptions save;
  save.progress = [&](const SnapshotProgress& p) { last = p; };
  auto header = SaveSnapshot(store_, path, save);
  if (!header) return Err(std::move(header.error()));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() - started);
  log::Info("snapshot", "saved path=" + path + " revision=" + std::to_string(header->revision) +
                            " keys=" + std::to_string(last.keys) + " bytes=" +
                            std::to_string(last.bytes) + " ms=" + std::to_string(ms.count()));
  auto pruned = PruneSnapshots(options_.directory, options_.node_name, options_.retention);
  if (!pruned) return Err(std::move(pruned.error()));
  for (const std::string& old : *pruned) log::Info("snapshot", "pruned path=" + old);
  return path;
}

void SnapshotScheduler::Loop() {
  log::Info("snapshot", "scheduled snapshots schedule=\"" + options_.schedule +
                            "\" dir=" + options_.directory +
                            " retention=" + std::to_string(options_.retention));
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto next = schedule_.Next(std::chrono::system_clock::now());
    if (!next) {
      log::Warn("snapshot", "schedule \"" + options_.schedule + "\" never fires; no snapshots");
      cv_.wait(lock, [this] { return stopping_; });
      return;
    }
    // system_clock may jump: wake at the due time and re-check it against the clock.
    if (cv_.wait_until(lock, *next, [this] { return stopping_; })) return;
    if (std::chrono::system_clock::now() < *next) continue;
    lock.unlock();
    auto taken = TakeSnapshot();
    if (!taken) log::Error("snapshot", "scheduled snapshot failed: " + taken.error().ToString());
    lock.lock();
  }
}

}  // namespace skiff
