#pragma once
// report.html: one self-contained page (inline CSS, JS and data; it fetches
// nothing) with charts over time, the endpoint table, thresholds, delivery,
// generator health and the run's parameters. The page itself is
// report_page.html, compiled in; the run's data goes in as JSON.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/report/aggregate.h"
#include "common/report/summary.h"
#include "common/scenario/plan.h"

namespace herd::report {

// What the page shows: {"summary": <summary.json>, "series": {t, users, rps,
// failures, p50, p95, p99, cpu: one value per second}, "run": {parameters}}.
nlohmann::json reportData(const scenario::Plan& plan, const RunAggregate& aggregate, const RunInfo& info,
                          std::string_view note);

std::string buildHtmlReport(const scenario::Plan& plan, const RunAggregate& aggregate, const RunInfo& info,
                            std::string_view note = {});
// The page around data shaped as reportData() returns it.
std::string buildHtmlReport(const nlohmann::json& data);
// Report data from a summary.json alone (a run on Kubernetes): no per-second
// series, so the charts are empty; `run` holds the parameters the page lists.
nlohmann::json summaryReportData(const nlohmann::json& summary, nlohmann::json run);

// JSON text that is safe inside an HTML <script> element: '<', '>' and '&' are
// written as \u escapes (they only occur inside strings), invalid UTF-8 replaced.
std::string scriptSafeJson(const nlohmann::json& value);

}  // namespace herd::report
