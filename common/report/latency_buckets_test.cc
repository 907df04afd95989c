#include "common/report/latency_buckets.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

namespace herd::report {
namespace {

// Prometheus' histogram_quantile(q, ...): the bucket holding rank q * count,
// interpolated linearly between its lower and upper bound (the first bucket's
// lower bound is 0).
double histogramQuantile(double q, const LatencyBuckets& b) {
  const double rank = q * static_cast<double>(b.count);
  for (size_t i = 0; i < b.cumulative.size(); ++i) {
    if (static_cast<double>(b.cumulative[i]) >= rank) {
      const double lower = i == 0 ? 0 : b.bounds_seconds[i - 1];
      const double below = i == 0 ? 0 : static_cast<double>(b.cumulative[i - 1]);
      const double in_bucket = static_cast<double>(b.cumulative[i]) - below;
      return lower + (b.bounds_seconds[i] - lower) * (rank - below) / in_bucket;
    }
  }
  return b.bounds_seconds.back();
}

// The width of the bucket holding `seconds`: the documented bound on the error.
double bucketWidth(double seconds) {
  const auto& bounds = kFleetLatencyBoundsSeconds;
  const auto upper = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  return *upper - (upper == bounds.begin() ? 0 : *(upper - 1));
}

TEST(LatencyBuckets, CountsAreCumulativeAtEachBound) {
  stats::Histogram h;
  h.record(50'000);           // 0.05 ms: in the first bucket
  h.record(1'000'000);        // 1 ms: on a bound, counted at it
  h.record(2'500'000, 3);     // 2.5 ms: in (2, 3] ms
  h.record(100'000'000'000);  // 100 s: only in +Inf
  const auto b = fleetLatencyBuckets(h);
  ASSERT_EQ(b.cumulative.size(), kFleetLatencyBoundsSeconds.size());
  EXPECT_EQ(b.count, 6u);
  EXPECT_NEAR(b.sum_seconds, 0.00005 + 0.001 + 3 * 0.0025 + 100, 1e-9);
  auto at = [&](double bound) {
    const auto i = std::find(kFleetLatencyBoundsSeconds.begin(), kFleetLatencyBoundsSeconds.end(), bound);
    return b.cumulative[static_cast<size_t>(i - kFleetLatencyBoundsSeconds.begin())];
  };
  EXPECT_EQ(at(0.0001), 1u);
  EXPECT_EQ(at(0.0007), 1u);
  EXPECT_EQ(at(0.001), 2u);
  EXPECT_EQ(at(0.002), 2u);
  EXPECT_EQ(at(0.003), 5u);
  EXPECT_EQ(at(70), 5u);
  EXPECT_TRUE(std::is_sorted(b.cumulative.begin(), b.cumulative.end()));
}

TEST(LatencyBuckets, HistogramQuantileIsWithinTheBucketWidthOfTheRecordersPercentile) {
  // Log-normal latencies around 3 ms, and a slow tail, as loopback runs look.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> typical(std::log(3e6), 0.5);
  std::uniform_real_distribution<double> tail(50e6, 400e6);
  for (int round = 0; round < 20; ++round) {
    stats::Histogram h;
    for (int i = 0; i < 20'000; ++i) h.record(static_cast<uint64_t>(i % 50 == 0 ? tail(rng) : typical(rng)));
    const auto b = fleetLatencyBuckets(h);
    for (double q : {0.5, 0.95, 0.99}) {
      const double truth = static_cast<double>(h.valueAtPercentile(100 * q)) / 1e9;
      EXPECT_NEAR(histogramQuantile(q, b), truth, bucketWidth(truth)) << "q=" << q << " round " << round;
    }
  }
}

TEST(LatencyBuckets, EmptyHistogramHasZeroCounts) {
  const auto b = fleetLatencyBuckets(stats::Histogram{});
  EXPECT_EQ(b.count, 0u);
  EXPECT_EQ(b.sum_seconds, 0);
  EXPECT_TRUE(std::all_of(b.cumulative.begin(), b.cumulative.end(), [](uint64_t c) { return c == 0; }));
}

}  // namespace
}  // namespace herd::report
