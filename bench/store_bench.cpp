// store_bench: throughput and latency of the embedded SQLite store.
//
// N threads create small values for a few seconds (every create is a durable,
// group-committed write), then N threads read random keys back with Get.
//
// Usage: store_bench [--seconds S] [--threads N] [--value-bytes B] [--dir DIR]
//                    [--read-connections R]
// Prints a table and one machine-readable line:
//   BENCH store creates_per_s=... gets_per_s=... p50_ms=... p99_ms=...
// (p50/p99 are create latencies.)
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  double seconds = 3.0;
  int threads = 16;
  size_t value_bytes = 256;
  std::string dir;  // empty: a fresh temp dir, removed afterwards
  int read_connections = skiff::SqliteStoreOptions{}.read_connections;
};

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value for %s\n", arg.c_str());
      return false;
    }
    const std::string value = argv[++i];
    if (arg == "--seconds") {
      flags.seconds = std::stod(value);
    } else if (arg == "--threads") {
      flags.threads = std::stoi(value);
    } else if (arg == "--value-bytes") {
      flags.value_bytes = std::stoul(value);
    } else if (arg == "--dir") {
      flags.dir = value;
    } else if (arg == "--read-connections") {
      flags.read_connections = std::stoi(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", arg.c_str());
      return false;
    }
  }
  return flags.threads > 0 && flags.seconds > 0;
}

struct PhaseResult {
  const char* name;
  uint64_t ops = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;  // sorted

  double PerSecond() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  double Percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    const size_t index = std::min(
        latencies_ms.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_ms.size())));
    return latencies_ms[index];
  }
};

// Runs `op(thread, i)` from `threads` threads until `seconds` have passed.
template <typename Op>
PhaseResult RunPhase(const char* name, int threads, double seconds, Op op) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  std::atomic<uint64_t> errors = 0;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = latencies[static_cast<size_t>(t)];
      for (uint64_t i = 0;; ++i) {
        const auto before = Clock::now();
        if (before >= deadline) break;
        if (!op(t, i)) ++errors;
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - before).count());
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  PhaseResult result{.name = name};
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& mine : latencies) {
    result.latencies_ms.insert(result.latencies_ms.end(), mine.begin(), mine.end());
  }
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  result.errors = errors;
  result.ops = result.latencies_ms.size() - result.errors;
  return result;
}

std::string KeyFor(int thread, uint64_t i) {
  return "/registry/configmaps/bench/t" + std::to_string(thread) + "-" + std::to_string(i);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;

  std::filesystem::path dir = flags.dir;
  bool remove_dir = false;
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "skiff-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
    remove_dir = true;
  }

  int exit_code = 0;
  {
    skiff::SqliteStoreOptions options;
    options.read_connections = flags.read_connections;
    auto opened = skiff::SqliteStore::Open((dir / "bench.db").string(), options);
    if (!opened) {
      std::fprintf(stderr, "open: %s\n", opened.error().ToString().c_str());
      return 1;
    }
    skiff::SqliteStore& store = **opened;
    const std::string value(flags.value_bytes, 'x');

    std::vector<std::atomic<uint64_t>> created(static_cast<size_t>(flags.threads));
    PhaseResult creates =
        RunPhase("create", flags.threads, flags.seconds, [&](int thread, uint64_t i) {
          if (!store.Create(KeyFor(thread, i), value).has_value()) return false;
          created[static_cast<size_t>(thread)].store(i + 1, std::memory_order_relaxed);
          return true;
        });

    PhaseResult gets = RunPhase("get", flags.threads, flags.seconds, [&](int thread, uint64_t) {
      thread_local std::mt19937_64 random(static_cast<uint64_t>(thread) * 7919 + 1);
      const int owner = static_cast<int>(random() % static_cast<uint64_t>(flags.threads));
      const uint64_t count = created[static_cast<size_t>(owner)].load(std::memory_order_relaxed);
      if (count == 0) return false;
      return store.Get(KeyFor(owner, random() % count)).has_value();
    });

    std::printf("store_bench: %d threads, %zu-byte values, %.1f s per phase, dir %s\n",
                flags.threads, flags.value_bytes, flags.seconds, dir.c_str());
    std::printf("%-8s %10s %8s %12s %9s %9s %9s\n", "phase", "ops", "errors", "ops/s", "p50 ms",
                "p99 ms", "max ms");
    for (const PhaseResult* phase : {&creates, &gets}) {
      std::printf("%-8s %10llu %8llu %12.0f %9.3f %9.3f %9.3f\n", phase->name,
                  static_cast<unsigned long long>(phase->ops),
                  static_cast<unsigned long long>(phase->errors), phase->PerSecond(),
                  phase->Percentile(0.50), phase->Percentile(0.99),
                  phase->latencies_ms.empty() ? 0.0 : phase->latencies_ms.back());
    }
    std::printf("BENCH store creates_per_s=%.0f gets_per_s=%.0f p50_ms=%.3f p99_ms=%.3f\n",
                creates.PerSecond(), gets.PerSecond(), creates.Percentile(0.50),
                creates.Percentile(0.99));
    if (creates.errors != 0 || gets.errors != 0) exit_code = 1;
  }
  if (remove_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return exit_code;
}
