#pragma once
// The live state of a run in Prometheus text exposition format (version 0.0.4),
// rebuilt once a second and served by `--metrics-listen`. Label cardinality is
// bounded whatever the scenario: at most kMaxEndpointSeries endpoints get their
// own series (the rest are summed under endpoint="(other)"), errors are labelled
// by kind only, and the latency histogram has a fixed set of buckets.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/report/aggregate.h"
#include "common/report/threshold.h"
#include "common/scenario/plan.h"

namespace herd::output {

constexpr size_t kMaxEndpointSeries = 50;
constexpr size_t kMaxThresholdSeries = 50;
constexpr size_t kMaxLabelBytes = 128;  // longer names are cut (with "...")
// Upper bounds of the latency histogram's buckets, in seconds (+Inf is added).
inline constexpr std::array<double, 14> kLatencyBucketsSeconds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                  0.1,    0.25,  0.5,    1,     2.5,  5,     10};

struct LiveView {
  const scenario::Plan& plan;
  const report::RunAggregate& aggregate;
  const std::vector<report::ThresholdResult>& thresholds;  // report::evaluateLive()'s results
  bool finished = false;                                   // the run has ended; these are the final values
};

std::string prometheusText(const LiveView& view);

// A label value with \, " and newline escaped, cut to kMaxLabelBytes.
std::string labelValue(std::string_view text);

}  // namespace herd::output
