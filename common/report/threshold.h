#pragma once
// Thresholds: "http.latency{name:login} p95 < 500ms", "http.failures rate < 1%".
// Parsed once (so `herd validate` reports bad ones), evaluated against merged
// stats. Grammar: METRIC[{tag:value,...}] AGGREGATION OP VALUE.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/plan.h"
#include "common/stats/delivery.h"
#include "common/stats/recorder.h"

namespace herd::report {

struct Threshold {
  enum class Metric { kHttpLatency, kHttpFailures, kHttpRequests, kDeliveryLatency, kDeliveryLost, kDeliveryDuplicates };
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
// With pub/sub results (by Plan::streams index) for the delivery.* metrics:
// delivery.latency (p.., mean, min, max in ms), delivery.lost and
// delivery.duplicates (count, or rate: lost per expected delivery, duplicates per
// delivered message), filtered by {stream:NAME}.
ThresholdResult evaluate(const Threshold& threshold, const scenario::Plan& plan,
                         const stats::Recorder& stats, double duration_seconds,
                         const std::vector<stats::DeliveryStream>& delivery);

}  // namespace herd::report
