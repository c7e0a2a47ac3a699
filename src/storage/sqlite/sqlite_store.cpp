#include "storage/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <utility>

namespace skiff {

namespace {

constexpr int kSchemaVersion = 1;

// Names of the rows of the meta table.
constexpr char kMetaRevision[] = "revision";    // latest committed revision
constexpr char kMetaCompacted[] = "compacted";  // history < this is gone
constexpr char kMetaSwept[] = "compact_swept";  // superseded history <= this is deleted

constexpr char kCreateSchema[] = R"sql(
CREATE TABLE kv (
  key BLOB PRIMARY KEY NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE log (
  revision INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB NOT NULL
);
CREATE INDEX log_key_revision ON log (key, revision);
CREATE TABLE meta (
  name TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Statements. Each is prepared once per connection, keyed by the address of its text.
constexpr char kBegin[] = "BEGIN";
constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSelectMeta[] = "SELECT name, value FROM meta";
constexpr char kSetMeta[] =
    "INSERT INTO meta (name, value) VALUES (?1, ?2) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value";
constexpr char kSelectMaxLogRevision[] = "SELECT coalesce(max(revision), 0) FROM log";
constexpr char kGetCurrent[] =
    "SELECT kv.create_revision, kv.mod_revision, log.value "
    "FROM kv JOIN log ON log.revision = kv.mod_revision WHERE kv.key = ?1";
constexpr char kInsertKv[] =
    "INSERT INTO kv (key, create_revision, mod_revision) VALUES (?1, ?2, ?2) "
    "ON CONFLICT (key) DO NOTHING";
constexpr char kRestoreKv[] =
    "INSERT INTO kv (key, create_revision, mod_revision) VALUES (?1, ?2, ?3)";
constexpr char kExportKv[] =
    "SELECT kv.key, kv.create_revision, kv.mod_revision, log.value "
    "FROM kv JOIN log ON log.revision = kv.mod_revision ORDER BY kv.key";
constexpr char kUpdateKv[] = "UPDATE kv SET mod_revision = ?2 WHERE key = ?1";
constexpr char kDeleteKv[] = "DELETE FROM kv WHERE key = ?1";
constexpr char kInsertLog[] =
    "INSERT INTO log (revision, key, deleted, create_revision, prev_revision, value) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
// A chunk (?1, ?2] of compacted history: first the values that a later write in the chunk
// replaced, then the delete markers themselves. What remains at or below the compacted
// revision is exactly the latest value of each key that was live at that revision.
constexpr char kSweepSuperseded[] =
    "DELETE FROM log WHERE revision IN (SELECT prev_revision FROM log "
    "WHERE revision > ?1 AND revision <= ?2 AND prev_revision > 0)";
constexpr char kSweepTombstones[] =
    "DELETE FROM log WHERE revision > ?1 AND revision <= ?2 AND deleted = 1";

// Range at the current revision. ?1 lower bound (inclusive), ?2 upper bound (exclusive,
// absent when the prefix has no upper bound), last parameter the row limit (-1 = none).
constexpr char kRangeCurrentBounded[] =
    "SELECT kv.key, kv.create_revision, kv.mod_revision, log.value "
    "FROM kv JOIN log ON log.revision = kv.mod_revision "
    "WHERE kv.key >= ?1 AND kv.key < ?2 ORDER BY kv.key LIMIT ?3";
constexpr char kRangeCurrentUnbounded[] =
    "SELECT kv.key, kv.create_revision, kv.mod_revision, log.value "
    "FROM kv JOIN log ON log.revision = kv.mod_revision "
    "WHERE kv.key >= ?1 ORDER BY kv.key LIMIT ?3";
// Range at an older revision ?3: the index in key order, each key's rows in revision
// order, so the last row of a key is its state at ?3. Streams, so a limit stops early.
constexpr char kHistoryKeysBounded[] =
    "SELECT key, revision FROM log WHERE key >= ?1 AND key < ?2 AND revision <= ?3 "
    "ORDER BY key, revision";
constexpr char kHistoryKeysUnbounded[] =
    "SELECT key, revision FROM log WHERE key >= ?1 AND revision <= ?3 ORDER BY key, revision";
constexpr char kLogRow[] = "SELECT deleted, create_revision, value FROM log WHERE revision = ?1";
// Watch replay of revisions (?3, ?4] under a prefix, each row with the value it replaced.
constexpr char kReplayBounded[] =
    "SELECT l.revision, l.key, l.deleted, l.create_revision, l.value, "
    "       p.revision, p.create_revision, p.value "
    "FROM log AS l LEFT JOIN log AS p ON p.revision = l.prev_revision "
    "WHERE l.key >= ?1 AND l.key < ?2 AND l.revision > ?3 AND l.revision <= ?4 "
    "ORDER BY l.revision";
constexpr char kReplayUnbounded[] =
    "SELECT l.revision, l.key, l.deleted, l.create_revision, l.value, "
    "       p.revision, p.create_revision, p.value "
    "FROM log AS l LEFT JOIN log AS p ON p.revision = l.prev_revision "
    "WHERE l.key >= ?1 AND l.revision > ?3 AND l.revision <= ?4 "
    "ORDER BY l.revision";

std::string Quoted(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 2);
  out.push_back('"');
  out.append(key);
  out.push_back('"');
  return out;
}

Status CompactedError(int64_t revision, int64_t compacted) {
  return Status(StatusCode::kGone, "required revision has been compacted: revision " +
                                       std::to_string(revision) + " is older than compacted " +
                                       "revision " + std::to_string(compacted));
}

// The smallest key above every key that starts with `prefix`; nullopt when there is none
// (empty prefix, or a prefix of 0xff bytes only).
std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

// The smallest key that starts with `prefix` and is greater than `start_after`.
// std::string compares bytes as unsigned, like SQLite compares BLOBs.
std::string RangeStart(std::string_view prefix, std::string_view start_after) {
  if (start_after.empty() || start_after < prefix) return std::string(prefix);
  std::string start(start_after);
  start.push_back('\0');
  return start;
}

// Binds bytes as a BLOB that must outlive the statement's current use. An empty view
// still binds an empty BLOB, never NULL.
int BindBytes(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  return sqlite3_bind_blob64(stmt, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                             SQLITE_STATIC);
}

std::string ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  const int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

// Resets a statement and drops its bindings when leaving scope, so that it is ready for
// its next use and no longer refers to the caller's buffers.
class StatementScope {
 public:
  explicit StatementScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;

 private:
  sqlite3_stmt* const stmt_;
};

// Errors that concern one operation only (its data), not the database as a whole.
bool IsOperationError(int code) {
  switch (code & 0xff) {
    case SQLITE_TOOBIG:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return true;
    default: return false;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// SqliteConnection: one sqlite3 handle and its prepared statements.
// Thread safety: not thread-safe; used by one thread at a time (opened NOMUTEX).

class SqliteConnection {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` and sets the busy timeout.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, int flags,
                                                        std::chrono::milliseconds busy_timeout) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    auto connection = std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
    if (rc != SQLITE_OK) return Err(connection->Fail(rc, "open " + path));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
    return connection;
  }

  ~SqliteConnection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sqlite3* db() const { return db_; }

  // The sqlite result code of the last failure reported through Fail().
  int last_error_code() const { return last_error_code_; }

  // Builds the kInternal status for result code `rc` of `what` and remembers `rc`.
  Status Fail(int rc, std::string_view what) {
    last_error_code_ = rc;
    const char* detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    return Status(StatusCode::kInternal,
                  "sqlite: " + std::string(what) + ": " + detail + " (" + std::to_string(rc) + ")");
  }

  // Runs one or more statements that return no rows (schema, pragmas).
  Status Exec(const char* sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
    sqlite3_free(error);
    if (rc != SQLITE_OK) return Fail(rc, sql);
    return Status::Ok();
  }

  // Runs `sql` and returns the first column of its first row as text ("" if no row).
  Result<std::string> QueryText(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return Err(Fail(rc, sql));
    std::string text;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* data = sqlite3_column_text(stmt, 0);
      if (data != nullptr) text = reinterpret_cast<const char*>(data);
      rc = SQLITE_DONE;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return Err(Fail(rc, sql));
    return text;
  }

  // The prepared statement for `sql`, prepared on first use.
  // REQUIRES: `sql` is one of the static statement texts above (keyed by address).
  Result<sqlite3_stmt*> Statement(const char* sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Err(Fail(rc, sql));
    statements_.emplace(sql, stmt);
    return stmt;
  }

  // Runs a statement that returns no rows, with the given bindings already applied by
  // `bind`. Returns the number of rows it changed.
  template <typename Bind>
  Result<int> Run(const char* sql, Bind&& bind) {
    auto stmt = Statement(sql);
    if (!stmt) return Err(std::move(stmt.error()));
    StatementScope scope(*stmt);
    int rc = bind(*stmt);
    if (rc == SQLITE_OK) rc = sqlite3_step(*stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Err(Fail(rc, sql));
    return sqlite3_changes(db_);
  }
  Result<int> Run(const char* sql) {
    return Run(sql, [](sqlite3_stmt*) { return SQLITE_OK; });
  }

  // Reads the meta table.
  Status ReadMeta(int64_t& revision, int64_t& compacted, int64_t& swept) {
    auto stmt = Statement(kSelectMeta);
    if (!stmt) return stmt.error();
    StatementScope scope(*stmt);
    revision = compacted = swept = 0;
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(*stmt, 0));
      const int64_t value = sqlite3_column_int64(*stmt, 1);
      if (name == nullptr) continue;
      if (std::strcmp(name, kMetaRevision) == 0) revision = value;
      if (std::strcmp(name, kMetaCompacted) == 0) compacted = value;
      if (std::strcmp(name, kMetaSwept) == 0) swept = value;
    }
    if (rc != SQLITE_DONE) return Fail(rc, kSelectMeta);
    return Status::Ok();
  }

  // Reads the live value of `key`; nullopt when the key does not exist.
  Result<std::optional<KeyValue>> GetCurrent(std::string_view key) {
    auto stmt = Statement(kGetCurrent);
    if (!stmt) return Err(std::move(stmt.error()));
    StatementScope scope(*stmt);
    int rc = BindBytes(*stmt, 1, key);
    if (rc == SQLITE_OK) rc = sqlite3_step(*stmt);
    if (rc == SQLITE_DONE) return std::optional<KeyValue>();
    if (rc != SQLITE_ROW) return Err(Fail(rc, kGetCurrent));
    KeyValue kv;
    kv.key = std::string(key);
    kv.create_revision = sqlite3_column_int64(*stmt, 0);
    kv.mod_revision = sqlite3_column_int64(*stmt, 1);
    kv.value = ColumnBytes(*stmt, 2);
    return std::optional<KeyValue>(std::move(kv));
  }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  sqlite3* const db_;
  int last_error_code_ = SQLITE_OK;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

namespace {

// A read transaction: every statement inside sees one snapshot of the database.
// Ends (COMMIT of a read-only transaction) when leaving scope.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(SqliteConnection& db) : db_(db) {}
  ~ReadSnapshot() {
    // A connection left inside a transaction would fail its next BEGIN.
    if (active_ && !db_.Run(kCommit)) (void)db_.Run(kRollback);
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  // Starts the transaction and reads the revisions it sees.
  Status Begin(int64_t& revision, int64_t& compacted) {
    auto begun = db_.Run(kBegin);
    if (!begun) return begun.error();
    active_ = true;
    int64_t swept = 0;
    return db_.ReadMeta(revision, compacted, swept);
  }

 private:
  SqliteConnection& db_;
  bool active_ = false;
};

// Reads the live keys in [start, end) as of the past `revision` into `result`, at most
// `limit` of them (0 = all), setting result.more when the limit cut it short.
Status RangeHistory(SqliteConnection& db, const std::string& start,
                    const std::optional<std::string>& end, int64_t revision, int64_t limit,
                    RangeResult& result) {
  const char* sql = end ? kHistoryKeysBounded : kHistoryKeysUnbounded;
  auto keys = db.Statement(sql);
  if (!keys) return keys.error();
  auto rows = db.Statement(kLogRow);
  if (!rows) return rows.error();
  StatementScope keys_scope(*keys);
  int rc = BindBytes(*keys, 1, start);
  if (rc == SQLITE_OK && end) rc = BindBytes(*keys, 2, *end);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*keys, 3, revision);
  if (rc != SQLITE_OK) return db.Fail(rc, sql);

  // Adds `key` as of log row `latest` unless that row is a delete. Returns false once
  // the limit is exceeded.
  const auto add = [&](std::string&& key, int64_t latest) -> Result<bool> {
    StatementScope row_scope(*rows);
    int row_rc = sqlite3_bind_int64(*rows, 1, latest);
    if (row_rc == SQLITE_OK) row_rc = sqlite3_step(*rows);
    if (row_rc != SQLITE_ROW)
      return Err(db.Fail(row_rc == SQLITE_DONE ? SQLITE_CORRUPT : row_rc, kLogRow));
    if (sqlite3_column_int64(*rows, 0) != 0) return true;
    if (limit > 0 && static_cast<int64_t>(result.kvs.size()) == limit) {
      result.more = true;
      return false;
    }
    result.kvs.push_back(KeyValue{.key = std::move(key),
                                  .value = ColumnBytes(*rows, 2),
                                  .create_revision = sqlite3_column_int64(*rows, 1),
                                  .mod_revision = latest});
    return true;
  };

  std::string key;
  int64_t latest = 0;
  bool have_key = false;
  while ((rc = sqlite3_step(*keys)) == SQLITE_ROW) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(*keys, 0));
    const int size = sqlite3_column_bytes(*keys, 0);
    const std::string_view row_key =
        data != nullptr ? std::string_view(data, static_cast<size_t>(size)) : std::string_view();
    const int64_t row_revision = sqlite3_column_int64(*keys, 1);
    if (have_key && row_key == key) {
      latest = row_revision;
      continue;
    }
    if (have_key) {
      auto go_on = add(std::move(key), latest);
      if (!go_on) return go_on.error();
      if (!*go_on) return Status::Ok();
    }
    key.assign(row_key);
    latest = row_revision;
    have_key = true;
  }
  if (rc != SQLITE_DONE) return db.Fail(rc, sql);
  if (have_key) {
    auto go_on = add(std::move(key), latest);
    if (!go_on) return go_on.error();
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// SqliteReadPool: a fixed set of read connections handed out one reader at a time.
// Thread safety: thread-safe.

class SqliteReadPool {
 public:
  static Result<std::unique_ptr<SqliteReadPool>> Open(const std::string& path, int count,
                                                      std::chrono::milliseconds busy_timeout) {
    auto pool = std::make_unique<SqliteReadPool>();
    for (int i = 0; i < std::max(count, 1); ++i) {
      auto connection = SqliteConnection::Open(path, SQLITE_OPEN_READWRITE, busy_timeout);
      if (!connection) return Err(std::move(connection.error()));
      if (Status st = (*connection)->Exec("PRAGMA query_only = 1; PRAGMA cache_size = -8192");
          !st.ok()) {
        return Err(std::move(st));
      }
      pool->idle_.push_back(connection->get());
      pool->connections_.push_back(std::move(*connection));
    }
    return pool;
  }

  // A connection on loan; returned to the pool when the lease is destroyed.
  class Lease {
   public:
    Lease(SqliteReadPool& pool, SqliteConnection& connection)
        : pool_(pool), connection_(connection) {}
    ~Lease() { pool_.Release(connection_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SqliteConnection& operator*() const { return connection_; }
    SqliteConnection* operator->() const { return &connection_; }

   private:
    SqliteReadPool& pool_;
    SqliteConnection& connection_;
  };

  // Blocks until a connection is free.
  Lease Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !idle_.empty(); });
    SqliteConnection* connection = idle_.back();
    idle_.pop_back();
    return Lease(*this, *connection);
  }

 private:
  void Release(SqliteConnection& connection) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(&connection);
    }
    cv_.notify_one();
  }

  // Constant after Open.
  std::vector<std::unique_ptr<SqliteConnection>> connections_;

  // Protected by mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SqliteConnection*> idle_;
};

// ---------------------------------------------------------------------------------------
// Watches.

// One registered watch.
struct SqliteWatcher {
  SqliteWatcher(std::string prefix_in, int64_t after, WatchCallback callback_in)
      : prefix(std::move(prefix_in)), after_revision(after), callback(std::move(callback_in)) {}

  // Constant.
  const std::string prefix;

  // Used only by the dispatcher thread once registered: events at or below this
  // revision have been delivered (or predate the watch).
  int64_t after_revision;

  // Protected by SqliteWatchHub::mu_. The callback itself runs without the lock, but
  // only while running_ points at this watcher, and nothing else touches it then.
  WatchCallback callback;  // emptied (destroyed) once the watch is cancelled or finished
  bool cancelled = false;  // the StoreWatch handle was destroyed
  bool finished = false;   // an error was delivered; nothing more will be
};

// SqliteWatchHub: fans committed events out to watchers on one dispatcher thread and
// replays history for watches that start in the past.
//
// Ordering: the writer publishes each committed batch into one FIFO queue; a new watch is
// also queued there, stamped with the last published revision R. Batches ahead of it in
// the queue hold revisions <= R, the ones after it revisions > R; so replaying the log up
// to R when the dispatcher reaches the registration, then following the queue, yields
// every event exactly once.
//
// Thread safety: thread-safe.
class SqliteWatchHub {
 public:
  SqliteWatchHub(std::unique_ptr<SqliteConnection> replay_db, size_t replay_batch,
                 int64_t published_revision)
      : replay_db_(std::move(replay_db)),
        replay_batch_(std::max<size_t>(replay_batch, 1)),
        published_revision_(published_revision) {}

  ~SqliteWatchHub() { Stop(); }

  SqliteWatchHub(const SqliteWatchHub&) = delete;
  SqliteWatchHub& operator=(const SqliteWatchHub&) = delete;

  // Starts the dispatcher thread. REQUIRES: called once, before any other method.
  void Start() {
    thread_ = std::thread([this] { Run(); });
    std::lock_guard lock(mu_);
    dispatcher_id_ = thread_.get_id();
  }

  // Delivers everything queued, ends open watches with kServiceUnavailable, joins the
  // dispatcher and closes the replay connection. Idempotent.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    replay_db_.reset();
  }

  // Hands the events of one committed transaction (in revision order, ending at
  // `revision`) to the watchers. Never blocks on callbacks.
  void Publish(std::vector<WatchEvent>&& events, int64_t revision) {
    {
      std::lock_guard lock(mu_);
      published_revision_ = revision;
      if (events.empty() || (watchers_.empty() && registrations_queued_ == 0)) return;
      queue_.push_back(
          QueueItem{.events = std::make_shared<const std::vector<WatchEvent>>(std::move(events))});
    }
    work_cv_.notify_one();
  }

  // Registers a watch of `prefix` for revisions > `after_revision`.
  // Errors: kServiceUnavailable once Stop has begun.
  Result<std::shared_ptr<SqliteWatcher>> Register(std::string prefix, int64_t after_revision,
                                                  WatchCallback callback) {
    auto watcher =
        std::make_shared<SqliteWatcher>(std::move(prefix), after_revision, std::move(callback));
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Err(StatusCode::kServiceUnavailable, "storage is shutting down");
      queue_.push_back(QueueItem{.watcher = watcher, .replay_to = published_revision_});
      ++registrations_queued_;
    }
    work_cv_.notify_one();
    return watcher;
  }

  // Cancels `watcher`. Unless called on the dispatcher thread (from inside a callback),
  // waits for a running callback of this watcher to return. Afterwards the callback is
  // never called again, and it has been destroyed unless it is the one running now.
  void Cancel(SqliteWatcher& watcher) {
    WatchCallback doomed;
    {
      std::unique_lock lock(mu_);
      watcher.cancelled = true;
      std::erase_if(watchers_, [&](const auto& w) { return w.get() == &watcher; });
      if (std::this_thread::get_id() != dispatcher_id_) {
        idle_cv_.wait(lock, [&] { return running_ != &watcher; });
      }
      if (running_ != &watcher) doomed = std::move(watcher.callback);
    }
    // `doomed` is destroyed here, outside the lock: its captures may cancel other watches.
  }

 private:
  struct QueueItem {
    std::shared_ptr<const std::vector<WatchEvent>> events;  // a committed batch, or
    std::shared_ptr<SqliteWatcher> watcher;                 // a new watch
    int64_t replay_to = 0;  // for a new watch: the last revision published before it
  };

  void Run() {
    for (;;) {
      QueueItem item;
      std::vector<std::shared_ptr<SqliteWatcher>> targets;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) break;
        item = std::move(queue_.front());
        queue_.pop_front();
        if (!item.watcher) targets = watchers_;
      }
      if (item.watcher) {
        Activate(item.watcher, item.replay_to);
        continue;
      }
      for (const auto& watcher : targets) {
        std::vector<WatchEvent> matching;
        for (const WatchEvent& event : *item.events) {
          if (event.kv.mod_revision > watcher->after_revision &&
              event.kv.key.starts_with(watcher->prefix)) {
            matching.push_back(event);
          }
        }
        if (matching.empty()) continue;
        watcher->after_revision = matching.back().kv.mod_revision;
        Deliver(*watcher, WatchBatch{.events = std::move(matching)});
      }
    }
    std::vector<std::shared_ptr<SqliteWatcher>> open;
    {
      std::lock_guard lock(mu_);
      open = watchers_;
    }
    for (const auto& watcher : open) {
      Deliver(*watcher,
              WatchBatch{.error = Status(StatusCode::kServiceUnavailable,
                                         "storage is shutting down; the watch has ended")});
    }
  }

  // Replays history up to `replay_to` for a new watch, then makes it live.
  void Activate(const std::shared_ptr<SqliteWatcher>& watcher, int64_t replay_to) {
    bool live = true;
    if (watcher->after_revision < replay_to) {
      live = Replay(*watcher, replay_to);
      watcher->after_revision = replay_to;
    }
    std::lock_guard lock(mu_);
    --registrations_queued_;
    if (live && !watcher->cancelled && !watcher->finished) watchers_.push_back(watcher);
  }

  // Delivers the logged events in (watcher.after_revision, replay_to] under the watcher's
  // prefix. Returns false if the watch ended (cancelled, or an error was delivered).
  bool Replay(SqliteWatcher& watcher, int64_t replay_to) {
    SqliteConnection& db = *replay_db_;
    ReadSnapshot snapshot(db);
    int64_t revision = 0;
    int64_t compacted = 0;
    if (Status st = snapshot.Begin(revision, compacted); !st.ok()) {
      Deliver(watcher, WatchBatch{.error = std::move(st)});
      return false;
    }
    if (watcher.after_revision < compacted) {
      Deliver(watcher, WatchBatch{.error = CompactedError(watcher.after_revision, compacted)});
      return false;
    }
    const std::optional<std::string> end = PrefixEnd(watcher.prefix);
    const char* sql = end ? kReplayBounded : kReplayUnbounded;
    auto stmt = db.Statement(sql);
    if (!stmt) {
      Deliver(watcher, WatchBatch{.error = std::move(stmt.error())});
      return false;
    }
    StatementScope scope(*stmt);
    int rc = BindBytes(*stmt, 1, watcher.prefix);
    if (rc == SQLITE_OK && end) rc = BindBytes(*stmt, 2, *end);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*stmt, 3, watcher.after_revision);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*stmt, 4, replay_to);
    if (rc != SQLITE_OK) {
      Deliver(watcher, WatchBatch{.error = db.Fail(rc, "watch replay")});
      return false;
    }
    std::vector<WatchEvent> events;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      WatchEvent event;
      const bool deleted = sqlite3_column_int64(*stmt, 2) != 0;
      event.type = deleted ? WatchEventType::kDelete : WatchEventType::kPut;
      event.kv.key = ColumnBytes(*stmt, 1);
      event.kv.mod_revision = sqlite3_column_int64(*stmt, 0);
      event.kv.create_revision = sqlite3_column_int64(*stmt, 3);
      if (sqlite3_column_type(*stmt, 5) != SQLITE_NULL) {
        KeyValue prev;
        prev.key = event.kv.key;
        prev.mod_revision = sqlite3_column_int64(*stmt, 5);
        prev.create_revision = sqlite3_column_int64(*stmt, 6);
        prev.value = ColumnBytes(*stmt, 7);
        event.prev = std::move(prev);
      }
      event.kv.value =
          deleted ? (event.prev ? event.prev->value : std::string()) : ColumnBytes(*stmt, 4);
      events.push_back(std::move(event));
      if (events.size() >= replay_batch_) {
        if (!Deliver(watcher, WatchBatch{.events = std::move(events)})) return false;
        events.clear();
      }
    }
    if (rc != SQLITE_DONE) {
      Deliver(watcher, WatchBatch{.error = db.Fail(rc, "watch replay")});
      return false;
    }
    if (!events.empty()) return Deliver(watcher, WatchBatch{.events = std::move(events)});
    return true;
  }

  // Runs the watcher's callback with `batch` unless the watch has ended. Returns whether
  // the watch is still open afterwards.
  bool Deliver(SqliteWatcher& watcher, WatchBatch&& batch) {
    const bool is_error = !batch.error.ok();
    {
      std::lock_guard lock(mu_);
      if (watcher.cancelled || watcher.finished) return false;
      running_ = &watcher;
      if (is_error) watcher.finished = true;
    }
    watcher.callback(std::move(batch));
    WatchCallback doomed;
    bool open;
    {
      std::lock_guard lock(mu_);
      running_ = nullptr;
      open = !watcher.cancelled && !watcher.finished;
      if (!open) {
        doomed = std::move(watcher.callback);
        std::erase_if(watchers_, [&](const auto& w) { return w.get() == &watcher; });
      }
    }
    idle_cv_.notify_all();
    return open;
  }

  // Used only by the dispatcher thread (reset by Stop after the join).
  std::unique_ptr<SqliteConnection> replay_db_;
  const size_t replay_batch_;
  std::thread thread_;

  // Protected by mu_.
  std::mutex mu_;
  std::condition_variable work_cv_;  // queue_ gained an item, or stopping_
  std::condition_variable idle_cv_;  // running_ changed
  std::thread::id dispatcher_id_;
  std::deque<QueueItem> queue_;
  std::vector<std::shared_ptr<SqliteWatcher>> watchers_;  // live (past replay)
  size_t registrations_queued_ = 0;                       // queued or replaying
  int64_t published_revision_;
  SqliteWatcher* running_ = nullptr;  // whose callback is running now
  bool stopping_ = false;
};

namespace {

// The handle returned by Watch. Holds the hub alive, so it may outlive the store.
class SqliteStoreWatch final : public StoreWatch {
 public:
  SqliteStoreWatch(std::shared_ptr<SqliteWatchHub> hub, std::shared_ptr<SqliteWatcher> watcher)
      : hub_(std::move(hub)), watcher_(std::move(watcher)) {}
  ~SqliteStoreWatch() override { hub_->Cancel(*watcher_); }

 private:
  const std::shared_ptr<SqliteWatchHub> hub_;
  const std::shared_ptr<SqliteWatcher> watcher_;
};

// Closes a file descriptor unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Write operations.

// One write waiting for, or being run by, the writer thread. Lives on the caller's stack.
struct SqliteWriteOp {
  enum class Kind { kCreate, kUpdate, kDelete, kCompact };

  // Set by the caller before Submit.
  Kind kind = Kind::kCreate;
  std::string key;
  std::string value;
  int64_t expected_mod_revision = 0;  // kUpdate, kDelete (0 = any for delete)
  int64_t compact_revision = 0;       // kCompact

  // Outcome, written by the writer thread before `done` is released.
  Status status;
  int64_t revision = 0;
  int64_t create_revision = 0;
  std::optional<KeyValue> prev;  // the value replaced or deleted
  bool excluded = false;         // a database error specific to this op; left out of the batch

  // For an op queued without waiting (allocated with new): called by the writer thread
  // instead of signalling `done`, after which the op deletes itself.
  std::function<void(SqliteWriteOp&)> on_done;

  // Ends the op's wait, or runs on_done and deletes it. The op must not be used after.
  void Complete() {
    if (on_done) {
      on_done(*this);
      delete this;
    } else {
      done.release();
    }
  }

  // Signalled once by the writer thread. A mutex and condition variable rather than a
  // std::binary_semaphore, whose acquire spins with sched_yield before it sleeps: costly
  // with many callers waiting on a group commit.
  class Done {
   public:
    // Notifies under the lock: the waiter may destroy this object as soon as it returns.
    void release() {
      std::lock_guard lock(mu_);
      done_ = true;
      cv_.notify_one();
    }
    void acquire() {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return done_; });
    }

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
  } done;
};

// ---------------------------------------------------------------------------------------
// SqliteStore.

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       SqliteStoreOptions options) {
  FdGuard lock_fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock_fd.get() < 0) {
    return Err(StatusCode::kInternal, "open " + path + ": " + std::strerror(errno));
  }
  if (::flock(lock_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Err(StatusCode::kServiceUnavailable,
                 "database " + path + " is in use by another store");
    }
    return Err(StatusCode::kInternal, "lock " + path + ": " + std::strerror(errno));
  }

  auto writer = SqliteConnection::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                       options.busy_timeout);
  if (!writer) return Err(std::move(writer.error()));
  SqliteConnection& db = **writer;

  auto journal = db.QueryText("PRAGMA journal_mode = WAL");
  if (!journal) return Err(std::move(journal.error()));
  if (*journal != "wal") {
    return Err(StatusCode::kInternal,
               path + ": cannot use WAL journal mode (got " + *journal + ")");
  }
  if (Status st = db.Exec("PRAGMA synchronous = FULL; PRAGMA cache_size = -16384"); !st.ok()) {
    return Err(std::move(st));
  }

  auto version = db.QueryText("PRAGMA user_version");
  if (!version) return Err(std::move(version.error()));
  const int schema_version = std::atoi(version->c_str());
  if (schema_version > kSchemaVersion) {
    return Err(StatusCode::kInternal, path + ": schema version " + *version +
                                          " is newer than this binary supports (" +
                                          std::to_string(kSchemaVersion) + ")");
  }
  if (schema_version == 0) {
    auto tables = db.QueryText("SELECT count(*) FROM sqlite_master");
    if (!tables) return Err(std::move(tables.error()));
    if (*tables != "0") return Err(StatusCode::kInternal, path + " is not a Skiff database");
    const std::string create = std::string("BEGIN IMMEDIATE;") + kCreateSchema +
                               "PRAGMA user_version = " + std::to_string(kSchemaVersion) +
                               "; COMMIT;";
    if (Status st = db.Exec(create.c_str()); !st.ok()) {
      (void)db.Exec("ROLLBACK");
      return Err(std::move(st));
    }
  }

  Recovered recovered;
  if (Status st = db.ReadMeta(recovered.revision, recovered.compacted, recovered.swept); !st.ok()) {
    return Err(std::move(st));
  }
  auto max_logged = db.QueryText(kSelectMaxLogRevision);
  if (!max_logged) return Err(std::move(max_logged.error()));
  recovered.revision = std::max<int64_t>(recovered.revision, std::atoll(max_logged->c_str()));

  auto readers = SqliteReadPool::Open(path, options.read_connections, options.busy_timeout);
  if (!readers) return Err(std::move(readers.error()));
  auto replay_db = SqliteConnection::Open(path, SQLITE_OPEN_READWRITE, options.busy_timeout);
  if (!replay_db) return Err(std::move(replay_db.error()));
  if (Status st = (*replay_db)->Exec("PRAGMA query_only = 1"); !st.ok()) return Err(std::move(st));
  auto hub = std::make_shared<SqliteWatchHub>(std::move(*replay_db), options.replay_batch_events,
                                              recovered.revision);

  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(options), lock_fd.release(),
                                                      std::move(*writer), std::move(*readers),
                                                      std::move(hub), recovered));
}

SqliteStore::SqliteStore(SqliteStoreOptions options, int lock_fd,
                         std::unique_ptr<SqliteConnection> writer,
                         std::unique_ptr<SqliteReadPool> readers,
                         std::shared_ptr<SqliteWatchHub> hub, Recovered recovered)
    : options_(std::move(options)),
      lock_fd_(lock_fd),
      writer_db_(std::move(writer)),
      writer_revision_(recovered.revision),
      writer_compacted_(recovered.compacted),
      writer_swept_(recovered.swept),
      readers_(std::move(readers)),
      hub_(std::move(hub)),
      current_revision_(recovered.revision),
      compacted_revision_(recovered.compacted) {
  hub_->Start();
  writer_thread_ = std::thread([this] { WriterLoop(); });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  writer_thread_.join();
  hub_->Stop();
  readers_.reset();
  writer_db_.reset();
  // Last, once no SQLite connection is open: closing another descriptor of the file would
  // drop SQLite's own POSIX locks.
  ::close(lock_fd_);
}

Status SqliteStore::Restore(const std::string& path, int64_t revision, const KeyValueSource& source,
                            SqliteStoreOptions options) {
  if (revision < 0) return Status(StatusCode::kBadRequest, "revision must not be negative");
  {
    // Creates the schema (or checks an existing one) and tells whether the file is empty.
    auto store = Open(path, options);
    if (!store) return store.error();
    if (int64_t current = (*store)->current_revision_.load(); current != 0) {
      return Status(StatusCode::kAlreadyExists, "the datastore " + path +
                                                    " is not empty (it is at revision " +
                                                    std::to_string(current) + ")");
    }
  }
  FdGuard lock_fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (lock_fd.get() < 0) {
    return Status(StatusCode::kInternal, "open " + path + ": " + std::strerror(errno));
  }
  if (::flock(lock_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return Status(StatusCode::kServiceUnavailable,
                  "database " + path + " is in use by another store");
  }
  Status result = [&]() -> Status {
    auto opened = SqliteConnection::Open(path, SQLITE_OPEN_READWRITE, options.busy_timeout);
    if (!opened) return opened.error();
    SqliteConnection& db = **opened;
    if (Status st = db.Exec("PRAGMA synchronous = FULL; BEGIN IMMEDIATE"); !st.ok()) return st;
    Status st = [&]() -> Status {
      int64_t current = 0, compacted = 0, swept = 0;
      if (Status meta = db.ReadMeta(current, compacted, swept); !meta.ok()) return meta;
      auto max_logged = db.QueryText(kSelectMaxLogRevision);
      if (!max_logged) return max_logged.error();
      if (current != 0 || *max_logged != "0") {
        return Status(StatusCode::kAlreadyExists, "the datastore " + path + " is not empty");
      }
      Status fed = source([&](KeyValue&& kv) -> Status {
        if (kv.key.empty() || kv.create_revision <= 0 || kv.mod_revision < kv.create_revision ||
            kv.mod_revision > revision) {
          return Status(StatusCode::kBadRequest,
                        "key " + Quoted(kv.key) + " has revisions (create " +
                            std::to_string(kv.create_revision) + ", mod " +
                            std::to_string(kv.mod_revision) +
                            ") outside 0 < create <= mod <= " + std::to_string(revision));
        }
        auto live = db.Run(kRestoreKv, [&](sqlite3_stmt* stmt) {
          int rc = BindBytes(stmt, 1, kv.key);
          if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, kv.create_revision);
          if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 3, kv.mod_revision);
          return rc;
        });
        auto logged = live ? db.Run(kInsertLog,
                                    [&](sqlite3_stmt* stmt) {
                                      int rc = sqlite3_bind_int64(stmt, 1, kv.mod_revision);
                                      if (rc == SQLITE_OK) rc = BindBytes(stmt, 2, kv.key);
                                      if (rc == SQLITE_OK) rc = sqlite3_bind_int(stmt, 3, 0);
                                      if (rc == SQLITE_OK) {
                                        rc = sqlite3_bind_int64(stmt, 4, kv.create_revision);
                                      }
                                      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 5, 0);
                                      if (rc == SQLITE_OK) rc = BindBytes(stmt, 6, kv.value);
                                      return rc;
                                    })
                           : Result<int>(Err(live.error()));
        if (!logged) {
          if ((db.last_error_code() & 0xff) == SQLITE_CONSTRAINT) {
            return Status(StatusCode::kBadRequest,
                          "key " + Quoted(kv.key) + " (mod revision " +
                              std::to_string(kv.mod_revision) +
                              ") repeats a key or a mod revision of another key");
          }
          return logged.error();
        }
        return Status::Ok();
      });
      if (!fed.ok()) return fed;
      for (const char* name : {kMetaRevision, kMetaCompacted, kMetaSwept}) {
        auto set = db.Run(kSetMeta, [&](sqlite3_stmt* stmt) {
          int rc = sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
          if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, revision);
          return rc;
        });
        if (!set) return set.error();
      }
      return db.Exec(kCommit);
    }();
    if (!st.ok()) (void)db.Exec(kRollback);
    return st;
  }();
  // The connection is closed by now; the flock goes last (see ~SqliteStore).
  return result;
}

Status SqliteStore::Export(const std::string& path,
                           const std::function<Status(int64_t, int64_t)>& at,
                           const KeyValueSink& sink, SqliteStoreOptions options) {
  if (::access(path.c_str(), F_OK) != 0) {
    return Status(StatusCode::kNotFound, "no datastore at " + path);
  }
  // Read-write without CREATE, but query-only: a read-only handle could not set up the WAL
  // index when no other process has the database open.
  auto opened = SqliteConnection::Open(path, SQLITE_OPEN_READWRITE, options.busy_timeout);
  if (!opened) return opened.error();
  SqliteConnection& db = **opened;
  if (Status st = db.Exec("PRAGMA query_only = 1"); !st.ok()) return st;
  auto version = db.QueryText("PRAGMA user_version");
  if (!version) return version.error();
  if (std::atoi(version->c_str()) != kSchemaVersion) {
    return Status(StatusCode::kInternal, path + " is not a Skiff database of schema version " +
                                             std::to_string(kSchemaVersion));
  }
  // One read transaction: every statement below sees the same committed state.
  if (Status st = db.Exec(kBegin); !st.ok()) return st;
  Status result = [&]() -> Status {
    int64_t revision = 0, compacted = 0, swept = 0;
    if (Status st = db.ReadMeta(revision, compacted, swept); !st.ok()) return st;
    auto max_logged = db.QueryText(kSelectMaxLogRevision);
    if (!max_logged) return max_logged.error();
    revision = std::max<int64_t>(revision, std::atoll(max_logged->c_str()));
    if (Status st = at(revision, std::min(compacted, revision)); !st.ok()) return st;
    auto stmt = db.Statement(kExportKv);
    if (!stmt) return stmt.error();
    StatementScope scope(*stmt);
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      KeyValue kv;
      kv.key = ColumnBytes(*stmt, 0);
      kv.create_revision = sqlite3_column_int64(*stmt, 1);
      kv.mod_revision = sqlite3_column_int64(*stmt, 2);
      kv.value = ColumnBytes(*stmt, 3);
      if (Status st = sink(std::move(kv)); !st.ok()) return st;
    }
    if (rc != SQLITE_DONE) return db.Fail(rc, kExportKv);
    return Status::Ok();
  }();
  (void)db.Exec(kCommit);
  return result;
}

bool SqliteStore::Submit(SqliteWriteOp& op) {
  if (!Enqueue(op)) return false;
  op.done.acquire();
  return true;
}

bool SqliteStore::Enqueue(SqliteWriteOp& op) {
  {
    std::lock_guard lock(mu_);
    if (writer_stopped_) return false;
    pending_.push_back(&op);
  }
  writer_cv_.notify_one();
  return true;
}

void SqliteStore::WriterLoop() {
  using Clock = std::chrono::steady_clock;
  std::vector<SqliteWriteOp*> batch;
  // Group commit with a short adaptive delay. The callers woken by the last commit
  // usually come straight back with their next write; a transaction that waits a moment
  // for them carries more writes per fsync. So the writer waits until as many writes are
  // pending as the last transaction held, but at most half as long as that commit took
  // (a caller that misses this transaction waits a whole commit for the next one) and
  // never more than max_commit_delay. A lone sequential writer is never delayed.
  size_t last_batch_size = 0;
  Clock::duration last_commit{};
  for (;;) {
    {
      std::unique_lock lock(mu_);
      const auto sweep_due = [this] { return writer_swept_ < writer_compacted_ && !sweep_failed_; };
      writer_cv_.wait(lock, [&] { return !pending_.empty() || stopping_ || sweep_due(); });
      if (pending_.empty() && stopping_) {
        writer_stopped_ = true;
        break;
      }
      if (!stopping_ && !pending_.empty() && pending_.size() < last_batch_size) {
        const auto delay = std::min<Clock::duration>(last_commit / 2, options_.max_commit_delay);
        writer_cv_.wait_for(lock, delay,
                            [&] { return pending_.size() >= last_batch_size || stopping_; });
      }
      size_t bytes = 0;
      while (!pending_.empty() && batch.size() < options_.max_batch_ops &&
             (batch.empty() || bytes < options_.max_batch_bytes)) {
        SqliteWriteOp* op = pending_.front();
        pending_.pop_front();
        bytes += op->key.size() + op->value.size();
        batch.push_back(op);
      }
    }
    const auto started = Clock::now();
    CommitBatch(batch);
    last_commit = Clock::now() - started;
    last_batch_size = batch.size();
    batch.clear();
  }
  for (SqliteWriteOp* op : compact_waiters_) {
    op->status = Status(StatusCode::kServiceUnavailable,
                        "storage is shutting down; compaction resumes when it reopens");
    op->Complete();
  }
  compact_waiters_.clear();
}

Status SqliteStore::ApplyOp(SqliteWriteOp& op, int64_t revision, int64_t& compacted) {
  SqliteConnection& db = *writer_db_;
  const auto insert_log = [&](bool deleted, int64_t create_revision, int64_t prev_revision,
                              std::string_view value) {
    return db.Run(kInsertLog, [&](sqlite3_stmt* stmt) {
      int rc = sqlite3_bind_int64(stmt, 1, revision);
      if (rc == SQLITE_OK) rc = BindBytes(stmt, 2, op.key);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int(stmt, 3, deleted ? 1 : 0);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 4, create_revision);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 5, prev_revision);
      if (rc == SQLITE_OK) rc = BindBytes(stmt, 6, value);
      return rc;
    });
  };

  switch (op.kind) {
    case SqliteWriteOp::Kind::kCreate: {
      auto inserted = db.Run(kInsertKv, [&](sqlite3_stmt* stmt) {
        int rc = BindBytes(stmt, 1, op.key);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, revision);
        return rc;
      });
      if (!inserted) return inserted.error();
      if (*inserted == 0) {
        op.status = Status(StatusCode::kAlreadyExists, "key " + Quoted(op.key) + " already exists");
        return Status::Ok();
      }
      auto logged = insert_log(false, revision, 0, op.value);
      if (!logged) return logged.error();
      op.revision = revision;
      op.create_revision = revision;
      return Status::Ok();
    }

    case SqliteWriteOp::Kind::kUpdate:
    case SqliteWriteOp::Kind::kDelete: {
      const bool is_delete = op.kind == SqliteWriteOp::Kind::kDelete;
      auto current = db.GetCurrent(op.key);
      if (!current) return current.error();
      if (!*current) {
        op.status = Status(StatusCode::kNotFound, "key " + Quoted(op.key) + " not found");
        return Status::Ok();
      }
      const bool any_revision = is_delete && op.expected_mod_revision == 0;
      if (!any_revision && (*current)->mod_revision != op.expected_mod_revision) {
        op.status = Status(StatusCode::kConflict,
                           "key " + Quoted(op.key) + " was modified: its mod revision is " +
                               std::to_string((*current)->mod_revision) + ", expected " +
                               std::to_string(op.expected_mod_revision));
        return Status::Ok();
      }
      const int64_t create_revision = (*current)->create_revision;
      auto logged = insert_log(is_delete, create_revision, (*current)->mod_revision,
                               is_delete ? std::string_view() : std::string_view(op.value));
      if (!logged) return logged.error();
      auto changed =
          is_delete
              ? db.Run(kDeleteKv, [&](sqlite3_stmt* stmt) { return BindBytes(stmt, 1, op.key); })
              : db.Run(kUpdateKv, [&](sqlite3_stmt* stmt) {
                  int rc = BindBytes(stmt, 1, op.key);
                  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, revision);
                  return rc;
                });
      if (!changed) return changed.error();
      op.revision = revision;
      op.create_revision = create_revision;
      op.prev = std::move(*current);
      return Status::Ok();
    }

    case SqliteWriteOp::Kind::kCompact: {
      const int64_t latest = revision - 1;
      if (op.compact_revision > latest) {
        op.status =
            Status(StatusCode::kBadRequest,
                   "compaction revision " + std::to_string(op.compact_revision) +
                       " is in the future (current revision " + std::to_string(latest) + ")");
        return Status::Ok();
      }
      if (op.compact_revision < compacted) {
        op.status = CompactedError(op.compact_revision, compacted);
        return Status::Ok();
      }
      if (op.compact_revision > compacted) {
        auto marked = db.Run(kSetMeta, [&](sqlite3_stmt* stmt) {
          int rc = sqlite3_bind_text(stmt, 1, kMetaCompacted, -1, SQLITE_STATIC);
          if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, op.compact_revision);
          return rc;
        });
        if (!marked) return marked.error();
        compacted = op.compact_revision;
      }
      return Status::Ok();
    }
  }
  return Status(StatusCode::kInternal, "unknown write operation");
}

Status SqliteStore::SweepChunk(int64_t& swept, int64_t compacted) {
  SqliteConnection& db = *writer_db_;
  const int64_t low = swept;
  const int64_t high =
      std::min(compacted, low + std::max<int64_t>(options_.compact_chunk_revisions, 1));
  const auto bind_range = [&](sqlite3_stmt* stmt) {
    int rc = sqlite3_bind_int64(stmt, 1, low);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, high);
    return rc;
  };
  if (auto done = db.Run(kSweepSuperseded, bind_range); !done) return done.error();
  if (auto done = db.Run(kSweepTombstones, bind_range); !done) return done.error();
  auto marked = db.Run(kSetMeta, [&](sqlite3_stmt* stmt) {
    int rc = sqlite3_bind_text(stmt, 1, kMetaSwept, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, high);
    return rc;
  });
  if (!marked) return marked.error();
  swept = high;
  return Status::Ok();
}

void SqliteStore::CommitBatch(std::vector<SqliteWriteOp*>& batch) {
  SqliteConnection& db = *writer_db_;
  int64_t revision = writer_revision_;
  int64_t compacted = writer_compacted_;
  int64_t swept = writer_swept_;
  Status failure;  // set when the transaction as a whole failed
  // A new compaction request retries a sweep that failed before.
  if (std::ranges::any_of(batch, [](const SqliteWriteOp* op) {
        return op->kind == SqliteWriteOp::Kind::kCompact;
      })) {
    sweep_failed_ = false;
  }

  // A database error that concerns one operation (e.g. a value too big) leaves that
  // operation out and runs the transaction again without it; any other error fails the
  // whole transaction.
  for (bool done = false; !done;) {
    revision = writer_revision_;
    compacted = writer_compacted_;
    swept = writer_swept_;
    if (auto begun = db.Run(kBeginImmediate); !begun) {
      failure = begun.error();
      break;
    }
    done = true;
    for (SqliteWriteOp* op : batch) {
      if (op->excluded) continue;
      op->status = Status::Ok();
      op->prev.reset();
      Status st = ApplyOp(*op, revision + 1, compacted);
      if (!st.ok()) {
        (void)db.Run(kRollback);
        const int code = db.last_error_code();
        if (!IsOperationError(code)) {
          failure = std::move(st);
        } else {
          op->excluded = true;
          op->status = (code & 0xff) == SQLITE_TOOBIG
                           ? Status(StatusCode::kRequestEntityTooLarge, st.message())
                           : std::move(st);
          done = false;
        }
        break;
      }
      if (op->status.ok() && op->kind != SqliteWriteOp::Kind::kCompact) ++revision;
    }
    if (!failure.ok()) break;
    if (!done) continue;

    if (!sweep_failed_ && swept < compacted) {
      if (Status st = SweepChunk(swept, compacted); !st.ok()) {
        // Commit the writes without the sweep; the compaction callers learn of the error.
        (void)db.Run(kRollback);
        sweep_failed_ = true;
        sweep_error_ = std::move(st);
        done = false;
        continue;
      }
    }
    if (revision != writer_revision_) {
      auto marked = db.Run(kSetMeta, [&](sqlite3_stmt* stmt) {
        int rc = sqlite3_bind_text(stmt, 1, kMetaRevision, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 2, revision);
        return rc;
      });
      if (!marked) {
        (void)db.Run(kRollback);
        failure = marked.error();
        break;
      }
    }
    if (auto committed = db.Run(kCommit); !committed) {
      (void)db.Run(kRollback);
      failure = committed.error();
      break;
    }
  }

  if (!failure.ok()) {
    for (SqliteWriteOp* op : batch) {
      if (!op->excluded) op->status = failure;
      op->Complete();
    }
    if (writer_swept_ < writer_compacted_) {
      // Park the sweep rather than retry it in a loop while the database keeps failing;
      // the next Compact call retries it.
      sweep_failed_ = true;
      sweep_error_ = failure;
      for (SqliteWriteOp* op : compact_waiters_) {
        op->status = failure;
        op->Complete();
      }
      compact_waiters_.clear();
    }
    return;
  }

  // Committed.
  writer_revision_ = revision;
  writer_compacted_ = compacted;
  writer_swept_ = swept;
  current_revision_.store(revision, std::memory_order_release);
  compacted_revision_.store(compacted, std::memory_order_release);

  std::vector<WatchEvent> events;
  events.reserve(batch.size());
  for (SqliteWriteOp* op : batch) {
    if (op->excluded || !op->status.ok()) continue;
    switch (op->kind) {
      case SqliteWriteOp::Kind::kCreate:
      case SqliteWriteOp::Kind::kUpdate:
        // The caller needs neither the key nor the value back.
        events.push_back(WatchEvent{.type = WatchEventType::kPut,
                                    .kv = KeyValue{.key = std::move(op->key),
                                                   .value = std::move(op->value),
                                                   .create_revision = op->create_revision,
                                                   .mod_revision = op->revision},
                                    .prev = op->prev});
        break;
      case SqliteWriteOp::Kind::kDelete:
        events.push_back(WatchEvent{.type = WatchEventType::kDelete,
                                    .kv = KeyValue{.key = op->prev->key,
                                                   .value = op->prev->value,
                                                   .create_revision = op->create_revision,
                                                   .mod_revision = op->revision},
                                    .prev = op->prev});
        break;
      case SqliteWriteOp::Kind::kCompact: break;
    }
  }
  // Published before the callers wake, so a watch started from a revision a caller has
  // just been given always finds it either in the log or among the live events.
  hub_->Publish(std::move(events), revision);

  for (SqliteWriteOp* op : batch) {
    const bool waits_for_sweep = op->kind == SqliteWriteOp::Kind::kCompact && !op->excluded &&
                                 op->status.ok() && writer_swept_ < op->compact_revision;
    if (waits_for_sweep && sweep_failed_) {
      op->status = sweep_error_;
    } else if (waits_for_sweep) {
      compact_waiters_.push_back(op);
      continue;
    }
    op->Complete();
  }
  std::erase_if(compact_waiters_, [this](SqliteWriteOp* op) {
    if (writer_swept_ >= op->compact_revision) {
      op->Complete();
      return true;
    }
    if (sweep_failed_) {
      op->status = sweep_error_;
      op->Complete();
      return true;
    }
    return false;
  });
}

Result<int64_t> SqliteStore::Create(std::string_view key, std::string value) {
  if (key.empty()) return Err(StatusCode::kBadRequest, "key must not be empty");
  SqliteWriteOp op;
  op.kind = SqliteWriteOp::Kind::kCreate;
  op.key = std::string(key);
  op.value = std::move(value);
  if (!Submit(op)) return Err(StatusCode::kServiceUnavailable, "storage is shutting down");
  if (!op.status.ok()) return Err(std::move(op.status));
  return op.revision;
}

void SqliteStore::CreateAsync(std::string_view key, std::string value,
                              std::function<void(Result<int64_t>)> done) {
  if (key.empty()) return done(Err(StatusCode::kBadRequest, "key must not be empty"));
  auto op = std::make_unique<SqliteWriteOp>();
  op->kind = SqliteWriteOp::Kind::kCreate;
  op->key = std::string(key);
  op->value = std::move(value);
  op->on_done = [done = std::move(done)](SqliteWriteOp& finished) {
    if (!finished.status.ok()) return done(Err(std::move(finished.status)));
    done(finished.revision);
  };
  if (!Enqueue(*op)) {
    op->status = Status(StatusCode::kServiceUnavailable, "storage is shutting down");
    op->on_done(*op);
    return;
  }
  op.release();  // the writer deletes it once done
}

Result<int64_t> SqliteStore::Update(std::string_view key, std::string value,
                                    int64_t expected_mod_revision) {
  if (key.empty()) return Err(StatusCode::kBadRequest, "key must not be empty");
  SqliteWriteOp op;
  op.kind = SqliteWriteOp::Kind::kUpdate;
  op.key = std::string(key);
  op.value = std::move(value);
  op.expected_mod_revision = expected_mod_revision;
  if (!Submit(op)) return Err(StatusCode::kServiceUnavailable, "storage is shutting down");
  if (!op.status.ok()) return Err(std::move(op.status));
  return op.revision;
}

Result<DeleteResult> SqliteStore::Delete(std::string_view key, int64_t expected_mod_revision) {
  if (key.empty()) return Err(StatusCode::kBadRequest, "key must not be empty");
  SqliteWriteOp op;
  op.kind = SqliteWriteOp::Kind::kDelete;
  op.key = std::string(key);
  op.expected_mod_revision = expected_mod_revision;
  if (!Submit(op)) return Err(StatusCode::kServiceUnavailable, "storage is shutting down");
  if (!op.status.ok()) return Err(std::move(op.status));
  return DeleteResult{.deleted = std::move(*op.prev), .revision = op.revision};
}

Result<KeyValue> SqliteStore::Get(std::string_view key) {
  auto db = readers_->Acquire();
  auto current = db->GetCurrent(key);
  if (!current) return Err(std::move(current.error()));
  if (!*current) return Err(StatusCode::kNotFound, "key " + Quoted(key) + " not found");
  return std::move(**current);
}

Result<RangeResult> SqliteStore::Range(std::string_view prefix, std::string_view start_after,
                                       int64_t revision, int64_t limit) {
  if (revision < 0) return Err(StatusCode::kBadRequest, "revision must not be negative");
  if (limit < 0) return Err(StatusCode::kBadRequest, "limit must not be negative");
  auto db = readers_->Acquire();
  ReadSnapshot snapshot(*db);
  int64_t current = 0;
  int64_t compacted = 0;
  if (Status st = snapshot.Begin(current, compacted); !st.ok()) return Err(std::move(st));
  if (revision > current) {
    return Err(StatusCode::kBadRequest, "required revision " + std::to_string(revision) +
                                            " is a future revision (current revision " +
                                            std::to_string(current) + ")");
  }
  if (revision != 0 && revision < compacted) return Err(CompactedError(revision, compacted));
  const bool at_current = revision == 0 || revision == current;

  const std::string start = RangeStart(prefix, start_after);
  const std::optional<std::string> end = PrefixEnd(prefix);
  RangeResult result;
  result.revision = at_current ? current : revision;
  if (!at_current) {
    if (Status st = RangeHistory(*db, start, end, revision, limit, result); !st.ok()) {
      return Err(std::move(st));
    }
    return result;
  }

  const char* sql = end ? kRangeCurrentBounded : kRangeCurrentUnbounded;
  auto stmt = db->Statement(sql);
  if (!stmt) return Err(std::move(stmt.error()));
  StatementScope scope(*stmt);
  int rc = BindBytes(*stmt, 1, start);
  if (rc == SQLITE_OK && end) rc = BindBytes(*stmt, 2, *end);
  // One row beyond the limit tells whether there is more.
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*stmt, 3, limit > 0 ? limit + 1 : -1);
  if (rc != SQLITE_OK) return Err(db->Fail(rc, sql));
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    if (limit > 0 && static_cast<int64_t>(result.kvs.size()) == limit) {
      result.more = true;
      rc = SQLITE_DONE;
      break;
    }
    result.kvs.push_back(KeyValue{.key = ColumnBytes(*stmt, 0),
                                  .value = ColumnBytes(*stmt, 3),
                                  .create_revision = sqlite3_column_int64(*stmt, 1),
                                  .mod_revision = sqlite3_column_int64(*stmt, 2)});
  }
  if (rc != SQLITE_DONE) return Err(db->Fail(rc, sql));
  return result;
}

Result<std::unique_ptr<StoreWatch>> SqliteStore::Watch(std::string_view prefix,
                                                       int64_t after_revision,
                                                       WatchCallback callback) {
  if (after_revision < 0) return Err(StatusCode::kBadRequest, "revision must not be negative");
  if (!callback) return Err(StatusCode::kBadRequest, "watch callback must be set");
  const int64_t compacted = compacted_revision_.load(std::memory_order_acquire);
  if (after_revision < compacted) return Err(CompactedError(after_revision, compacted));
  auto watcher = hub_->Register(std::string(prefix), after_revision, std::move(callback));
  if (!watcher) return Err(std::move(watcher.error()));
  return std::unique_ptr<StoreWatch>(new SqliteStoreWatch(hub_, std::move(*watcher)));
}

Result<int64_t> SqliteStore::CurrentRevision() {
  return current_revision_.load(std::memory_order_acquire);
}

Status SqliteStore::Compact(int64_t revision) {
  if (revision < 0) return Status(StatusCode::kBadRequest, "revision must not be negative");
  SqliteWriteOp op;
  op.kind = SqliteWriteOp::Kind::kCompact;
  op.compact_revision = revision;
  if (!Submit(op)) return Status(StatusCode::kServiceUnavailable, "storage is shutting down");
  return std::move(op.status);
}

int64_t SqliteStore::CompactedRevision() {
  return compacted_revision_.load(std::memory_order_acquire);
}

}  // namespace skiff
