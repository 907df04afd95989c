#pragma once
// The subcommands of `herd`: flags are declared here, the work happens in
// commands.cc. Kept apart from main() so tests can drive them.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/coordinator/coordinator.h"
#include "common/core/result.h"
#include "common/report/threshold.h"
#include "common/scenario/plan.h"

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
  std::string out_dir;
  std::string summary_json;
  size_t workers = 0;
  bool insecure = false;
  std::string ca_file;
  std::string grace = "30s";
  uint64_t seed = 0;
  std::string log_level = "info";
};

// Shared by `herd run` and `herd coordinator` (distributed.cc): flags, the
// compiled scenario, console progress, and what a finished run prints, writes
// and exits with.
struct Compiled {
  scenario::Plan plan;
  std::vector<report::Threshold> thresholds;
};
void addScenarioFlags(CLI::App& command, Options& options);
void addOutputFlags(CLI::App& command, Options& options);
Result<Compiled> compileAll(const Options& options);
int invalid(const Error& error);
void printProgress(const scenario::Plan& plan, std::function<void(const report::SecondSample&)>& on_second,
                   std::function<void(double)>& on_saturated);
int finishRun(const Options& options, const scenario::Plan& plan, const Result<coordinator::RunResult>& result);

void addRunCommand(CLI::App& app, Options& options);
void addValidateCommand(CLI::App& app, Options& options);
int dispatch(const CLI::App& app, const Options& options);

}  // namespace herd::cli
