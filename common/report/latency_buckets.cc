#include "common/report/latency_buckets.h"

namespace herd::report {

std::vector<uint64_t> cumulativeCounts(const stats::Histogram& latency, std::span<const double> bounds_seconds) {
  std::vector<uint64_t> counts(bounds_seconds.size(), 0);
  latency.forEachBucket([&](uint64_t lower, uint64_t, uint64_t count) {
    for (size_t b = 0; b < bounds_seconds.size(); ++b) {
      if (static_cast<double>(lower) <= bounds_seconds[b] * 1e9) counts[b] += count;
    }
  });
  return counts;
}

LatencyBuckets fleetLatencyBuckets(const stats::Histogram& latency) {
  LatencyBuckets out;
  out.bounds_seconds.assign(kFleetLatencyBoundsSeconds.begin(), kFleetLatencyBoundsSeconds.end());
  out.cumulative = cumulativeCounts(latency, kFleetLatencyBoundsSeconds);
  out.count = latency.count();
  out.sum_seconds = static_cast<double>(latency.sum()) / 1e9;
  return out;
}

}  // namespace herd::report
