// SqliteStore: the embedded Store backend, one SQLite database file in WAL mode.
//
// Layout of the file (schema version 1):
//   kv    the live keys: key -> (create_revision, mod_revision); the value lives in `log`.
//   log   one row per successful write, keyed by its revision: key, put/delete, the key's
//         create revision, the revision of the value it replaced (prev_revision, 0 if none)
//         and the new value (empty for a delete).
//   meta  the latest revision, the compacted revision and how far compaction has swept.
//
// Writes are group-committed: Create/Update/Delete/Compact enqueue an operation and block
// until the single writer thread has committed the transaction holding it (one fsync per
// transaction, synchronous=FULL), so an acknowledged write survives kill -9 and power loss.
// Each operation in a transaction gets its own revision; one failing its precondition does
// not affect the others and consumes no revision.
//
// Reads (Get, Range) run on a small pool of read connections and never wait for the
// writer. Watch events are handed after each commit to a dispatcher thread, which runs the
// callbacks; a watch that starts in the past first replays the log, then follows live
// events with no gap and no duplicate.
//
// Compaction marks the compacted revision durably at once, then deletes superseded history
// in chunks interleaved with write transactions (resumed on the next Open if interrupted).
// Compact returns when the sweep has finished.
//
// Only one SqliteStore may have a database file open at a time (an flock on the file
// enforces it across processes and within one).
//
// Thread safety: all public methods may be called concurrently from any thread, as the
// Store contract requires. The destructor must not race with other calls.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "storage/store.h"

namespace skiff {

struct SqliteStoreOptions {
  // Connections used by Get and Range; each read holds one for its duration.
  int read_connections = 4;
  // How long a statement waits for a lock held by another connection before failing.
  std::chrono::milliseconds busy_timeout{5000};
  // Upper bounds of one group-committed transaction.
  size_t max_batch_ops = 1024;
  size_t max_batch_bytes = 16u << 20;
  // Before a commit the writer lingers until as many writes are pending as the previous
  // transaction held (its callers usually come straight back), for at most half that
  // commit's duration and never longer than this; 0 disables the delay. A lone
  // sequential writer is never delayed.
  std::chrono::microseconds max_commit_delay{1000};
  // Revisions of history swept per transaction while compacting, so that a large
  // compaction does not hold up writes.
  int64_t compact_chunk_revisions = 10000;
  // Most events per callback while a watch replays history.
  size_t replay_batch_events = 1000;
};

class SqliteConnection;
class SqliteReadPool;
class SqliteWatchHub;
struct SqliteWriteOp;

class SqliteStore final : public Store {
 public:
  // Opens (creating if absent) the database at `path`, recovers the revision counter and
  // any unfinished compaction, and starts the writer and watch dispatcher threads.
  // Errors: kServiceUnavailable if another SqliteStore holds the file; kInternal if the
  // file cannot be opened, is not a Skiff database, or has a newer schema version.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   SqliteStoreOptions options = {});

  // Commits every write already enqueued (their callers get their results), delivers the
  // resulting watch events, ends each still-open watch with a kServiceUnavailable error
  // callback, then stops both threads and closes the file. A compaction still sweeping
  // is resumed by the next Open; its Compact caller gets kServiceUnavailable.
  // REQUIRES: no other call on this store is in progress or starts. StoreWatch handles
  // may outlive the store (destroying them later is a no-op).
  ~SqliteStore() override;

  // Hands every key of a source to `sink`, stopping at the first non-ok Status of the sink
  // (which it returns).
  using KeyValueSink = std::function<Status(KeyValue&&)>;
  using KeyValueSource = std::function<Status(const KeyValueSink&)>;

  // Fills the empty database at `path` (created if absent) with exactly the keys `source`
  // yields, each with its own value, create revision and mod revision, in one transaction,
  // and sets both the revision counter and the compacted revision to `revision`: the
  // database then reads as the source store did at `revision`, with no older history.
  // This is how a snapshot is restored with its revisions intact. Keys may come in any
  // order. REQUIRES: no SqliteStore has `path` open.
  // Errors: kAlreadyExists if the database holds any key or revision (nothing is changed);
  // kServiceUnavailable if another store holds the file; kBadRequest for a key outside
  // 0 < create <= mod <= revision, a repeated key or two keys with one mod revision (the
  // database stays empty); kInternal as Open, or for a database error.
  static Status Restore(const std::string& path, int64_t revision, const KeyValueSource& source,
                        SqliteStoreOptions options = {});

  // Reads the database at `path` as it is at one instant, even while another process (a
  // running server) writes to it: within one read transaction, calls `at` with the latest
  // committed revision and the compacted revision, then `sink` with every live key in key
  // order. Opens the file query-only and takes no lock, so it never disturbs the writer
  // (WAL readers do not block it). Stops at, and returns, the first non-ok Status of
  // `at` or `sink`. Errors: kNotFound if there is no database at `path`; kInternal if it is
  // not a Skiff database or on a database error.
  static Status Export(const std::string& path,
                       const std::function<Status(int64_t revision, int64_t compacted)>& at,
                       const KeyValueSink& sink, SqliteStoreOptions options = {});

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Store
  //
  // Update: an `expected_mod_revision` of 0 never matches (revisions start at 1), so it
  // fails with kConflict. Compact(revision) with revision == CompactedRevision() is a
  // no-op success; a negative revision is kBadRequest.
  //
  // Watch: after_revision is taken literally (0 replays all retained history). Callbacks
  // run on one dispatcher thread shared by all watches of this store, so a slow callback
  // delays the others (never the writer). A callback may call any method of this store,
  // including writes, and may destroy its own StoreWatch: in that case the destructor
  // returns at once, the running callback finishes normally and is never called again.
  // Destroying a StoreWatch from any other thread waits for a running callback of that
  // watch to return. Once the store shuts down, each open watch gets one final
  // kServiceUnavailable error.
  Result<int64_t> Create(std::string_view key, std::string value) override;
  Result<int64_t> Update(std::string_view key, std::string value,
                         int64_t expected_mod_revision) override;
  Result<DeleteResult> Delete(std::string_view key, int64_t expected_mod_revision) override;
  Result<KeyValue> Get(std::string_view key) override;
  Result<RangeResult> Range(std::string_view prefix, std::string_view start_after, int64_t revision,
                            int64_t limit) override;
  Result<std::unique_ptr<StoreWatch>> Watch(std::string_view prefix, int64_t after_revision,
                                            WatchCallback callback) override;
  Result<int64_t> CurrentRevision() override;
  bool CurrentRevisionIsLocal() const override { return true; }
  void CreateAsync(std::string_view key, std::string value,
                   std::function<void(Result<int64_t>)> done) override;
  bool CreateIsQueued() const override { return true; }
  Status Compact(int64_t revision) override;
  int64_t CompactedRevision() override;

 private:
  // State recovered from the file by Open.
  struct Recovered {
    int64_t revision = 0;
    int64_t compacted = 0;
    int64_t swept = 0;
  };

  SqliteStore(SqliteStoreOptions options, int lock_fd, std::unique_ptr<SqliteConnection> writer,
              std::unique_ptr<SqliteReadPool> readers, std::shared_ptr<SqliteWatchHub> hub,
              Recovered recovered);

  // Enqueues `op` for the writer and blocks until its transaction has committed (or
  // failed). Returns false, leaving `op` untouched, if the writer has stopped.
  bool Submit(SqliteWriteOp& op);
  // Enqueues `op`, which owns itself once queued (see SqliteWriteOp::on_done), without
  // waiting. Returns false, leaving `op` with the caller, if the writer has stopped.
  bool Enqueue(SqliteWriteOp& op);

  // Writer thread.
  void WriterLoop();
  // Runs `batch` (and the next compaction sweep chunk, if any) in one transaction,
  // then publishes watch events and releases the callers.
  void CommitBatch(std::vector<SqliteWriteOp*>& batch);
  // Applies one operation inside the open transaction at revision `next_revision`.
  // Returns a non-ok Status only for a database error (a failed precondition is
  // recorded in `op.status` and returns Ok).
  // `compacted` is the compaction mark as of this point of the transaction.
  Status ApplyOp(SqliteWriteOp& op, int64_t next_revision, int64_t& compacted);
  // Deletes the next chunk of history above `swept` and at or below `compacted` inside
  // the open transaction, and advances `swept`.
  Status SweepChunk(int64_t& swept, int64_t compacted);

  // Constant after construction.
  const SqliteStoreOptions options_;
  const int lock_fd_;  // flock'ed descriptor of the database file; closed last

  // Used only by the writer thread (and by the constructor before it starts).
  std::unique_ptr<SqliteConnection> writer_db_;
  int64_t writer_revision_ = 0;   // latest committed revision
  int64_t writer_compacted_ = 0;  // committed compaction mark
  int64_t writer_swept_ = 0;      // history <= this is swept
  bool sweep_failed_ = false;     // the sweep hit an error; retried on the next Compact
  Status sweep_error_;
  std::vector<SqliteWriteOp*> compact_waiters_;  // Compact callers waiting for the sweep

  // Internally synchronised; shared with watch handles.
  std::unique_ptr<SqliteReadPool> readers_;
  std::shared_ptr<SqliteWatchHub> hub_;

  // Published by the writer after each commit; read by any thread.
  std::atomic<int64_t> current_revision_{0};
  std::atomic<int64_t> compacted_revision_{0};

  // Protected by mu_.
  std::mutex mu_;
  std::condition_variable writer_cv_;  // signalled when work arrives or on shutdown
  std::deque<SqliteWriteOp*> pending_;
  bool stopping_ = false;
  bool writer_stopped_ = false;

  std::thread writer_thread_;  // started last in the constructor, joined in the destructor
};

}  // namespace skiff
