#pragma once
// Baselines: the run a relative threshold ("http.latency p95 < baseline * 1.10")
// is compared with. Its numbers come from what was stored when it ended — its
// summary.json, a ledger row or a LoadTest's history entry, each read in the
// summary's shape — never from a live process, so a baseline survives restarts.
#include <optional>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/report/threshold.h"

namespace herd::report {

// A baseline run's stored results in summary.json's shape (docs/design.md): the
// fields read are `thresholds[].expression/value`, `totals` (requests, failures,
// rps, latency.mean/p50/p90/p95/p99/max) and `endpoints[]` (name, method, the same).
struct Baseline {
  std::string run_id;
  std::string source;  // for people: "summary ConfigMap herd-run-x-summary", "ledger herd-ledger.jsonl"
  Json results;
};

// The baseline's value of the measure `threshold` judges (its metric, tags and
// aggregation; the bound does not matter), in the threshold's unit. First from the
// baseline's own thresholds that judged the same measure, then from its totals or
// its one endpoint with the tags. nullopt when the baseline does not have it.
std::optional<double> baselineValue(const Threshold& threshold, const Json& results);

// Fills in the relative thresholds' baseline value and bound from `baseline`.
// Without a baseline, or for a measure it lacks, the threshold records why
// (`missing` when there is no baseline) and is skipped when judged.
void applyBaseline(std::vector<Threshold>& thresholds, const std::optional<Baseline>& baseline,
                   const std::string& missing);

// Whether any threshold is relative to a baseline.
bool needsBaseline(const std::vector<Threshold>& thresholds);

}  // namespace herd::report
