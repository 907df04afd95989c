#include "common/report/aggregate.h"

#include <algorithm>

namespace herd::report {

RunAggregate::RunAggregate(size_t endpoint_count)
    : total_(endpoint_count), second_(endpoint_count), intake_(endpoint_count) {}

void RunAggregate::fold() const {
  total_.merge(intake_);
  second_.merge(intake_);
  intake_.reset();
}

const SecondSample& RunAggregate::closeSecond(double elapsed_seconds, int64_t users, double busy_fraction) {
  fold();
  const auto totals = second_.totals();
  SecondSample sample;
  sample.elapsed_seconds = elapsed_seconds;
  sample.users = users;
  sample.requests = totals.requests;
  sample.failures = totals.failures;
  sample.bytes_received = totals.bytes_received;
  sample.p50_ms = toMillis(totals.latency.valueAtPercentile(50));
  sample.p95_ms = toMillis(totals.latency.valueAtPercentile(95));
  sample.p99_ms = toMillis(totals.latency.valueAtPercentile(99));
  const auto so_far = total_.totals();
  sample.total_requests = so_far.requests;
  sample.total_failures = so_far.failures;
  for (size_t i = 0; i < kReportedPercentiles.size(); ++i) {
    sample.total_percentiles_ms[i] = toMillis(so_far.latency.valueAtPercentile(kReportedPercentiles[i]));
  }
  sample.total_mean_ms = so_far.latency.mean() / 1e6;
  sample.total_min_ms = toMillis(so_far.latency.min());
  sample.total_max_ms = toMillis(so_far.latency.max());
  sample.total_bytes_received = so_far.bytes_received;
  sample.generator_busy_percent = busy_fraction * 100.0;
  peak_users_ = std::max(peak_users_, users);
  peak_busy_percent_ = std::max(peak_busy_percent_, sample.generator_busy_percent);
  second_.reset();
  series_.push_back(sample);
  return series_.back();
}

}  // namespace herd::report
