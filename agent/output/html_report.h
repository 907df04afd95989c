#pragma once
// report.html: one self-contained page (inline CSS, JS and data; it fetches
// nothing) with charts over time, the endpoint table, thresholds, delivery,
// generator health and the run's parameters. The page itself is
// report_page.html, compiled in; the run's data goes in as JSON.
#include <string>
#include <string_view>

#include "common/core/json.h"

#include "common/report/aggregate.h"
#include "common/report/summary.h"
#include "common/scenario/plan.h"

namespace herd::output {

// What the page shows: {"summary": <summary.json>, "series": {t, users, rps,
// failures, p50, p95, p99, cpu: one value per second}, "run": {parameters}}.
Json reportData(const scenario::Plan& plan, const report::RunAggregate& aggregate, const report::RunInfo& info,
                std::string_view note);

std::string buildHtmlReport(const scenario::Plan& plan, const report::RunAggregate& aggregate,
                            const report::RunInfo& info, std::string_view note = {});

// JSON text that is safe inside an HTML <script> element: '<', '>' and '&' are
// written as \u escapes (they only occur inside strings), invalid UTF-8 replaced.
std::string scriptSafeJson(const Json& value);

}  // namespace herd::output
