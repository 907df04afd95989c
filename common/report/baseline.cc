#include "common/report/baseline.h"

#include <fmt/format.h>

namespace herd::report {

namespace {

using json = Json;
using Metric = Threshold::Metric;
using Aggregation = Threshold::Aggregation;

bool sameMeasure(const Threshold& a, const Threshold& b) {
  return a.metric == b.metric && a.tags == b.tags && a.aggregation == b.aggregation &&
         (a.aggregation != Aggregation::kPercentile || a.percentile == b.percentile);
}

std::optional<double> numberAt(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// What one of the baseline's own thresholds measured, when one judged the same
// measure (a skipped one still measured; one that ended the run early did not
// measure the whole run).
std::optional<double> fromThresholds(const Threshold& t, const json& results) {
  const auto it = results.find("thresholds");
  if (it == results.end() || !it->is_array()) return std::nullopt;
  for (const auto& entry : *it) {
    if (!entry.is_object() || !entry.contains("expression") || !entry["expression"].is_string()) continue;
    if (entry.value("abortedRun", false)) continue;
    const auto parsed = parseThreshold(entry["expression"].get<std::string>());
    if (parsed && sameMeasure(t, *parsed))
      if (auto value = numberAt(entry, "value")) return value;
  }
  return std::nullopt;
}

// From one block of the summary's shape: {requests, failures, rps, latency: {...}}.
std::optional<double> fromCounts(const Threshold& t, const json& block) {
  switch (t.aggregation) {
    case Aggregation::kCount: return numberAt(block, t.metric == Metric::kHttpFailures ? "failures" : "requests");
    case Aggregation::kRate:
      if (t.metric == Metric::kHttpRequests) return numberAt(block, "rps");
      if (auto requests = numberAt(block, "requests"), failures = numberAt(block, "failures"); requests && failures)
        return *requests > 0 ? *failures / *requests : 0.0;
      return std::nullopt;
    case Aggregation::kMean: return numberAt(block.value("latency", json::object()), "mean");
    case Aggregation::kMax: return numberAt(block.value("latency", json::object()), "max");
    case Aggregation::kMin: return std::nullopt;  // the summary keeps no minimum
    case Aggregation::kPercentile: {
      const auto key = fmt::format("p{}", t.percentile);  // p95, p99, p99.9
      return numberAt(block.value("latency", json::object()), key.c_str());
    }
  }
  return std::nullopt;
}

// The endpoint the tags select, when exactly one does (percentiles of several
// cannot be merged from their summaries).
std::optional<double> fromEndpoints(const Threshold& t, const json& results) {
  const auto it = results.find("endpoints");
  if (it == results.end() || !it->is_array()) return std::nullopt;
  const json* selected = nullptr;
  for (const auto& e : *it) {
    if (!e.is_object()) continue;
    bool match = true;
    for (const auto& [key, value] : t.tags)
      if (key != "name" && key != "method") match = false;
      else if (e.value(key, std::string()) != value) match = false;
    if (!match) continue;
    if (selected) return std::nullopt;
    selected = &e;
  }
  return selected ? fromCounts(t, *selected) : std::nullopt;
}

}  // namespace

std::optional<double> baselineValue(const Threshold& t, const json& results) {
  if (!results.is_object()) return std::nullopt;
  if (auto value = fromThresholds(t, results)) return value;
  const bool http = t.metric == Metric::kHttpLatency || t.metric == Metric::kHttpFailures ||
                    t.metric == Metric::kHttpRequests;
  if (!http) return std::nullopt;
  if (t.tags.empty()) return fromCounts(t, results.value("totals", json::object()));
  return fromEndpoints(t, results);
}

void applyBaseline(std::vector<Threshold>& thresholds, const std::optional<Baseline>& baseline,
                   const std::string& missing) {
  for (auto& t : thresholds) {
    if (!t.relative()) continue;
    t.baseline_value.reset();
    t.baseline_run.clear();
    t.baseline_missing.clear();
    if (!baseline) {
      t.baseline_missing = missing.empty() ? "no baseline run" : missing;
      continue;
    }
    auto value = baselineValue(t, baseline->results);
    if (!value) {
      t.baseline_missing = fmt::format("baseline run {} has no value for this measure", baseline->run_id);
      continue;
    }
    t.baseline_value = *value;
    t.baseline_run = baseline->run_id;
    t.bound = *value * *t.baseline_factor;
  }
}

bool needsBaseline(const std::vector<Threshold>& thresholds) {
  for (const auto& t : thresholds)
    if (t.relative()) return true;
  return false;
}

}  // namespace herd::report
