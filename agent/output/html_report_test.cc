#include "agent/output/html_report.h"

#include <gtest/gtest.h>

#include <regex>

namespace herd::output {
namespace {

struct ThreeSeconds {
  scenario::Plan plan;
  report::RunAggregate aggregate{1};
  report::RunInfo info;
  ThreeSeconds() {
    plan.name = "shop";
    plan.endpoints = {{"</script><script>alert(1)</script>", "GET"}};
    plan.params = {{"pageSize", "50"}};
    plan.load.users = 10;
    plan.load.spawn_rate = 2.5;
    plan.load.duration = std::chrono::seconds(3);
    for (int second = 1; second <= 3; ++second) {
      stats::Recorder interval(1);
      for (int i = 0; i < second * 10; ++i) interval.recordRequest(0, 1'000'000, 1, 1, stats::ErrorKind::kNone);
      aggregate.add(interval);
      aggregate.closeSecond(second, second * 3, 0.2);
    }
    info.duration_seconds = 3;
  }
};

TEST(HtmlReport, DataHasOneValuePerSecondAndTheRunsParameters) {
  ThreeSeconds run;
  const auto data = reportData(run.plan, run.aggregate, run.info, "baseline");
  for (const auto* key : {"t", "users", "rps", "failures", "p50", "p95", "p99", "cpu"}) {
    EXPECT_EQ(data["series"][key].size(), 3u) << key;
  }
  EXPECT_EQ(data["series"]["rps"], Json({10, 20, 30}));
  EXPECT_EQ(data["series"]["users"], Json({3, 6, 9}));
  EXPECT_EQ(data["run"]["params"]["pageSize"], "50");
  EXPECT_EQ(data["run"]["spawnRate"], 2.5);
  EXPECT_EQ(data["run"]["note"], "baseline");
  EXPECT_EQ(data["summary"]["totals"]["requests"], 60);
}

TEST(HtmlReport, PageEmbedsTheDataSafelyAndLoadsNothing) {
  ThreeSeconds run;
  const auto page = buildHtmlReport(run.plan, run.aggregate, run.info);
  EXPECT_EQ(page.find("/*HERD_DATA*/"), std::string::npos);
  EXPECT_NE(page.find("\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"), std::string::npos);
  EXPECT_EQ(page.find("<script>alert(1)"), std::string::npos);
  // Exactly the two script elements of the page: the data and the renderer.
  const std::regex script_open("<script[ >]");
  EXPECT_EQ(std::distance(std::sregex_iterator(page.begin(), page.end(), script_open), std::sregex_iterator()), 2);
  // Nothing refers to another resource, other than data: URLs.
  const std::regex reference(R"((src|href)\s*=\s*"(?!data:)[^"]*")");
  EXPECT_FALSE(std::regex_search(page, reference));
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
}

TEST(HtmlReport, ScriptSafeJsonEscapesMarkupAndBadUtf8) {
  EXPECT_EQ(scriptSafeJson(Json("a<b>&c")), "\"a\\u003cb\\u003e\\u0026c\"");
  EXPECT_EQ(scriptSafeJson(Json(std::string("ok\xff"))), "\"ok\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace herd::output
