#pragma once
// Thresholds: "http.latency{name:login} p95 < 500ms", "http.failures rate < 1%".
// Parsed once (so `herd validate` reports bad ones), evaluated against merged
// stats. Grammar: METRIC[{tag:value,...}] AGGREGATION OP VALUE [abortOnFail [delay=DURATION]].
// abortOnFail: the run's coordinator evaluates the threshold every second and
// stops the whole run as soon as it fails (exit 1); delay=DURATION holds that
// evaluation back for the first DURATION of the run (warm-up). Without
// abortOnFail a threshold is judged once, at the end.
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/plan.h"
#include "common/stats/recorder.h"

namespace herd::report {

struct Threshold {
  enum class Metric { kHttpLatency, kHttpFailures, kHttpRequests };
  enum class Aggregation { kPercentile, kMean, kMin, kMax, kCount, kRate };
  enum class Op { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

  std::string expression;  // as written
  Metric metric = Metric::kHttpLatency;
  std::map<std::string, std::string> tags;  // name, method
  Aggregation aggregation = Aggregation::kPercentile;
  double percentile = 0;  // kPercentile
  Op op = Op::kLess;
  // Latency in milliseconds; failure rate as a fraction (1% = 0.01); request
  // rate per second; counts as counts.
  double bound = 0;
  bool abort_on_fail = false;
  std::chrono::nanoseconds delay{0};  // abortOnFail is not evaluated before this much run time
};

struct ThresholdResult {
  std::string expression;
  bool passed = false;
  double value = 0;  // the measured value, in the bound's unit
  std::string shown;  // the value for people, with its unit: "1.68ms", "0.20%", "812.0/s"
};

Result<Threshold> parseThreshold(std::string_view expression);
Result<std::vector<Threshold>> parseThresholds(const std::vector<std::string>& expressions);

ThresholdResult evaluate(const Threshold& threshold, const scenario::Plan& plan,
                         const stats::Recorder& stats, double duration_seconds);

}  // namespace herd::report
