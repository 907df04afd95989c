#pragma once
// The subcommands of `herd`: flags are declared here, the work happens in
// commands.cc. Kept apart from main() so tests can drive them.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/coordinator/coordinator.h"
#include "common/core/result.h"
#include "common/report/threshold.h"
#include "common/scenario/guardrails.h"
#include "common/scenario/plan.h"
#include "common/scenario/run.h"

namespace CLI {
class App;
}  // namespace CLI

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
  std::string junit;     // --junit FILE: thresholds and checks as JUnit XML
  std::string markdown;  // --markdown FILE: a summary for a CI job's page
  size_t workers = 0;
  size_t processes = 0;  // --processes; 0: as the open-files limit requires (processesFor())
  bool insecure = false;
  std::string ca_file;
  std::string grace;  // empty: the scenario's stop.grace, else 30s
  uint64_t seed = 0;
  std::string log_level = "info";
  // What a run leaves behind (outputs.cc).
  std::string csv_prefix;                    // Locust-style PREFIX_stats.csv, ...
  std::string note;                          // free text for the report and the ledger
  std::string ledger = "herd-ledger.jsonl";  // one JSON line per run (ledger_commands.cc)
  bool no_ledger = false;
  bool ledger_csv = false;                // `herd ledger --csv`
  std::vector<std::string> compare_runs;  // `herd compare A B`
  std::string baseline;                   // `herd run --baseline RUN`: a run of the ledger
  std::string metrics_listen;             // HOST:PORT (live_metrics.cc)
  std::string metrics_linger = "0s";
  scenario::RunLimitFlags guardrails;  // limits a shared runner puts on `herd run`
};

// Shared by `herd run` and `herd coordinator` (distributed.cc): flags, the
// compiled scenario, console progress, and what a finished run prints, writes
// and exits with.
using Compiled = scenario::CompiledRun;
void addScenarioFlags(CLI::App& command, Options& options);
// The flags as the run definition's overrides (errors name the flag).
Result<scenario::RunOverrides> runOverrides(const Options& options);
Result<Compiled> compileAll(const Options& options, const scenario::RunOverrides& overrides);
Result<Compiled> compileAll(const Options& options);
int invalid(const Error& error);
// --processes, on `herd run` and `herd agent`.
void addProcessesFlag(CLI::App& command, Options& options);
// What the coordinator sends every agent (and `herd run` its worker processes):
// the scenario's text and the flags that override it (distributed.cc).
Result<v1::Scenario> scenarioMessage(const Options& options, const scenario::RunOverrides& overrides,
                                     const scenario::CompiledRun& run);
// --out, --summary-json and the result flags (outputs.cc).
void addOutputFlags(CLI::App& command, Options& options);
void printProgress(const scenario::Plan& plan, std::function<void(const report::SecondSample&)>& on_second,
                   std::function<void(double)>& on_saturated,
                   std::function<void(const report::ThresholdResult&)>& on_abort);
// Prints the final table, writes every output; returns the run's exit code.
int finishRun(const Options& options, const scenario::Plan& plan, const Result<coordinator::RunResult>& result,
              const std::string& scenario_sha256);

// --max-users, --max-duration, --max-rate, --allow-host (guardrails.cc), and the
// check compileAll() makes with them: a run they refuse is invalid input (exit 2).
void addGuardrailFlags(CLI::App& command, scenario::RunLimitFlags& flags);
Status checkGuardrails(const scenario::RunLimitFlags& flags, const Compiled& compiled);

void addRunCommand(CLI::App& app, Options& options);
void addValidateCommand(CLI::App& app, Options& options);
// The flags about what a run leaves behind (outputs.cc).
void addResultFlags(CLI::App& command, Options& options);
// `herd ledger` and `herd compare` (ledger_commands.cc).
void addLedgerCommands(CLI::App& app, Options& options);
int ledgerCommand(const CLI::App& app, const Options& options);  // -1 when neither was given
Result<std::vector<Json>> readLedger(const std::string& path);
// `herd run --baseline RUN`: the relative thresholds' bounds from that run of
// options.ledger. Without --baseline they are skipped (reason NoBaseline); a
// --baseline the ledger does not have is an Error.
Status applyLedgerBaseline(const Options& options, std::vector<report::Threshold>& thresholds);
// --baseline RUN (herd run, herd coordinator).
void addBaselineFlag(CLI::App& command, Options& options);
int dispatch(const CLI::App& app, const Options& options);

}  // namespace herd::cli
