#pragma once
// The subcommands of `herd`: flags are declared here, the work happens in
// commands.cc. Kept apart from main() so tests can drive them.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace herd::cli {

constexpr int kExitPassed = 0;
constexpr int kExitThresholdFailed = 1;
constexpr int kExitInvalidInput = 2;
constexpr int kExitRunFailed = 3;

struct Options {
  std::string scenario;
  std::vector<std::string> params;  // key=value
  int64_t users = -1;               // -1: the scenario's
  double spawn_rate = -1;
  std::string duration;
  std::string target;
  std::string shard;  // --shard INDEX/COUNT
  std::string out_dir;
  std::string summary_json;
  size_t workers = 0;
  bool insecure = false;
  std::string ca_file;
  std::string grace;  // empty: the scenario's stop.grace, else 30s
  uint64_t seed = 0;
  std::string log_level = "info";
};

void addRunCommand(CLI::App& app, Options& options);
void addValidateCommand(CLI::App& app, Options& options);
int dispatch(const CLI::App& app, const Options& options);

}  // namespace herd::cli
