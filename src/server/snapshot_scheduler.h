// SnapshotScheduler: `skiff server --snapshot-schedule CRON` — takes datastore snapshots on a
// cron schedule while the server runs and keeps the newest --snapshot-retention of them.
//
// Snapshots are written to DIR/skiff-snapshot-<node>-<unix seconds> (atomically, see
// storage/snapshot.h); after each one, this node's snapshots beyond the retention are
// deleted, oldest first. Files of other nodes and other names are left alone.
//
// Thread safety: Start and the destructor from one thread; the scheduler runs on its own
// thread, which it joins on destruction.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/cron.h"
#include "base/status.h"
#include "storage/store.h"

namespace skiff {

struct SnapshotScheduleOptions {
  std::string schedule;   // five-field cron expression or @macro
  int retention = 5;      // snapshots of this node to keep (>= 1)
  std::string directory;  // created if absent
  std::string node_name;  // part of the file names
};

// The snapshot files of `node_name` in `directory`, oldest first.
std::vector<std::string> ListNodeSnapshots(const std::string& directory,
                                           const std::string& node_name);

// Deletes the oldest snapshots of `node_name` in `directory` so that `retention` remain.
// Returns the paths deleted. Errors: kInternal if a file cannot be deleted.
Result<std::vector<std::string>> PruneSnapshots(const std::string& directory,
                                                const std::string& node_name, int retention);

class SnapshotScheduler {
 public:
  // Validates the options, creates the directory and starts the scheduling thread.
  // `store` must outlive the scheduler. Errors: kInvalid for a bad schedule or retention;
  // kInternal if the directory cannot be created.
  static Result<std::unique_ptr<SnapshotScheduler>> Start(Store& store,
                                                          SnapshotScheduleOptions options);
  // Stops the thread, waiting for a snapshot in progress to finish.
  ~SnapshotScheduler();
  SnapshotScheduler(const SnapshotScheduler&) = delete;
  SnapshotScheduler& operator=(const SnapshotScheduler&) = delete;

  // Takes one snapshot now and prunes. Returns the file written.
  Result<std::string> TakeSnapshot();

 private:
  SnapshotScheduler(Store& store, SnapshotScheduleOptions options, CronSchedule schedule);
  void Loop();

  // Constant after construction.
  Store& store_;
  const SnapshotScheduleOptions options_;
  const CronSchedule schedule_;

  // Protected by mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;

  std::thread thread_;  // started last, joined in the destructor
};

}  // namespace skiff
