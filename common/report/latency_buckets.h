#pragma once
// A latency histogram as Prometheus' classic histograms want it: cumulative
// counts at fixed upper bounds. The operator keeps a run's merged histogram in
// the LoadTest's status (status.latencyHistogram) and exports it as
// herd_loadtest_latency_seconds, so histogram_quantile() over the series gives
// the run's percentiles fleet-wide (docs/install.md#metrics).
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/stats/histogram.h"

namespace herd::report {

// The fleet-wide histogram's bounds: six a decade (1, 1.5, 2, 3, 5, 7 times a
// power of ten) from 0.1 ms to 70 s, so neighbours are at most 1.5 times apart
// and histogram_quantile()'s linear interpolation is off by less than the
// width of the bucket holding the quantile: at most a third of its value.
inline constexpr std::array<double, 36> kFleetLatencyBoundsSeconds = {
    0.0001, 0.00015, 0.0002, 0.0003, 0.0005, 0.0007, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.007,
    0.01,   0.015,   0.02,   0.03,   0.05,   0.07,   0.1,   0.15,   0.2,   0.3,   0.5,   0.7,
    1,      1.5,     2,      3,      5,      7,      10,    15,     20,    30,    50,    70};

struct LatencyBuckets {
  std::vector<double> bounds_seconds;  // ascending; +Inf is implied
  std::vector<uint64_t> cumulative;    // requests at or below each bound
  uint64_t count = 0;                  // every request (the +Inf bucket)
  double sum_seconds = 0;
  bool operator==(const LatencyBuckets&) const = default;
};

// Cumulative counts of a histogram of nanoseconds at `bounds_seconds`. A
// recorder bucket (at most 1/128 of its value wide) that straddles a bound is
// counted below it.
std::vector<uint64_t> cumulativeCounts(const stats::Histogram& latency, std::span<const double> bounds_seconds);

// `latency` at kFleetLatencyBoundsSeconds.
LatencyBuckets fleetLatencyBuckets(const stats::Histogram& latency);

}  // namespace herd::report
