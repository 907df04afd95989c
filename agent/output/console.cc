#include "agent/output/console.h"

#include <fmt/format.h>

#include "common/stats/error_kind.h"

namespace herd::output {

namespace {

double percentOf(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

std::string row(std::string_view name, std::string_view method, const stats::EndpointStats& e, double seconds) {
  const auto& h = e.latency;
  return fmt::format("{:<32} {:<6} {:>10} {:>8} {:>10.1f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f}\n",
                     name.size() > 32 ? std::string(name.substr(0, 29)) + "..." : std::string(name), method, e.requests,
                     e.failures, seconds > 0 ? static_cast<double>(e.requests) / seconds : 0.0,
                     report::toMillis(h.valueAtPercentile(50)), report::toMillis(h.valueAtPercentile(95)),
                     report::toMillis(h.valueAtPercentile(99)), report::toMillis(h.max()));
}

}  // namespace

std::string formatProgress(const report::SecondSample& s, int64_t target_users) {
  return fmt::format(
      "{:>5.0f}s  users {}/{}  rps {:.1f}  failures {} ({:.2f}%)  p50 {:.2f}ms  p95 {:.2f}ms  p99 {:.2f}ms  cpu "
      "{:.0f}%",
      s.elapsed_seconds, s.users, target_users, static_cast<double>(s.requests), s.total_failures,
      percentOf(s.total_failures, s.total_requests), s.p50_ms, s.p95_ms, s.p99_ms, s.generator_busy_percent);
}

std::string formatFinalTable(const scenario::Plan& plan, const report::RunAggregate& aggregate,
                             const report::RunInfo& info) {
  const auto& total = aggregate.total();
  const double seconds = info.duration_seconds;
  std::string out = fmt::format("\n{:<32} {:<6} {:>10} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9}\n", "Name", "Method",
                                "Requests", "Fails", "RPS", "p50 ms", "p95 ms", "p99 ms", "max ms");
  out += std::string(110, '-') + "\n";
  const auto& endpoints = total.endpoints();
  for (size_t i = 0; i < plan.endpoints.size() && i < endpoints.size(); ++i) {
    out += row(plan.endpoints[i].name, plan.endpoints[i].method, endpoints[i], seconds);
  }
  out += std::string(110, '-') + "\n";
  const auto totals = total.totals();
  out += row("Total", "", totals, seconds);

  if (!total.errors().empty()) {
    out += "\nErrors\n";
    for (const auto& [key, count] : total.errors()) {
      const auto& name = key.endpoint < plan.endpoints.size() ? plan.endpoints[key.endpoint].name : std::string("?");
      out += fmt::format("  {:>8}  {:<32} {:<9} {}\n", count, name, stats::errorKindName(key.kind),
                         stats::errorMessage(key.kind, key.code));
    }
  }
  if (!info.thresholds.empty()) {
    out += "\nThresholds\n";
    for (const auto& t : info.thresholds) {
      out += fmt::format("  {}  {}  (measured {}){}\n", t.passed ? "pass" : "FAIL", t.expression, t.shown,
                         t.aborted_run ? fmt::format("  aborted the run at {:.0f}s", t.aborted_at_seconds) : "");
    }
  }
  out += fmt::format(
      "\nduration {:.1f}s  users {}  requests {}  failures {} ({:.2f}%)  generator cpu peak {:.0f}%{}\n", seconds,
      aggregate.peakUsers(), totals.requests, totals.failures, percentOf(totals.failures, totals.requests),
      aggregate.peakBusyPercent(),
      aggregate.peakBusyPercent() > info.saturation_percent ? " (SATURATED: results may understate the server)" : "");
  out += fmt::format("verdict: {}\n", report::verdictName(info.verdict));
  return out;
}

}  // namespace herd::output
