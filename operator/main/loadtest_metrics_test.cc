#include "operator/main/loadtest_metrics.h"

#include <gtest/gtest.h>

#include <sstream>

namespace herd::operator_main {
namespace {

using json = Json;

bool hasLine(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

int countPrefix(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  int n = 0;
  for (std::string l; std::getline(in, l);) n += l.rfind(prefix, 0) == 0;
  return n;
}

json loadTest(const std::string& ns, const std::string& name, json status) {
  json lt = {{"metadata", {{"namespace", ns}, {"name", name}}}};
  if (!status.is_null()) lt["status"] = std::move(status);
  return lt;
}

const json kRunning = {
    {"phase", "Running"},
    {"runId", "shop-1a2b3c"},
    {"users", 2000},
    {"agents", {{"connected", 4}}},
    {"totals", {{"requests", 1234567}, {"failures", 12}, {"rps", 812.5}, {"latency", {{"p95", 245.0}}}}}};

TEST(LoadTestMetrics, ApiserverRequestsByVerb) {
  k8s::RequestCounts counts;
  counts.by_verb = {120, 3, 40, 7, 2, 9};
  const auto text = renderApiserverRequests(counts);
  EXPECT_TRUE(hasLine(text, "# TYPE herd_operator_apiserver_requests_total counter")) << text;
  EXPECT_TRUE(hasLine(text, R"(herd_operator_apiserver_requests_total{verb="GET"} 120)")) << text;
  EXPECT_TRUE(hasLine(text, R"(herd_operator_apiserver_requests_total{verb="WATCH"} 9)")) << text;
  EXPECT_EQ(countPrefix(text, "herd_operator_apiserver_requests_total{"), 6);
}

TEST(LoadTestMetrics, ValuesComeFromTheStatus) {
  auto text = renderLoadTestMetrics({loadTest("perf", "shop", kRunning)});
  const std::string l = "{namespace=\"perf\",loadtest=\"shop\"} ";
  EXPECT_TRUE(hasLine(text, "herd_loadtest_users" + l + "2000")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_rps" + l + "812.5")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_requests" + l + "1234567")) << text;  // not 1.23457e+06
  EXPECT_TRUE(hasLine(text, "herd_loadtest_failures" + l + "12")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_latency_p95_seconds" + l + "0.245")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_agents_connected" + l + "4")) << text;
  EXPECT_TRUE(hasLine(text, "# TYPE herd_loadtest_rps gauge")) << text;
}

TEST(LoadTestMetrics, PhaseIsOneHotOverTheEnumAndNoVerdictBeforeTheEnd) {
  auto text = renderLoadTestMetrics({loadTest("perf", "shop", kRunning)});
  EXPECT_EQ(countPrefix(text, "herd_loadtest_phase{"), 6);
  EXPECT_TRUE(hasLine(text, "herd_loadtest_phase{namespace=\"perf\",loadtest=\"shop\",phase=\"Running\"} 1"));
  EXPECT_TRUE(hasLine(text, "herd_loadtest_phase{namespace=\"perf\",loadtest=\"shop\",phase=\"Pending\"} 0"));
  EXPECT_EQ(countPrefix(text, "herd_loadtest_verdict{"), 0);
}

TEST(LoadTestMetrics, VerdictIsOneHotOnceSet) {
  json status = kRunning;
  status["phase"] = "Failed";
  status["verdict"] = "Failed";
  auto text = renderLoadTestMetrics({loadTest("perf", "shop", status)});
  EXPECT_EQ(countPrefix(text, "herd_loadtest_verdict{"), 3);
  EXPECT_TRUE(hasLine(text, "herd_loadtest_verdict{namespace=\"perf\",loadtest=\"shop\",verdict=\"Failed\"} 1"));
  EXPECT_TRUE(hasLine(text, "herd_loadtest_verdict{namespace=\"perf\",loadtest=\"shop\",verdict=\"Passed\"} 0"));
}

TEST(LoadTestMetrics, SeriesPerLoadTestNotPerRun) {
  json other = kRunning;
  other["runId"] = "shop-ffffff";
  auto text = renderLoadTestMetrics(
      {loadTest("perf", "shop", kRunning), loadTest("qa", "shop", other), loadTest("qa", "fresh", nullptr)});
  EXPECT_EQ(countPrefix(text, "herd_loadtest_users{"), 3);
  EXPECT_EQ(text.find("shop-1a2b3c"), std::string::npos);  // run ids never become labels
  EXPECT_TRUE(hasLine(text, "herd_loadtest_users{namespace=\"qa\",loadtest=\"fresh\"} 0"));
}

TEST(LoadTestMetrics, NoLoadTestsStillDeclaresTheFamilies) {
  auto text = renderLoadTestMetrics({});
  EXPECT_EQ(countPrefix(text, "# TYPE herd_loadtest_"), 9);
  EXPECT_EQ(countPrefix(text, "herd_loadtest_"), 0);
}

TEST(LoadTestMetrics, WrongTypesInTheStatusReadAsZero) {
  auto text = renderLoadTestMetrics({loadTest("perf", "odd", {{"users", "many"}, {"totals", 3}, {"phase", 7}})});
  EXPECT_TRUE(hasLine(text, "herd_loadtest_users{namespace=\"perf\",loadtest=\"odd\"} 0")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_rps{namespace=\"perf\",loadtest=\"odd\"} 0")) << text;
  EXPECT_EQ(countPrefix(text, "herd_loadtest_phase{namespace=\"perf\",loadtest=\"odd\",phase=\"Running\"} 0"), 1);
}

TEST(LoadTestMetrics, LatencyHistogramComesFromTheStatusAsCumulativeBuckets) {
  json status = kRunning;
  status["latencyHistogram"] = {
      {"boundsSeconds", {0.001, 0.0015, 0.002}}, {"cumulative", {3, 7, 9}}, {"count", 10}, {"sumSeconds", 0.0142}};
  auto text = renderLoadTestMetrics({loadTest("perf", "shop", status), loadTest("qa", "fresh", nullptr)});
  EXPECT_TRUE(hasLine(text, "# TYPE herd_loadtest_latency_seconds histogram")) << text;
  const std::string l = "namespace=\"perf\",loadtest=\"shop\"";
  EXPECT_TRUE(hasLine(text, "herd_loadtest_latency_seconds_bucket{" + l + ",le=\"0.001\"} 3")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_latency_seconds_bucket{" + l + ",le=\"0.0015\"} 7")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_latency_seconds_bucket{" + l + ",le=\"0.002\"} 9")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_latency_seconds_bucket{" + l + ",le=\"+Inf\"} 10")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_latency_seconds_sum{" + l + "} 0.0142")) << text;
  EXPECT_TRUE(hasLine(text, "herd_loadtest_latency_seconds_count{" + l + "} 10")) << text;
  // A LoadTest without a run has no histogram series (not zeros that would read as a run).
  EXPECT_EQ(countPrefix(text, "herd_loadtest_latency_seconds_bucket{namespace=\"qa\""), 0);
  // Bounds and counts of unequal length: no series rather than a wrong one.
  status["latencyHistogram"]["cumulative"] = {3, 7};
  text = renderLoadTestMetrics({loadTest("perf", "shop", status)});
  EXPECT_EQ(countPrefix(text, "herd_loadtest_latency_seconds_bucket{"), 0);
}

}  // namespace
}  // namespace herd::operator_main
