#include "common/report/aggregate.h"

#include <gtest/gtest.h>

namespace herd::report {
namespace {

stats::Recorder interval(uint64_t requests, uint64_t latency_ns) {
  stats::Recorder r(2);
  for (uint64_t i = 0; i < requests; ++i) r.recordRequest(i % 2, latency_ns + i, 10, 1, stats::ErrorKind::kNone);
  return r;
}

// What comes in through add() or intake() is in the totals whenever they are
// read, and in exactly one second of the series.
TEST(RunAggregate, EveryIntervalCountsOnceInTheTotalsAndOnceInTheSeries) {
  RunAggregate aggregate(2);
  aggregate.add(interval(10, 1'000'000));
  aggregate.intake().merge(interval(5, 2'000'000));
  EXPECT_EQ(aggregate.total().requests(), 15u);  // read mid-second
  aggregate.add(interval(3, 3'000'000));
  const auto first = aggregate.closeSecond(1.0, 7, 0.5);
  EXPECT_EQ(first.requests, 18u);
  EXPECT_EQ(first.total_requests, 18u);
  EXPECT_EQ(aggregate.total().requests(), 18u);

  aggregate.intake().merge(interval(4, 5'000'000));
  const auto second = aggregate.closeSecond(2.0, 7, 0.5);
  EXPECT_EQ(second.requests, 4u);
  EXPECT_NEAR(second.p50_ms, 5.0, 0.1);  // this second's requests only
  EXPECT_EQ(second.total_requests, 22u);
  EXPECT_EQ(aggregate.closeSecond(3.0, 0, 0).requests, 0u);
  EXPECT_EQ(aggregate.total().requests(), 22u);
  EXPECT_EQ(aggregate.total().totals().latency.count(), 22u);
}

}  // namespace
}  // namespace herd::report
