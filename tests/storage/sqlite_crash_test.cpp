// Durability of SqliteStore: a child process writes and reports each acknowledged write to
// the parent through a pipe; the parent kills it with SIGKILL mid-stream, reopens the file
// and checks that every acknowledged write is there. (This exercises a process crash; the
// page cache survives it, so power loss is not simulated here.)
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/sqlite_store.h"

namespace skiff {
namespace {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "skiff-crash-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string ValueFor(const std::string& key) { return "value-of:" + key; }

// Writes all of `line` to `fd` in one write(2): lines are shorter than PIPE_BUF, so lines
// from different threads never interleave.
void WriteLine(int fd, const std::string& line) {
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
}

// The child: opens the store and creates keys from several threads forever, reporting
// "<revision> <key>" for each acknowledged create. Never returns.
[[noreturn]] void RunChild(const std::string& path, int round, int report_fd) {
  auto store = SqliteStore::Open(path);
  if (!store) {
    WriteLine(report_fd, "ERR " + store.error().ToString() + "\n");
    ::_exit(1);
  }
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        const std::string key =
            "/crash/" + std::to_string(round) + "/" + std::to_string(t) + "/" + std::to_string(i);
        auto revision = (*store)->Create(key, ValueFor(key));
        if (!revision) {
          WriteLine(report_fd, "ERR " + revision.error().ToString() + "\n");
          ::_exit(2);
        }
        WriteLine(report_fd, std::to_string(*revision) + " " + key + "\n");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ::_exit(0);
}

// Reads report lines from `fd` into `acknowledged` until `stop_after` lines arrived (then
// returns true), EOF or an error line (false), or 30 s without data (false).
bool ReadReports(int fd, size_t stop_after, std::string& buffer,
                 std::map<std::string, int64_t>& acknowledged, size_t& received,
                 std::string& error) {
  while (stop_after == 0 || received < stop_after) {
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, 30000) <= 0) {
      error = "no report from the child for 30 s";
      return false;
    }
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // EOF
    buffer.append(chunk, static_cast<size_t>(n));
    for (size_t newline; (newline = buffer.find('\n')) != std::string::npos;) {
      const std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (line.starts_with("ERR ")) {
        error = line;
        return false;
      }
      const size_t space = line.find(' ');
      acknowledged[line.substr(space + 1)] = std::stoll(line.substr(0, space));
      ++received;
    }
  }
  return true;
}

TEST(SqliteCrashTest, AcknowledgedCreatesSurviveKill9) {
  ScratchDir dir;
  const std::string path = dir.File("state.db");
  std::map<std::string, int64_t> acknowledged;  // key -> revision, over all rounds
  // Kill at different points so that the kill lands in different phases of a commit.
  const size_t kill_after[] = {300, 1200, 57, 2000};
  for (int round = 0; round < static_cast<int>(std::size(kill_after)); ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(path, round, fds[1]);
    }
    ::close(fds[1]);

    std::string buffer;
    std::string error;
    size_t received = 0;
    const bool reached =
        ReadReports(fds[0], kill_after[round], buffer, acknowledged, received, error);
    ::kill(pid, SIGKILL);
    // Whatever the child reported before it died was acknowledged too.
    (void)ReadReports(fds[0], 0, buffer, acknowledged, received, error);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(reached) << "round " << round << ": " << error;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "round " << round;

    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    int64_t newest = 0;
    size_t missing = 0;
    for (const auto& [key, revision] : acknowledged) {
      newest = std::max(newest, revision);
      auto kv = (*store)->Get(key);
      if (!kv.has_value()) {
        if (++missing <= 5) ADD_FAILURE() << "acknowledged key lost: " << key;
        continue;
      }
      EXPECT_EQ(kv->value, ValueFor(key));
      EXPECT_EQ(kv->mod_revision, revision) << key;
    }
    EXPECT_EQ(missing, 0u) << "round " << round << " lost writes";
    // Revisions keep increasing after the crash, past everything acknowledged.
    auto current = (*store)->CurrentRevision();
    ASSERT_TRUE(current.has_value());
    EXPECT_GE(*current, newest);
    auto next = (*store)->Create("/after-crash/" + std::to_string(round), "v");
    ASSERT_TRUE(next.has_value()) << next.error().ToString();
    EXPECT_EQ(*next, *current + 1);
    // Everything in the file is consistent: one live key per revision ever acknowledged
    // or committed but not yet reported.
    auto all = (*store)->Range("/crash/", "", 0, 0);
    ASSERT_TRUE(all.has_value());
    EXPECT_GE(all->kvs.size(), acknowledged.size());
    std::cout << "round " << round << ": " << received << " acknowledged before kill -9, "
              << all->kvs.size() << " keys in the store, revision " << *current << "\n";
  }
}

}  // namespace
}  // namespace skiff
