#pragma once
// A threshold's expression: "http.latency{name:login} p95 < 500ms",
// "http.failures rate < 1%". Grammar: METRIC[{tag:value,...}] AGGREGATION OP VALUE.
// Parsed when the scenario compiles (so a bad one is a compile error with its
// place), judged against merged stats by common/report (threshold.h).
#include <map>
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
  double bound = 0;
  // From the scenario's {expression, abortOnFail, delay}: whether a failure seen
  // while the run goes ends it, and how long into the run that check waits.
  bool abort_on_fail = false;
  double delay_seconds = 0;
};

// The expression alone; the error says what is wrong with it (its where is empty:
// the caller knows the place).
Result<Threshold> parseThreshold(std::string_view expression);

}  // namespace herd::scenario
