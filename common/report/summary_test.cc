#include "common/report/summary.h"

#include <gtest/gtest.h>

namespace herd::report {
namespace {

TEST(Summary, FollowsTheVersion1Contract) {
  scenario::Plan plan;
  plan.name = "shop";
  plan.endpoints = {{"login", "POST"}, {"/products?page=[n]", "GET"}};
  RunAggregate aggregate(2);
  stats::Recorder interval(2);
  interval.recordRequest(0, 3'000'000, 100, 50, stats::ErrorKind::kNone);
  interval.recordRequest(1, 1'000'000, 200, 40, stats::ErrorKind::kStatus, 503);
  aggregate.add(interval);
  aggregate.closeSecond(1.0, 7, 0.95);

  RunInfo info;
  info.run_id = "shop-abc";
  info.duration_seconds = 2;
  info.fd_limit = 1024;
  info.thresholds = {{"http.failures rate < 1%", false, 0.5, "50.00%"}};
  info.verdict = verdictOf(info.thresholds);
  const auto s = buildSummary(plan, aggregate, info);

  EXPECT_EQ(s["version"], 1);
  EXPECT_EQ(s["runId"], "shop-abc");
  EXPECT_EQ(s["verdict"], "failed");
  EXPECT_EQ(s["users"]["peak"], 7);
  EXPECT_EQ(s["totals"]["requests"], 2);
  EXPECT_EQ(s["totals"]["failures"], 1);
  EXPECT_DOUBLE_EQ(s["totals"]["rps"].get<double>(), 1.0);
  EXPECT_EQ(s["totals"]["bytesReceived"], 300);
  EXPECT_NEAR(s["totals"]["latency"]["max"].get<double>(), 3.0, 1e-9);
  EXPECT_NEAR(s["totals"]["latency"]["mean"].get<double>(), 2.0, 1e-9);
  ASSERT_EQ(s["endpoints"].size(), 2u);
  EXPECT_EQ(s["endpoints"][1]["name"], "/products?page=[n]");
  EXPECT_EQ(s["endpoints"][1]["method"], "GET");
  ASSERT_EQ(s["errors"].size(), 1u);
  EXPECT_EQ(s["errors"][0]["endpoint"], "/products?page=[n]");
  EXPECT_EQ(s["errors"][0]["kind"], "status");
  EXPECT_EQ(s["errors"][0]["message"], "HTTP 503");
  EXPECT_EQ(s["errors"][0]["count"], 1);
  EXPECT_TRUE(s["delivery"].is_array());
  EXPECT_EQ(s["thresholds"][0]["passed"], false);
  EXPECT_EQ(s["generator"]["saturated"], true);  // 95% busy > 90%
  EXPECT_EQ(s["generator"]["fdLimit"], 1024);
  for (const auto* key : {"mean", "p50", "p90", "p95", "p99", "max"}) {
    EXPECT_TRUE(s["totals"]["latency"].contains(key)) << key;
  }
}

TEST(Summary, TimeSeriesKeepsEachSecondSeparate) {
  RunAggregate aggregate(1);
  stats::Recorder a(1), b(1);
  for (int i = 0; i < 10; ++i) a.recordRequest(0, 1'000'000, 1, 1, stats::ErrorKind::kNone);
  for (int i = 0; i < 5; ++i) b.recordRequest(0, 9'000'000, 1, 1, stats::ErrorKind::kTimeout);
  aggregate.add(a);
  aggregate.closeSecond(1, 3, 0.1);
  aggregate.add(b);
  const auto& second = aggregate.closeSecond(2, 3, 0.2);
  EXPECT_EQ(second.requests, 5u);
  EXPECT_EQ(second.failures, 5u);
  EXPECT_EQ(second.total_requests, 15u);
  EXPECT_NEAR(second.p50_ms, 9.0, 0.05);
  EXPECT_EQ(aggregate.series().size(), 2u);
  EXPECT_EQ(aggregate.series()[0].requests, 10u);
  EXPECT_DOUBLE_EQ(aggregate.peakBusyPercent(), 20.0);
}

TEST(Summary, AnAbortedRunNamesTheThresholdThatEndedIt) {
  scenario::Plan plan;
  plan.name = "abort";
  RunAggregate aggregate(0);
  RunInfo info;
  ThresholdResult aborted{"http.failures rate < 1%", false, 0.5, "50.00%"};
  aborted.abort_on_fail = true;
  aborted.aborted_run = true;
  aborted.aborted_at_seconds = 3;
  info.thresholds = {{"http.latency p95 < 1s", false, 2000, "2000.00ms"}, aborted};
  info.verdict = verdictOf(info.thresholds);
  EXPECT_EQ(info.verdict, Verdict::kAborted);
  const auto s = buildSummary(plan, aggregate, info);
  EXPECT_EQ(s["verdict"], "aborted");
  EXPECT_EQ(s["thresholds"][0]["abortedRun"], false);
  EXPECT_FALSE(s["thresholds"][0].contains("abortedAtSeconds"));
  EXPECT_EQ(s["thresholds"][1]["abortedRun"], true);
  EXPECT_EQ(s["thresholds"][1]["abortOnFail"], true);
  EXPECT_EQ(s["thresholds"][1]["abortedAtSeconds"], 3.0);
  EXPECT_EQ(s["thresholds"][1]["shown"], "50.00%");
  EXPECT_EQ(verdictOf({{"a", true, 0, "0"}, {"b", false, 1, "1"}}), Verdict::kFailed);
  EXPECT_EQ(verdictOf({}), Verdict::kPassed);
}

}  // namespace
}  // namespace herd::report
