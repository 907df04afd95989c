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

Status writeRunOutputs(const Options& options, const scenario::Plan& plan, const report::RunAggregate& aggregate,
                       const report::RunInfo& info);

}  // namespace herd::cli
