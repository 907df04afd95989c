#include "common/report/aggregate.h"

#include <algorithm>

namespace herd::report {

RunAggregate::RunAggregate(size_t endpoint_count) : total_(endpoint_count), second_(endpoint_count) {}

void RunAggregate::add(const stats::Recorder& interval) {
  total_.merge(interval);
  second_.merge(interval);
}

const SecondSample& RunAggregate::closeSecond(double elapsed_seconds, int64_t users, double busy_fraction) {
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
  sample.total_requests = total_.requests();
  sample.total_failures = total_.failures();
  sample.generator_busy_percent = busy_fraction * 100.0;
  peak_users_ = std::max(peak_users_, users);
  peak_busy_percent_ = std::max(peak_busy_percent_, sample.generator_busy_percent);
  second_.reset();
  series_.push_back(sample);
  return series_.back();
}

}  // namespace herd::report
