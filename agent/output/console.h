#pragma once
// What a person sees on the terminal: one progress line per second while the run
// goes, and a table at the end.
#include <string>

#include "common/report/aggregate.h"
#include "common/report/summary.h"
#include "common/scenario/plan.h"

namespace herd::output {

// "  12s  users 100/100  rps 8123.4  failures 0 (0.00%)  p50 1.20ms  p95 3.40ms  p99 5.60ms  cpu 45%"
std::string formatProgress(const report::SecondSample& sample, int64_t target_users);

// Per-endpoint table, totals, errors, thresholds and the verdict.
std::string formatFinalTable(const scenario::Plan& plan, const report::RunAggregate& aggregate,
                             const report::RunInfo& info);

}  // namespace herd::output
