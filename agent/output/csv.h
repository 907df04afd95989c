#pragma once
// CSV files with Locust's names, columns and meanings (locust --csv PREFIX), so
// spreadsheets and scripts built around Locust keep working:
//   PREFIX_stats.csv          one row per endpoint, then "Aggregated"
//   PREFIX_stats_history.csv  one "Aggregated" row per second of the run
//   PREFIX_failures.csv       one row per (endpoint, error)
// Pure functions of the merged results, so `herd run` and the coordinator write
// the same files. Differences from Locust are listed in docs/results.md.
#include <string>

#include "common/core/json.h"

#include "common/core/result.h"
#include "common/report/aggregate.h"
#include "common/report/summary.h"
#include "common/scenario/plan.h"

namespace herd::output {

std::string statsCsv(const scenario::Plan& plan, const report::RunAggregate& aggregate, const report::RunInfo& info);
std::string statsHistoryCsv(const report::RunAggregate& aggregate, const report::RunInfo& info);
std::string failuresCsv(const scenario::Plan& plan, const report::RunAggregate& aggregate);

// Writes the three files as PREFIX_stats.csv, PREFIX_stats_history.csv and
// PREFIX_failures.csv.
Status writeCsvFiles(const std::string& prefix, const scenario::Plan& plan, const report::RunAggregate& aggregate,
                     const report::RunInfo& info);

// The same files from a run's summary.json alone (`herd k8s run --out`, `herd k8s
// report`: the operator keeps the summary, not the histograms). The summary keeps
// the mean, p50, p90, p95, p99 and max: the minimum and the other percentiles are
// N/A, and there is no PREFIX_stats_history.csv (docs/results.md).
std::string statsCsvFromSummary(const Json& summary);
std::string failuresCsvFromSummary(const Json& summary);
Status writeCsvFilesFromSummary(const std::string& prefix, const Json& summary);

// One CSV field, quoted the way Python's csv module does by default (only when it
// holds a comma, a quote or a line break).
std::string csvField(std::string_view text);

}  // namespace herd::output
