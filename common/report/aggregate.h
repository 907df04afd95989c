#pragma once
// The run-wide view of the stats: everything the workers and the agents
// report is merged here, once a second, into cumulative totals and a per-second
// time series. One place merges, so `herd run` and the coordinator agree.
#include <array>
#include <cstdint>
#include <vector>

#include "common/stats/recorder.h"

namespace herd::report {

// The percentiles Locust's CSV files report, in its order (50% ... 100%).
inline constexpr std::array<double, 11> kReportedPercentiles = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};

// One point of the time series (the progress line, the CSV history, the charts).
struct SecondSample {
  double elapsed_seconds = 0;  // since the run's start, at the end of the second
  int64_t users = 0;
  uint64_t requests = 0;  // in this second
  uint64_t failures = 0;
  uint64_t bytes_received = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // of this second's requests
  uint64_t total_requests = 0;                // cumulative, for the progress line
  uint64_t total_failures = 0;
  double generator_busy_percent = 0;  // busiest generator thread in this second
  // Over the run so far, at the end of this second (the CSV history's columns).
  std::array<double, kReportedPercentiles.size()> total_percentiles_ms{};
  double total_mean_ms = 0, total_min_ms = 0, total_max_ms = 0;
  uint64_t total_bytes_received = 0;
};

class RunAggregate {
 public:
  explicit RunAggregate(size_t endpoint_count);

  // Merges one interval from one worker or agent into the running totals and
  // into the second being built.
  void add(const stats::Recorder& interval) { intake_.merge(interval); }
  // Where an interval can be merged in place instead (the coordinator merges a
  // report straight from the wire): counted as add() counts it.
  stats::Recorder& intake() { return intake_; }
  // Closes the second being built and appends it to the series.
  const SecondSample& closeSecond(double elapsed_seconds, int64_t users, double busy_fraction);

  const stats::Recorder& total() const {
    fold();
    return total_;
  }
  const std::vector<SecondSample>& series() const { return series_; }
  int64_t peakUsers() const { return peak_users_; }
  double peakBusyPercent() const { return peak_busy_percent_; }

 private:
  // What came in since the last fold goes into the totals and the second
  // being built when either is read: an interval is merged once as it
  // arrives (a thousand agents' reports a second), the sum of them twice a
  // second or so.
  void fold() const;

  mutable stats::Recorder total_;
  mutable stats::Recorder second_;
  mutable stats::Recorder intake_;
  std::vector<SecondSample> series_;
  int64_t peak_users_ = 0;
  double peak_busy_percent_ = 0;
};

// Nanoseconds to the milliseconds the summary and tables use.
inline double toMillis(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace herd::report
