#include "agent/output/console.h"

#include <fmt/format.h>

namespace herd::output {

namespace {

double percentOf(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// Reads that never throw: a summary from a cluster is input, not our own value.
const Json& field(const Json& obj, const char* key) {
  static const Json kEmpty = Json::object();
  return obj.is_object() && obj.contains(key) && obj[key].is_object() ? obj[key] : kEmpty;
}
const Json& items(const Json& obj, const char* key) {
  static const Json kEmpty = Json::array();
  return obj.is_object() && obj.contains(key) && obj[key].is_array() ? obj[key] : kEmpty;
}
double number(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number() ? obj[key].get<double>() : 0.0;
}
uint64_t count(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number_unsigned() ? obj[key].get<uint64_t>() : 0;
}
std::string text(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}

// One line of the table from a summary's endpoint or totals object.
std::string row(std::string_view name, std::string_view method, const Json& e) {
  const auto& latency = field(e, "latency");
  return fmt::format("{:<32} {:<6} {:>10} {:>8} {:>10.1f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f}\n",
                     name.size() > 32 ? std::string(name.substr(0, 29)) + "..." : std::string(name), method,
                     count(e, "requests"), count(e, "failures"), number(e, "rps"), number(latency, "p50"),
                     number(latency, "p95"), number(latency, "p99"), number(latency, "max"));
}

}  // namespace

std::string formatProgress(const report::SecondSample& s, int64_t target_users) {
  return fmt::format(
      "{:>5.0f}s  users {}/{}  rps {:.1f}  failures {} ({:.2f}%)  p50 {:.2f}ms  p95 {:.2f}ms  p99 {:.2f}ms{}",
      s.elapsed_seconds, s.users, target_users, static_cast<double>(s.requests), s.total_failures,
      percentOf(s.total_failures, s.total_requests), s.p50_ms, s.p95_ms, s.p99_ms,
      s.generator_busy_percent < 0 ? "" : fmt::format("  cpu {:.0f}%", s.generator_busy_percent));
}

std::string formatFinalTable(const scenario::Plan& plan, const report::RunAggregate& aggregate,
                             const report::RunInfo& info) {
  return formatSummaryTable(report::buildSummary(plan, aggregate, info));
}

std::string formatSummaryTable(const Json& summary) {
  const auto& totals = field(summary, "totals");
  std::string out = fmt::format("\n{:<32} {:<6} {:>10} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9}\n", "Name", "Method",
                                "Requests", "Fails", "RPS", "p50 ms", "p95 ms", "p99 ms", "max ms");
  out += std::string(110, '-') + "\n";
  for (const auto& e : items(summary, "endpoints")) out += row(text(e, "name"), text(e, "method"), e);
  out += std::string(110, '-') + "\n";
  out += row("Total", "", totals);

  if (!items(summary, "errors").empty()) {
    out += "\nErrors\n";
    for (const auto& e : items(summary, "errors")) {
      out += fmt::format("  {:>8}  {:<32} {:<9} {}\n", count(e, "count"), text(e, "endpoint"), text(e, "kind"),
                         text(e, "message"));
    }
  }
  if (!items(summary, "thresholds").empty()) {
    out += "\nThresholds\n";
    for (const auto& t : items(summary, "thresholds")) {
      const bool aborted = t.value("abortedRun", false);
      const auto verdict = t.value("skipped", false) ? "skip" : t.value("passed", false) ? "pass" : "FAIL";
      out += fmt::format("  {}  {}  ({}){}\n", verdict, text(t, "expression"), report::describeThreshold(t),
                         aborted ? fmt::format("  aborted the run at {:.0f}s", number(t, "abortedAtSeconds")) : "");
    }
  }
  const auto& generator = field(summary, "generator");
  const auto requests = count(totals, "requests"), failures = count(totals, "failures");
  out += fmt::format("\nduration {:.1f}s  users {}  requests {}  failures {} ({:.2f}%)  generator cpu peak {:.0f}%{}\n",
                     number(summary, "durationSeconds"), count(field(summary, "users"), "peak"), requests, failures,
                     percentOf(failures, requests), number(generator, "cpuPeakPercent"),
                     generator.value("saturated", false) ? " (SATURATED: results may understate the server)" : "");
  out += fmt::format("verdict: {}\n", text(summary, "verdict"));
  return out;
}

}  // namespace herd::output
