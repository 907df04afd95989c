#include "agent/output/prometheus.h"

#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <set>
#include <sstream>

namespace herd::output {
namespace {

std::vector<std::string> samplesOf(const std::string& text, const std::string& metric) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(metric + "{") || line.starts_with(metric + " ")) out.push_back(line);
  }
  return out;
}

TEST(Prometheus, CountersHistogramAndGaugesFollowTheTextFormat) {
  scenario::Plan plan;
  plan.name = "shop";
  plan.load.users = 10;
  plan.endpoints = {{"login \"quoted\"\n", "POST"}, {"/home", "GET"}};
  report::RunAggregate aggregate(2);
  stats::Recorder second(2);
  second.recordRequest(0, 300'000, 10, 1, stats::ErrorKind::kNone);             // 0.3 ms
  second.recordRequest(1, 2'000'000, 10, 1, stats::ErrorKind::kNone);           // 2 ms
  second.recordRequest(1, 700'000'000, 10, 1, stats::ErrorKind::kStatus, 503);  // 700 ms
  aggregate.add(second);
  aggregate.closeSecond(1, 7, 0.25);
  std::vector<report::ThresholdResult> thresholds = {{"http.failures rate < 1%", false, 0.5, "50.00%"}};
  const auto text = prometheusText({plan, aggregate, thresholds, false});

  EXPECT_EQ(samplesOf(text, "herd_requests_total"),
            (std::vector<std::string>{R"(herd_requests_total{endpoint="login \"quoted\"\n",method="POST"} 1)",
                                      R"(herd_requests_total{endpoint="/home",method="GET"} 2)"}));
  EXPECT_EQ(samplesOf(text, "herd_request_failures_total")[1],
            R"(herd_request_failures_total{endpoint="/home",method="GET"} 1)");
  EXPECT_EQ(samplesOf(text, "herd_errors_total"),
            (std::vector<std::string>{R"(herd_errors_total{endpoint="/home",method="GET",kind="status"} 1)"}));
  const auto buckets = samplesOf(text, "herd_request_duration_seconds_bucket");
  ASSERT_EQ(buckets.size(), 2 * (kLatencyBucketsSeconds.size() + 1));
  EXPECT_EQ(buckets[0],
            R"(herd_request_duration_seconds_bucket{endpoint="login \"quoted\"\n",method="POST",le="0.0005"} 1)");
  const auto home = std::vector<std::string>(buckets.begin() + 15, buckets.end());
  EXPECT_EQ(home[0], R"(herd_request_duration_seconds_bucket{endpoint="/home",method="GET",le="0.0005"} 0)");
  EXPECT_EQ(home[2], R"(herd_request_duration_seconds_bucket{endpoint="/home",method="GET",le="0.0025"} 1)");
  EXPECT_EQ(home[8], R"(herd_request_duration_seconds_bucket{endpoint="/home",method="GET",le="0.25"} 1)");
  EXPECT_EQ(home[9], R"(herd_request_duration_seconds_bucket{endpoint="/home",method="GET",le="0.5"} 1)");
  EXPECT_EQ(home[10], R"(herd_request_duration_seconds_bucket{endpoint="/home",method="GET",le="1"} 2)");
  EXPECT_EQ(home[14], R"(herd_request_duration_seconds_bucket{endpoint="/home",method="GET",le="+Inf"} 2)");
  EXPECT_EQ(samplesOf(text, "herd_request_duration_seconds_sum")[1],
            R"(herd_request_duration_seconds_sum{endpoint="/home",method="GET"} 0.702)");
  EXPECT_EQ(samplesOf(text, "herd_users"), std::vector<std::string>{"herd_users 7"});
  EXPECT_EQ(samplesOf(text, "herd_users_target"), std::vector<std::string>{"herd_users_target 10"});
  EXPECT_EQ(samplesOf(text, "herd_run_finished"), std::vector<std::string>{"herd_run_finished 0"});
  EXPECT_EQ(samplesOf(text, "herd_threshold_passing"),
            std::vector<std::string>{R"(herd_threshold_passing{threshold="http.failures rate < 1%"} 0)"});
  EXPECT_EQ(samplesOf(text, "herd_threshold_value"),
            std::vector<std::string>{R"(herd_threshold_value{threshold="http.failures rate < 1%"} 0.5)"});

  // Every line is a comment or a sample in the text format, and every metric
  // has its TYPE before its samples.
  const std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eInfNa]+$)");
  std::istringstream in(text);
  std::set<std::string> typed;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# TYPE ")) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.starts_with("# HELP ")) continue;
    ASSERT_TRUE(std::regex_match(line, sample)) << line;
    auto name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) && typed.count(name.substr(0, name.size() - std::strlen(suffix)))) {
        name = name.substr(0, name.size() - std::strlen(suffix));
      }
    }
    EXPECT_TRUE(typed.count(name)) << "no TYPE before " << line;
  }
}

TEST(Prometheus, EndpointsPastTheCapShareOneSeries) {
  scenario::Plan plan;
  report::RunAggregate aggregate(kMaxEndpointSeries + 30);
  stats::Recorder second(kMaxEndpointSeries + 30);
  for (size_t i = 0; i < kMaxEndpointSeries + 30; ++i) {
    plan.endpoints.push_back({"/e" + std::to_string(i), "GET"});
    second.recordRequest(i, 1'000'000, 1, 1, stats::ErrorKind::kTimeout);
  }
  aggregate.add(second);
  aggregate.closeSecond(1, 1, 0.1);
  const std::vector<report::ThresholdResult> none;
  const auto text = prometheusText({plan, aggregate, none, true});
  const auto requests = samplesOf(text, "herd_requests_total");
  ASSERT_EQ(requests.size(), kMaxEndpointSeries + 1);
  EXPECT_EQ(requests.back(), R"x(herd_requests_total{endpoint="(other)",method=""} 30)x");
  EXPECT_EQ(samplesOf(text, "herd_errors_total").size(), kMaxEndpointSeries + 1);
  EXPECT_EQ(samplesOf(text, "herd_errors_total").back(),
            R"x(herd_errors_total{endpoint="(other)",method="",kind="timeout"} 30)x");
  EXPECT_EQ(samplesOf(text, "herd_run_finished"), std::vector<std::string>{"herd_run_finished 1"});
}

TEST(Prometheus, LabelValuesAreEscapedAndCut) {
  EXPECT_EQ(labelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  const auto cut = labelValue(std::string(200, 'x'));
  EXPECT_EQ(cut.size(), kMaxLabelBytes + 3);
  EXPECT_TRUE(cut.ends_with("..."));
  // Never cut inside a UTF-8 character.
  const auto accented = labelValue(std::string(kMaxLabelBytes - 1, 'x') + "\xC3\xA9" + "yyyy");
  EXPECT_EQ(accented, std::string(kMaxLabelBytes - 1, 'x') + "...");
}

}  // namespace
}  // namespace herd::output
