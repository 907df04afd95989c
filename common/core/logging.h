#pragma once
// One named spdlog logger per module ("engine", "runner", "scenario", ...), all
// writing to stderr so stdout stays for progress and tables.
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace herd {

// Returns the module's logger, creating it on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

// Sets the level of every herd logger ("debug", "info", "warn", "error").
void setLogLevel(const std::string& level);

}  // namespace herd
