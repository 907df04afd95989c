#pragma once
// What a finished run leaves on disk: summary.json, the Locust-compatible CSV
// files, the HTML report and the ledger row. Each file comes from a pure builder
// in common/report; this only decides names and writes.
#include <string>

#include "agent/cli/commands.h"
#include "common/core/result.h"
#include "common/report/aggregate.h"
#include "common/report/summary.h"
#include "common/scenario/plan.h"

namespace herd::cli {

// The CSV prefix inside --out DIR: DIR/herd_stats.csv, DIR/herd_stats_history.csv, ...
constexpr const char* kCsvPrefixInOut = "herd";

// `scenario_sha256`: of the scenario file as it was when the run started, for the ledger.
Status writeRunOutputs(const Options& options, const scenario::Plan& plan, const report::RunAggregate& aggregate,
                       const report::RunInfo& info, const std::string& scenario_sha256);

// --junit FILE and --markdown FILE (herd run, herd coordinator, herd k8s run).
void addCiFlags(CLI::App& command, std::string& junit, std::string& markdown);
// Writes them from the run's summary (either name may be empty: not wanted).
Status writeCiFiles(const std::string& junit, const std::string& markdown, const Json& summary);

// SHA-256 of a file's content in hex; empty when it cannot be read.
std::string scenarioSha256(const std::string& path);

}  // namespace herd::cli
