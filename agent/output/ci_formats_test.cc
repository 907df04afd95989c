#include "agent/output/ci_formats.h"

#include <gtest/gtest.h>

#include "agent/output/console.h"

namespace herd::output {
namespace {

using json = Json;

json summary() {
  return json::parse(R"({
    "version": 1, "runId": "r1", "scenario": "shop & <co>", "verdict": "failed",
    "startTime": "2026-12-02T08:00:01.250Z", "durationSeconds": 10.0, "agents": 2, "users": {"peak": 20},
    "totals": {"requests": 1000, "failures": 5, "rps": 100.0, "latency": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 9.0}},
    "endpoints": [{"name": "/a|b", "method": "GET", "requests": 1000, "failures": 5, "rps": 100.0,
                   "latency": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 9.0}}],
    "errors": [{"endpoint": "/a|b", "kind": "check", "message": "check failed: status 200", "count": 5}],
    "checks": [{"check": "status 200", "failures": 5}, {"check": "body has \"ok\"", "failures": 0}],
    "thresholds": [{"expression": "http.latency p95 < 500ms", "passed": true, "value": 2.0, "shown": "2.00ms"},
                   {"expression": "http.failures rate < 0.1%", "passed": false, "value": 0.5, "shown": "0.50%",
                    "abortedRun": true, "abortedAtSeconds": 4.0}],
    "generator": {"cpuPeakPercent": 12.0, "saturated": false}
  })");
}

TEST(JunitXml, OneCasePerThresholdAndCheckAndOneFailureEachFailingOne) {
  const auto xml = junitXml(summary());
  EXPECT_NE(xml.find("<testsuite name=\"shop &amp; &lt;co&gt;\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("tests=\"4\" failures=\"2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("timestamp=\"2026-12-02T08:00:01\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testcase classname=\"herd.thresholds\" name=\"http.latency p95 &lt; 500ms\" time=\"0\"/>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<failure type=\"threshold\" message=\"measured 0.50%, bound: http.failures rate &lt; 0.1%\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("abortOnFail ended the run at 4s"), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"body has &quot;ok&quot;\" time=\"0\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure type=\"check\" message=\"failed 5 time(s), bound: no failure\">"), std::string::npos);
  size_t failures = 0;
  for (auto at = xml.find("<failure "); at != std::string::npos; at = xml.find("<failure ", at + 1)) ++failures;
  EXPECT_EQ(failures, 2u);
}

TEST(JunitXml, ASummaryWithoutThresholdsOrChecksIsAnEmptySuite) {
  const auto xml = junitXml(json::object());
  EXPECT_NE(xml.find("<testsuite name=\"herd\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("tests=\"0\" failures=\"0\""), std::string::npos) << xml;
  EXPECT_EQ(xmlEscape("a\x01<b>"), "a &lt;b&gt;");
}

TEST(MarkdownSummary, TablesWithCellsEscaped) {
  const auto md = markdownSummary(summary());
  EXPECT_NE(md.find("### herd: shop &amp; &lt;co&gt; — failed"), std::string::npos) << md;
  EXPECT_NE(md.find("| /a\\|b | GET | 1000 | 5 | 100.0 | 1.00 | 2.00 | 3.00 | 9.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **FAIL** | http.failures rate &lt; 0.1% | 0.50% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **FAIL** | status 200 | 5 |"), std::string::npos) << md;
}

TEST(SummaryTable, TheConsoleTableFromASummary) {
  const auto table = formatSummaryTable(summary());
  EXPECT_NE(table.find("/a|b"), std::string::npos) << table;
  EXPECT_NE(table.find("FAIL  http.failures rate < 0.1%  (measured 0.50%)  aborted the run at 4s"), std::string::npos)
      << table;
  EXPECT_NE(table.find("duration 10.0s  users 20  requests 1000  failures 5 (0.50%)"), std::string::npos) << table;
  EXPECT_NE(table.find("verdict: failed"), std::string::npos) << table;
  // Whatever a cluster hands over, no throw.
  EXPECT_NE(formatSummaryTable(json::array()).find("verdict: "), std::string::npos);
}

}  // namespace
}  // namespace herd::output
