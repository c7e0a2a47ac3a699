// Test support for EtcdStore: a real etcd member started on loopback ports, and one shared
// member per test process.
//
// The `etcd` binary must be installed (Debian: etcd-server); without it the tests fail
// with a message saying so.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "storage/etcd/etcd_store.h"

namespace skiff::etcd_test {

using namespace std::chrono_literals;

// A fresh directory under the test temp dir, removed with everything in it.
class EtcdScratchDir {
 public:
  EtcdScratchDir() {
    std::string pattern = ::testing::TempDir() + "skiff-etcd-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~EtcdScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  EtcdScratchDir(const EtcdScratchDir&) = delete;
  EtcdScratchDir& operator=(const EtcdScratchDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

inline bool PortAccepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

inline std::optional<std::string> FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// One etcd member on loopback ports with its own data dir, killed when destroyed.
class EtcdServer {
 public:
  EtcdServer() : client_port_(FreePort()), peer_port_(FreePort()) {}
  ~EtcdServer() { Stop(); }
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(client_port_); }

  // Starts etcd (again, on the same ports and data) and waits until it accepts clients.
  Status Start() {
    auto binary = FindOnPath("etcd");
    if (!binary) {
      return Status(StatusCode::kInternal,
                    "the etcd binary is not on PATH: install etcd (Debian package "
                    "etcd-server) to run the etcd storage tests");
    }
    if (client_port_ < 0 || peer_port_ < 0) return Status(StatusCode::kInternal, "no free port");
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    std::vector<std::string> args = {
        *binary,
        "--name=skiff-test",
        "--data-dir=" + dir_.File("data"),
        "--listen-client-urls=" + endpoint(),
        "--advertise-client-urls=" + endpoint(),
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=skiff-test=" + peer,
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-outputs=" + dir_.File("etcd.log"),
    };
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Status(StatusCode::kInternal, "fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test binary
      if (::getppid() != parent) ::_exit(1);
      const int null = ::open("/dev/null", O_RDWR);
      if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Status(StatusCode::kInternal, "etcd exited at start; see its log: " + Log());
      }
      if (PortAccepts(client_port_)) return Status::Ok();
      std::this_thread::sleep_for(20ms);
    }
    return Status(StatusCode::kTimeout, "etcd did not start listening within 20s");
  }

  // Kills etcd (SIGKILL: an acknowledged write must survive it anyway).
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string Log() const {
    std::ifstream in(dir_.File("etcd.log"));
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
  }

  EtcdStoreOptions Options(std::string key_prefix = "") const {
    EtcdStoreOptions options;
    options.endpoints = {endpoint()};
    options.key_prefix = std::move(key_prefix);
    options.dial_timeout = 10s;
    options.request_timeout = 5s;
    return options;
  }

 private:
  EtcdScratchDir dir_;
  const int client_port_;
  const int peer_port_;
  pid_t pid_ = -1;
};

// The one etcd shared by the contract tests of this process (started on first use).
inline Result<EtcdServer*> SharedEtcd() {
  static std::mutex mu;
  static std::unique_ptr<EtcdServer> server;
  static Status failed;
  std::lock_guard lock(mu);
  if (!failed.ok()) return Err(failed);
  if (!server) {
    auto started = std::make_unique<EtcdServer>();
    if (Status st = started->Start(); !st.ok()) {
      failed = st;
      return Err(std::move(st));
    }
    server = std::move(started);
  }
  return server.get();
}

// Collects what a watch delivers. Thread-safe. Must outlive the watch it records.
class EtcdWatchLog {
 public:
  WatchCallback Callback() {
    return [this](WatchBatch&& batch) {
      std::lock_guard lock(mu_);
      if (error_) ++callbacks_after_error_;
      for (WatchEvent& event : batch.events) events_.push_back(std::move(event));
      if (!batch.error.ok()) error_ = std::move(batch.error);
      cv_.notify_all();
    };
  }
  bool WaitForEvents(size_t count, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= count; });
  }
  bool WaitForError(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return error_.has_value(); });
  }
  std::vector<WatchEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::optional<Status> error() const {
    std::lock_guard lock(mu_);
    return error_;
  }
  int callbacks_after_error() const {
    std::lock_guard lock(mu_);
    return callbacks_after_error_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
  std::optional<Status> error_;
  int callbacks_after_error_ = 0;
};

}  // namespace skiff::etcd_test
