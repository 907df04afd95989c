#pragma once
// A threshold's expression: "http.latency{name:login} p95 < 500ms",
// "http.failures rate < 1%". Grammar: METRIC[{tag:value,...}] AGGREGATION OP VALUE,
// where VALUE may be relative to a baseline run: "baseline" or "baseline * FACTOR"
// ("http.latency p95 < baseline * 1.10"; docs/scenario.md#baselines). `http.rps OP
// VALUE` is short for `http.requests rate OP VALUE`.
// Parsed when the scenario compiles (so a bad one is a compile error with its
// place), judged against merged stats by common/report (threshold.h).
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace herd::scenario {

struct Threshold {
  enum class Metric {
    kHttpLatency,
    kHttpFailures,
    kHttpRequests,
    kDeliveryLatency,
    kDeliveryLost,
    kDeliveryDuplicates
  };
  enum class Aggregation { kPercentile, kMean, kMin, kMax, kCount, kRate };
  enum class Op { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

  std::string expression;  // as written
  Metric metric = Metric::kHttpLatency;
  std::map<std::string, std::string> tags;  // name, method; stream for delivery.*
  Aggregation aggregation = Aggregation::kPercentile;
  double percentile = 0;  // kPercentile
  Op op = Op::kLess;
  // Latency in milliseconds; failure rate as a fraction (1% = 0.01); request
  // rate per second; counts as counts.
  // For a relative bound, baseline_value * baseline_factor once a baseline is known.
  double bound = 0;
  // "baseline * FACTOR" (FACTOR > 0; "baseline" alone is 1): the bound is the
  // baseline run's value of the same measure times the factor. The value and the
  // run it came from are filled in before the run starts (report::applyBaseline);
  // without them the threshold is skipped, not judged (report::ThresholdResult).
  std::optional<double> baseline_factor;
  std::optional<double> baseline_value;
  std::string baseline_run;      // the run the value came from
  std::string baseline_missing;  // why there is no value, when there is none
  // From the scenario's {expression, abortOnFail, delay}: whether a failure seen
  // while the run goes ends it, and how long into the run that check waits.
  bool abort_on_fail = false;
  double delay_seconds = 0;

  bool relative() const { return baseline_factor.has_value(); }
};

// The expression alone; the error says what is wrong with it (its where is empty:
// the caller knows the place).
Result<Threshold> parseThreshold(std::string_view expression);

}  // namespace herd::scenario
