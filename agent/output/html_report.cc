#include "agent/output/html_report.h"

#include <chrono>

namespace herd::output {

// report_page.html, embedded by CMake (report_page.cc.in).
extern const char kReportPage[];

namespace {

using json = Json;

constexpr std::string_view kDataMarker = "/*HERD_DATA*/";

json seriesJson(const report::RunAggregate& aggregate) {
  json t = json::array(), users = json::array(), rps = json::array(), failures = json::array();
  json p50 = json::array(), p95 = json::array(), p99 = json::array(), cpu = json::array();
  for (const auto& s : aggregate.series()) {
    t.push_back(s.elapsed_seconds);
    users.push_back(s.users);
    rps.push_back(s.requests);  // each sample covers one second
    failures.push_back(s.failures);
    p50.push_back(s.p50_ms);
    p95.push_back(s.p95_ms);
    p99.push_back(s.p99_ms);
    cpu.push_back(s.generator_busy_percent);
  }
  return json{{"t", t},     {"users", users}, {"rps", rps}, {"failures", failures},
              {"p50", p50}, {"p95", p95},     {"p99", p99}, {"cpu", cpu}};
}

}  // namespace

json reportData(const scenario::Plan& plan, const report::RunAggregate& aggregate, const report::RunInfo& info,
                std::string_view note) {
  json params = json::object();
  for (const auto& [key, value] : plan.params) params[key] = value;
  json run{{"scenarioFile", plan.source_file},
           {"target", plan.origins.empty() ? std::string() : plan.origins[0].toString()},
           {"users", plan.load.users},
           {"spawnRate", plan.load.spawn_rate},
           {"durationSeconds", std::chrono::duration<double>(plan.load.duration).count()},
           {"params", params},
           {"note", std::string(note)}};
  return json{
      {"summary", report::buildSummary(plan, aggregate, info)}, {"series", seriesJson(aggregate)}, {"run", run}};
}

std::string scriptSafeJson(const json& value) {
  const auto text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += c;
    }
  }
  return out;
}

std::string buildHtmlReport(const scenario::Plan& plan, const report::RunAggregate& aggregate,
                            const report::RunInfo& info, std::string_view note) {
  std::string page(kReportPage);
  const auto at = page.find(kDataMarker);
  if (at != std::string::npos)
    page.replace(at, kDataMarker.size(), scriptSafeJson(reportData(plan, aggregate, info, note)));
  return page;
}

}  // namespace herd::output
