#include "base/log.h"

#include <atomic>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace skiff::log {

namespace {

std::atomic<int> g_verbosity{0};

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("skiff");
    l->set_pattern("%L %Y-%m-%dT%H:%M:%S.%fZ %v", spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

void Emit(spdlog::level::level_enum level, std::string_view component, std::string_view message) {
  Logger().log(level, "{} {}", component, message);
}

}  // namespace

void SetVerbosity(int level) { g_verbosity = level; }
int Verbosity() { return g_verbosity; }

void Info(std::string_view component, std::string_view message) {
  Emit(spdlog::level::info, component, message);
}
void Warn(std::string_view component, std::string_view message) {
  Emit(spdlog::level::warn, component, message);
}
void Error(std::string_view component, std::string_view message) {
  Emit(spdlog::level::err, component, message);
}
void V(int level, std::string_view component, std::string_view message) {
  if (level <= g_verbosity) Emit(spdlog::level::debug, component, message);
}

}  // namespace skiff::log
