#include "common/report/threshold.h"

#include <gtest/gtest.h>

namespace herd::report {
namespace {

using T = Threshold;

TEST(Threshold, ParsesLatencyWithUnitsAndTags) {
  auto t = parseThreshold("http.latency{name:login, method:POST} p99.9 <= 1.5s");
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->metric, T::Metric::kHttpLatency);
  EXPECT_EQ(t->aggregation, T::Aggregation::kPercentile);
  EXPECT_DOUBLE_EQ(t->percentile, 99.9);
  EXPECT_EQ(t->op, T::Op::kLessEqual);
  EXPECT_DOUBLE_EQ(t->bound, 1500);
  EXPECT_EQ(t->tags.at("name"), "login");
  EXPECT_EQ(t->tags.at("method"), "POST");
  EXPECT_DOUBLE_EQ(parseThreshold("http.latency p95 < 500")->bound, 500);
  EXPECT_DOUBLE_EQ(parseThreshold("http.latency mean < 250us")->bound, 0.25);
}

TEST(Threshold, ParsesRatesAndCounts) {
  auto rate = parseThreshold("http.failures rate < 1%");
  ASSERT_TRUE(rate.ok());
  EXPECT_DOUBLE_EQ(rate->bound, 0.01);
  auto count = parseThreshold("http.requests count >= 1000");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->aggregation, T::Aggregation::kCount);
  EXPECT_DOUBLE_EQ(count->bound, 1000);
}

TEST(Threshold, RejectsWithAMessageNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http.latency p95", "expected METRIC AGGREGATION OP VALUE"},
      {"http.latancy p95 < 5ms", "unknown metric \"http.latancy\""},
      {"http.latency p101 < 5ms", "unknown aggregation \"p101\""},
      {"http.latency rate < 5ms", "http.latency and delivery.latency take"},
      {"http.failures p95 < 1%", "take count or rate"},
      {"http.latency p95 << 5ms", "unknown comparison"},
      {"http.latency p95 < fast", "unparsable bound \"fast\""},
      {"http.latency{user:1} p95 < 5ms", "unknown tag \"user\""},
      {"delivery.lost p95 < 1s", "take count or rate"},
      {"delivery.latency count < 1", "delivery.latency take"},
  };
  for (const auto& [text, expected] : cases) {
    auto t = parseThreshold(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.error().message.find(expected), std::string::npos) << t.error().message;
  }
  auto list = parseThresholds(std::vector<std::string>{"http.latency p95 < 1s", "nonsense"});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().where, "thresholds[1]");
}

TEST(Threshold, EvaluatesAgainstSelectedEndpoints) {
  scenario::Plan plan;
  plan.endpoints = {{"login", "POST"}, {"home", "GET"}};
  stats::Recorder stats(2);
  for (int i = 0; i < 100; ++i) stats.recordRequest(0, 2'000'000, 10, 10, stats::ErrorKind::kNone);   // 2 ms
  for (int i = 0; i < 100; ++i) stats.recordRequest(1, 50'000'000, 10, 10, stats::ErrorKind::kNone);  // 50 ms
  for (int i = 0; i < 4; ++i) stats.recordRequest(1, 1'000'000, 10, 10, stats::ErrorKind::kStatus, 503);

  auto login = evaluate(*parseThreshold("http.latency{name:login} p95 < 10ms"), plan, stats, 10);
  EXPECT_TRUE(login.passed);
  EXPECT_NEAR(login.value, 2.0, 0.01);
  EXPECT_EQ(login.shown.substr(login.shown.size() - 2), "ms");
  auto all = evaluate(*parseThreshold("http.latency p95 < 10ms"), plan, stats, 10);
  EXPECT_FALSE(all.passed);
  EXPECT_NEAR(all.value, 50.0, 0.2);
  auto failures = evaluate(*parseThreshold("http.failures rate < 1%"), plan, stats, 10);
  EXPECT_FALSE(failures.passed);
  EXPECT_NEAR(failures.value, 4.0 / 204, 1e-12);
  EXPECT_EQ(failures.shown, "1.96%");
  auto rps = evaluate(*parseThreshold("http.requests rate >= 20"), plan, stats, 10);
  EXPECT_TRUE(rps.passed);
  EXPECT_DOUBLE_EQ(rps.value, 20.4);
  EXPECT_EQ(rps.shown, "20.4/s");

  // evaluateAll (which merges the endpoints once for untagged thresholds) agrees
  // with evaluating each threshold on its own.
  const std::vector<Threshold> mixed = {
      *parseThreshold("http.latency p95 < 10ms"), *parseThreshold("http.latency{name:login} p95 < 10ms"),
      *parseThreshold("http.failures rate < 1%"), *parseThreshold("http.requests{method:GET} count > 100")};
  const auto together = evaluateAll(mixed, plan, stats, 10);
  ASSERT_EQ(together.size(), mixed.size());
  for (size_t i = 0; i < mixed.size(); ++i) {
    const auto alone = evaluate(mixed[i], plan, stats, 10);
    EXPECT_EQ(together[i].value, alone.value) << mixed[i].expression;
    EXPECT_EQ(together[i].passed, alone.passed) << mixed[i].expression;
  }
}

TEST(Threshold, CarriesAbortOnFailAndDelayFromTheScenario) {
  using namespace std::chrono_literals;
  auto list = parseThresholds(std::vector<scenario::ThresholdSpec>{{"http.failures rate < 1%", true, 1500ms},
                                                                   {"http.latency p95 < 1s", false, {}}});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE((*list)[0].abort_on_fail);
  EXPECT_DOUBLE_EQ((*list)[0].delay_seconds, 1.5);
  EXPECT_FALSE((*list)[1].abort_on_fail);
  auto bad = parseThresholds(std::vector<scenario::ThresholdSpec>{{"http.latency p95 < 1s"}, {"bad", true, {}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where, "thresholds[1]");
}

TEST(Threshold, LiveCheckAbortsOnlyAfterTheDelayAndOnlyWhenAsked) {
  scenario::Plan plan;
  plan.endpoints = {{"home", "GET"}};
  stats::Recorder stats(1);
  for (int i = 0; i < 10; ++i) stats.recordRequest(0, 1'000'000, 1, 1, stats::ErrorKind::kStatus, 500);
  auto failing = *parseThreshold("http.failures rate < 1%");
  auto watching = failing;  // the same failure, without abortOnFail
  failing.abort_on_fail = true;
  failing.delay_seconds = 5;
  const std::vector<Threshold> thresholds = {watching, *parseThreshold("http.latency p95 < 1s"), failing};

  auto early = evaluateLive(thresholds, plan, stats, 4.0);
  EXPECT_FALSE(early.abort.has_value());
  ASSERT_EQ(early.results.size(), 3u);
  EXPECT_FALSE(early.results[0].passed);
  EXPECT_TRUE(early.results[1].passed);

  auto late = evaluateLive(thresholds, plan, stats, 5.0);
  ASSERT_TRUE(late.abort.has_value());
  EXPECT_EQ(*late.abort, 2u);
  EXPECT_TRUE(late.results[2].aborted_run);
  EXPECT_DOUBLE_EQ(late.results[2].aborted_at_seconds, 5.0);
  EXPECT_FALSE(late.results[0].aborted_run);

  // At the end the aborting threshold keeps what it measured when it aborted,
  // even if the whole run (here: many later successes) would have passed.
  for (int i = 0; i < 10'000; ++i) stats.recordRequest(0, 1'000'000, 1, 1, stats::ErrorKind::kNone);
  const auto final_results = finalResults(thresholds, plan, stats, 9.0,
                                          ThresholdAbort{*late.abort, late.results[*late.abort]});
  EXPECT_TRUE(final_results[0].passed);  // 10 of 10010 < 1%
  EXPECT_FALSE(final_results[2].passed);
  EXPECT_DOUBLE_EQ(final_results[2].value, 1.0);
  EXPECT_TRUE(final_results[2].aborted_run);
}

TEST(Threshold, EvaluatesDeliveryPerStream) {
  scenario::Plan plan;
  plan.streams = {"progress", "control"};
  std::vector<stats::DeliveryStream> delivery(2);
  delivery[0].expected = 200;
  delivery[0].delivered = 190;
  delivery[0].lost = 10;
  delivery[0].duplicates = 2;
  for (int i = 0; i < 190; ++i) delivery[0].latency.record(30'000'000);  // 30 ms
  delivery[1].expected = 100;
  delivery[1].delivered = 100;
  for (int i = 0; i < 100; ++i) delivery[1].latency.record(3'000'000'000);  // 3 s
  const stats::Recorder none;
  auto lost = evaluate(*parseThreshold("delivery.lost{stream:progress} rate < 1%"), plan, none, 10, delivery);
  EXPECT_FALSE(lost.passed);
  EXPECT_DOUBLE_EQ(lost.value, 0.05);
  EXPECT_EQ(lost.shown, "5.00%");
  auto all_lost = evaluate(*parseThreshold("delivery.lost count <= 10"), plan, none, 10, delivery);
  EXPECT_TRUE(all_lost.passed);
  auto dups = evaluate(*parseThreshold("delivery.duplicates count == 0"), plan, none, 10, delivery);
  EXPECT_FALSE(dups.passed);
  EXPECT_EQ(dups.shown, "2");
  auto p95 = evaluate(*parseThreshold("delivery.latency{stream:control} p95 < 2s"), plan, none, 10, delivery);
  EXPECT_FALSE(p95.passed);
  EXPECT_NEAR(p95.value, 3000, 15);
  auto quick = evaluate(*parseThreshold("delivery.latency{stream:progress} p95 < 2s"), plan, none, 10, delivery);
  EXPECT_TRUE(quick.passed);
}

}  // namespace
}  // namespace herd::report
