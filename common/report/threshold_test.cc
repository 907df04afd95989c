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
      {"http.latency rate < 5ms", "http.latency takes"},
      {"http.failures p95 < 1%", "take count or rate"},
      {"http.latency p95 << 5ms", "unknown comparison"},
      {"http.latency p95 < fast", "unparsable bound \"fast\""},
      {"http.latency{user:1} p95 < 5ms", "unknown tag \"user\""},
      {"delivery.lost count == 0", "needs pub/sub"},
  };
  for (const auto& [text, expected] : cases) {
    auto t = parseThreshold(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.error().message.find(expected), std::string::npos) << t.error().message;
  }
  auto list = parseThresholds({"http.latency p95 < 1s", "nonsense"});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().where, "thresholds[1]");
}

TEST(Threshold, EvaluatesAgainstSelectedEndpoints) {
  scenario::Plan plan;
  plan.endpoints = {{"login", "POST"}, {"home", "GET"}};
  stats::Recorder stats(2);
  for (int i = 0; i < 100; ++i) stats.recordRequest(0, 2'000'000, 10, 10, stats::ErrorKind::kNone);  // 2 ms
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
}

TEST(Threshold, ParsesAbortOnFailAndDelay) {
  auto t = parseThreshold("http.failures rate < 1% abortOnFail delay=10s");
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_TRUE(t->abort_on_fail);
  EXPECT_EQ(t->delay, std::chrono::seconds(10));
  EXPECT_DOUBLE_EQ(t->bound, 0.01);
  auto plain = parseThreshold("http.latency{name:a b} p95 < 5ms abortOnFail");
  ASSERT_TRUE(plain.ok()) << plain.error().describe();
  EXPECT_TRUE(plain->abort_on_fail);
  EXPECT_EQ(plain->delay, std::chrono::seconds(0));
  EXPECT_EQ(plain->tags.at("name"), "a b");
  EXPECT_FALSE(parseThreshold("http.latency p95 < 5ms")->abort_on_fail);
  auto lone_delay = parseThreshold("http.latency p95 < 5ms delay=1s");
  ASSERT_FALSE(lone_delay.ok());
  EXPECT_NE(lone_delay.error().message.find("only applies together with abortOnFail"), std::string::npos);
  auto bad_delay = parseThreshold("http.latency p95 < 5ms abortOnFail delay=soon");
  ASSERT_FALSE(bad_delay.ok());
  EXPECT_NE(bad_delay.error().message.find("delay"), std::string::npos);
}

}  // namespace
}  // namespace herd::report
