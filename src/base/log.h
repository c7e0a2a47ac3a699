// Logging: one line per event, `LEVEL time component message key=value...`, with
// klog-style verbosity (-v). Backed by spdlog; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace skiff::log {

// Sets the verbosity: V(n) lines are printed when n <= level. Default 0.
void SetVerbosity(int level);
int Verbosity();

void Info(std::string_view component, std::string_view message);
void Warn(std::string_view component, std::string_view message);
void Error(std::string_view component, std::string_view message);
// Printed only when `level` <= the verbosity.
void V(int level, std::string_view component, std::string_view message);

}  // namespace skiff::log
