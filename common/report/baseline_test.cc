#include "common/report/baseline.h"

#include <gtest/gtest.h>

#include "common/report/summary.h"

namespace herd::report {
namespace {

using json = Json;

TEST(RelativeThreshold, ParsesTheFactorAfterTheBaseline) {
  auto t = parseThreshold("http.latency p95 < baseline * 1.10");
  ASSERT_TRUE(t.ok()) << t.error().describe();
  ASSERT_TRUE(t->relative());
  EXPECT_DOUBLE_EQ(*t->baseline_factor, 1.10);
  EXPECT_EQ(t->op, Threshold::Op::kLess);
  EXPECT_DOUBLE_EQ(t->percentile, 95);
  auto rps = parseThreshold("http.rps > baseline*0.95");  // short for http.requests rate
  ASSERT_TRUE(rps.ok()) << rps.error().describe();
  EXPECT_EQ(rps->metric, Threshold::Metric::kHttpRequests);
  EXPECT_EQ(rps->aggregation, Threshold::Aggregation::kRate);
  EXPECT_DOUBLE_EQ(*rps->baseline_factor, 0.95);
  auto rps_tagged = parseThreshold("http.rps{name:home} >= 20");
  ASSERT_TRUE(rps_tagged.ok()) << rps_tagged.error().describe();
  EXPECT_DOUBLE_EQ(rps_tagged->bound, 20);
  EXPECT_EQ(rps_tagged->tags.at("name"), "home");
  auto rate = parseThreshold("http.requests rate >= baseline*0.95");
  ASSERT_TRUE(rate.ok()) << rate.error().describe();
  EXPECT_DOUBLE_EQ(*rate->baseline_factor, 0.95);
  auto plain = parseThreshold("http.latency{name:login, method:POST} max <= baseline");
  ASSERT_TRUE(plain.ok()) << plain.error().describe();
  EXPECT_DOUBLE_EQ(*plain->baseline_factor, 1.0);
  EXPECT_EQ(plain->tags.at("name"), "login");
  // A tag value may be the word itself.
  auto tag = parseThreshold("http.latency{name: baseline} p95 < 5ms");
  ASSERT_TRUE(tag.ok()) << tag.error().describe();
  EXPECT_FALSE(tag->relative());
  EXPECT_EQ(tag->tags.at("name"), "baseline");
  EXPECT_FALSE(parseThreshold("http.latency p95 < 5ms")->relative());
}

TEST(RelativeThreshold, RejectsMalformedOnesWithAMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http.latency p95 < baseline * ", "unparsable factor \"\""},
      {"http.latency p95 < baseline * fast", "unparsable factor \"fast\""},
      {"http.latency p95 < baseline * 1.1ms", "unparsable factor \"1.1ms\""},
      {"http.latency p95 < baseline * 0", "unparsable factor \"0\""},
      {"http.latency p95 < baseline * -2", "unparsable factor \"-2\""},
      {"http.latency p95 < baseline + 5ms", "unexpected \"+ 5ms\" after baseline"},
      {"http.latency p95 < 1.1 * baseline", "the factor goes after the baseline"},
      {"http.latency p95 == baseline", "takes <, <=, > or >="},
      {"http.failures rate != baseline * 2", "takes <, <=, > or >="},
      {"p95 < baseline", "expected METRIC AGGREGATION OP VALUE"},
      {"http.latency rate < baseline", "http.latency and delivery.latency take"},
      {"http.rps rate > baseline", "expected http.rps OP VALUE"},
      {"http.rps", "expected http.rps OP VALUE"},
  };
  for (const auto& [text, expected] : cases) {
    auto t = parseThreshold(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.error().message.find(expected), std::string::npos) << text << ": " << t.error().message;
  }
}

// A baseline summary in summary.json's shape, as a run wrote it.
json baselineSummary() {
  return json::parse(R"({
    "runId": "shop-base",
    "totals": {"requests": 1000, "failures": 10, "rps": 100.0,
               "latency": {"mean": 4.0, "p50": 3.0, "p90": 6.0, "p95": 8.0, "p99": 12.0, "max": 30.0}},
    "endpoints": [
      {"name": "login", "method": "POST", "requests": 200, "failures": 0, "rps": 20.0,
       "latency": {"mean": 9.0, "p50": 8.0, "p90": 15.0, "p95": 20.0, "p99": 25.0, "max": 40.0}},
      {"name": "home", "method": "GET", "requests": 800, "failures": 10, "rps": 80.0,
       "latency": {"mean": 3.0, "p50": 2.0, "p90": 4.0, "p95": 5.0, "p99": 7.0, "max": 30.0}},
      {"name": "home", "method": "HEAD", "requests": 0, "failures": 0, "rps": 0,
       "latency": {"mean": 0, "p50": 0, "p90": 0, "p95": 0, "p99": 0, "max": 0}}],
    "thresholds": [
      {"expression": "http.latency p99.9 < 1s", "passed": true, "value": 28.5},
      {"expression": "http.latency{name:home, method:GET} min < 1s", "passed": true, "value": 0.7},
      {"expression": "http.latency p95 < 2ms", "passed": false, "value": 99.0, "abortedRun": true}]
  })");
}

TEST(RelativeThreshold, FindsTheBaselinesValueOfTheSameMeasure) {
  const auto base = baselineSummary();
  auto value = [&](const char* expression) { return baselineValue(*parseThreshold(expression), base); };
  EXPECT_EQ(value("http.latency p95 < baseline * 1.1"), 8.0);  // totals, not the aborted threshold's 99
  EXPECT_EQ(value("http.latency p50 < 1s"), 3.0);
  EXPECT_EQ(value("http.latency mean < baseline"), 4.0);
  EXPECT_EQ(value("http.latency p99.9 < baseline"), 28.5);  // from the baseline's own threshold
  EXPECT_EQ(value("http.requests rate > baseline * 0.95"), 100.0);
  EXPECT_EQ(value("http.rps > baseline * 0.95"), 100.0);
  EXPECT_EQ(value("http.requests count > baseline"), 1000.0);
  EXPECT_EQ(value("http.failures rate < baseline * 2"), 0.01);
  EXPECT_EQ(value("http.failures count < baseline"), 10.0);
  EXPECT_EQ(value("http.latency{name:login} p95 < baseline"), 20.0);
  EXPECT_EQ(value("http.latency{name:home,method:GET} p99 < baseline"), 7.0);
  EXPECT_EQ(value("http.latency{method:GET, name:home} min < baseline"), 0.7);  // tag order does not matter
  EXPECT_EQ(value("http.latency{name:home} p95 < baseline"), std::nullopt);     // two endpoints: not mergeable
  EXPECT_EQ(value("http.latency{name:nope} p95 < baseline"), std::nullopt);
  EXPECT_EQ(value("http.latency min < baseline"), std::nullopt);  // the summary keeps no minimum
  EXPECT_EQ(value("http.latency p75 < baseline"), std::nullopt);
  EXPECT_EQ(value("delivery.latency p95 < baseline"), std::nullopt);
  EXPECT_EQ(baselineValue(*parseThreshold("http.latency p95 < baseline"), json::array()), std::nullopt);
}

TEST(RelativeThreshold, JudgesAgainstTheBaselineTimesTheFactor) {
  scenario::Plan plan;
  plan.endpoints = {{"home", "GET"}};
  stats::Recorder stats(1);
  for (int i = 0; i < 100; ++i) stats.recordRequest(0, 10'000'000, 10, 10, stats::ErrorKind::kNone);  // 10 ms

  std::vector<Threshold> thresholds = {
      *parseThreshold("http.latency p95 < baseline * 1.10"), *parseThreshold("http.latency p95 < baseline * 1.50"),
      *parseThreshold("http.requests rate > baseline * 0.95"), *parseThreshold("http.latency p95 < 50ms")};
  applyBaseline(thresholds, Baseline{"shop-base", "test", baselineSummary()}, "");
  const auto results = evaluateAll(thresholds, plan, stats, 10);  // 10 requests/s
  ASSERT_EQ(results.size(), 4u);

  EXPECT_FALSE(results[0].passed);  // 10 ms against 8 ms * 1.10
  EXPECT_NEAR(results[0].value, 10.0, 0.05);
  EXPECT_EQ(results[0].baseline, 8.0);
  EXPECT_NEAR(results[0].bound, 8.8, 1e-9);
  EXPECT_EQ(results[0].baseline_run, "shop-base");
  EXPECT_TRUE(results[1].passed);  // 10 ms against 12 ms
  EXPECT_NEAR(results[1].bound, 12.0, 1e-9);
  EXPECT_FALSE(results[2].passed);  // 10/s against 95/s
  EXPECT_NEAR(results[2].bound, 95.0, 1e-9);
  EXPECT_TRUE(results[3].passed);
  EXPECT_EQ(results[3].baseline, std::nullopt);
  EXPECT_DOUBLE_EQ(results[3].bound, 50);
  EXPECT_EQ(verdictOf(results), Verdict::kFailed);

  const auto shown = thresholdsJson(results);
  EXPECT_EQ(shown[0]["baseline"], 8.0);
  EXPECT_EQ(shown[0]["baselineRunId"], "shop-base");
  EXPECT_NEAR(shown[0]["bound"].get<double>(), 8.8, 1e-9);
  EXPECT_FALSE(shown[3].contains("baseline"));
}

TEST(RelativeThreshold, WithoutABaselineIsSkippedAndPasses) {
  scenario::Plan plan;
  plan.endpoints = {{"home", "GET"}};
  stats::Recorder stats(1);
  for (int i = 0; i < 10; ++i) stats.recordRequest(0, 10'000'000, 10, 10, stats::ErrorKind::kNone);
  std::vector<Threshold> thresholds = {*parseThreshold("http.latency p95 < baseline * 1.10"),
                                       *parseThreshold("http.latency min < baseline")};
  EXPECT_TRUE(needsBaseline(thresholds));
  applyBaseline(thresholds, std::nullopt, "no passing run of default/shop yet");
  auto results = evaluateAll(thresholds, plan, stats, 1);
  EXPECT_TRUE(results[0].skipped);
  EXPECT_TRUE(results[0].passed);
  EXPECT_EQ(results[0].skipped_why, "no passing run of default/shop yet");
  EXPECT_NEAR(results[0].value, 10.0, 0.05);  // still measured: a later run can use it as its baseline
  EXPECT_EQ(verdictOf(results), Verdict::kPassed);
  const auto shown = thresholdsJson(results);
  EXPECT_EQ(shown[0]["skipped"], true);
  EXPECT_EQ(shown[0]["reason"], "NoBaseline");
  EXPECT_FALSE(shown[0].contains("bound"));

  // A baseline without the measure skips that threshold and says which run it was.
  applyBaseline(thresholds, Baseline{"shop-base", "test", baselineSummary()}, "");
  results = evaluateAll(thresholds, plan, stats, 1);
  EXPECT_FALSE(results[0].skipped);
  EXPECT_TRUE(results[1].skipped);
  EXPECT_EQ(results[1].skipped_why, "baseline run shop-base has no value for this measure");
  EXPECT_FALSE(needsBaseline({*parseThreshold("http.latency p95 < 5ms")}));
}

TEST(RelativeThreshold, ABaselinesOwnRelativeThresholdGivesItsMeasuredValue) {
  // The first run of a series was skipped (no baseline) but measured: the second
  // compares with that value.
  json first = json::object();
  first["thresholds"] = json::array(
      {{{"expression", "http.latency{name:a} p90 < baseline * 1.2"}, {"value", 7.5}, {"skipped", true}}});
  auto t = *parseThreshold("http.latency{name:a} p90 < baseline * 1.2");
  EXPECT_EQ(baselineValue(t, first), 7.5);
}

}  // namespace
}  // namespace herd::report
