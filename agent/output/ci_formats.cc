#include "agent/output/ci_formats.h"

#include <fmt/format.h>

#include "common/report/summary.h"

namespace herd::output {

namespace {

using json = Json;

// Reads that never throw: a summary may come from a cluster.
const json& items(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  return obj.is_object() && obj.contains(key) && obj[key].is_array() ? obj[key] : kEmpty;
}
const json& field(const json& obj, const char* key) {
  static const json kEmpty = json::object();
  return obj.is_object() && obj.contains(key) && obj[key].is_object() ? obj[key] : kEmpty;
}
std::string text(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}
double number(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number() ? obj[key].get<double>() : 0.0;
}
uint64_t count(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number_unsigned() ? obj[key].get<uint64_t>() : 0;
}
bool passed(const json& threshold) { return threshold.is_object() && threshold.value("passed", false); }

// JUnit's timestamp is a date-time without a zone (the schema's pattern); ours are UTC.
std::string junitTimestamp(std::string rfc3339) {
  if (const auto dot = rfc3339.find('.'); dot != std::string::npos) rfc3339.erase(dot);
  if (!rfc3339.empty() && rfc3339.back() == 'Z') rfc3339.pop_back();
  return rfc3339.empty() ? "1970-01-01T00:00:00" : rfc3339;
}

std::string thresholdCase(const json& t) {
  const auto expression = xmlEscape(text(t, "expression"));
  std::string out = fmt::format("    <testcase classname=\"herd.thresholds\" name=\"{}\" time=\"0\"", expression);
  if (passed(t)) return out + "/>\n";
  const auto message = xmlEscape(fmt::format("{}, bound: {}", report::describeThreshold(t), text(t, "expression")));
  return out + fmt::format(
                   ">\n      <failure type=\"threshold\" message=\"{}\">{}{}</failure>\n    </testcase>\n", message,
                   message,
                   t.value("abortedRun", false)
                       ? xmlEscape(fmt::format("; abortOnFail ended the run at {:.0f}s", number(t, "abortedAtSeconds")))
                       : "");
}

std::string checkCase(const json& c) {
  const auto name = xmlEscape(text(c, "check"));
  std::string out = fmt::format("    <testcase classname=\"herd.checks\" name=\"{}\" time=\"0\"", name);
  const auto failures = count(c, "failures");
  if (failures == 0) return out + "/>\n";
  const auto message = xmlEscape(fmt::format("failed {} time(s), bound: no failure", failures));
  return out + fmt::format(">\n      <failure type=\"check\" message=\"{}\">{}</failure>\n    </testcase>\n", message,
                           message);
}

// Text in a markdown table cell or heading: pipes escaped, line breaks
// flattened, and what markdown would take for HTML written as entities.
std::string cell(std::string_view value) {
  std::string out;
  for (const char c : value) {
    switch (c) {
      case '|': out += "\\|"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\n':
      case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

std::string endpointRow(std::string_view name, std::string_view method, const json& e) {
  const auto& latency = field(e, "latency");
  return fmt::format("| {} | {} | {} | {} | {:.1f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n", cell(name), cell(method),
                     count(e, "requests"), count(e, "failures"), number(e, "rps"), number(latency, "p50"),
                     number(latency, "p95"), number(latency, "p99"), number(latency, "max"));
}

}  // namespace

std::string xmlEscape(std::string_view value) {
  std::string out;
  for (const char c : value) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab and line breaks.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += ' ';
        else out += c;
    }
  }
  return out;
}

std::string junitXml(const json& summary) {
  const auto& thresholds = items(summary, "thresholds");
  const auto& checks = items(summary, "checks");
  size_t failures = 0;
  std::string cases;
  for (const auto& t : thresholds) {
    failures += passed(t) ? 0 : 1;
    cases += thresholdCase(t);
  }
  for (const auto& c : checks) {
    failures += count(c, "failures") > 0 ? 1 : 0;
    cases += checkCase(c);
  }
  const auto tests = thresholds.size() + checks.size();
  const auto seconds = number(summary, "durationSeconds");
  const auto name = xmlEscape(text(summary, "scenario").empty() ? "herd" : text(summary, "scenario"));
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites>\n"
      "  <testsuite name=\"{}\" id=\"0\" package=\"herd\" hostname=\"herd\" tests=\"{}\" failures=\"{}\" "
      "errors=\"0\" time=\"{:.3f}\" timestamp=\"{}\">\n"
      "    <properties>\n"
      "      <property name=\"runId\" value=\"{}\"/>\n"
      "      <property name=\"verdict\" value=\"{}\"/>\n"
      "    </properties>\n"
      "{}"
      "    <system-out/>\n"
      "    <system-err/>\n"
      "  </testsuite>\n"
      "</testsuites>\n",
      name, tests, failures, seconds, junitTimestamp(text(summary, "startTime")), xmlEscape(text(summary, "runId")),
      xmlEscape(text(summary, "verdict")), cases);
}

std::string markdownSummary(const json& summary) {
  const auto& totals = field(summary, "totals");
  std::string out = fmt::format("### herd: {} — {}\n\n", cell(text(summary, "scenario")), text(summary, "verdict"));
  out += fmt::format("Run `{}`: {:.1f}s, {} users, {} agent(s), {} requests, {} failures.\n\n", text(summary, "runId"),
                     number(summary, "durationSeconds"), count(field(summary, "users"), "peak"),
                     count(summary, "agents"), count(totals, "requests"), count(totals, "failures"));
  out += "| Endpoint | Method | Requests | Fails | RPS | p50 ms | p95 ms | p99 ms | max ms |\n";
  out += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& e : items(summary, "endpoints")) out += endpointRow(text(e, "name"), text(e, "method"), e);
  out += endpointRow("**Total**", "", totals);
  if (!items(summary, "thresholds").empty()) {
    out += "\n| | Threshold | Measured |\n|---|---|---|\n";
    for (const auto& t : items(summary, "thresholds"))
      out += fmt::format("| {} | {} | {} |\n", passed(t) ? "pass" : "**FAIL**", cell(text(t, "expression")),
                         cell(text(t, "shown") + report::describeBound(t)));
  }
  if (!items(summary, "checks").empty()) {
    out += "\n| | Check | Failures |\n|---|---|---:|\n";
    for (const auto& c : items(summary, "checks"))
      out += fmt::format("| {} | {} | {} |\n", count(c, "failures") ? "**FAIL**" : "pass", cell(text(c, "check")),
                         count(c, "failures"));
  }
  if (!items(summary, "errors").empty()) {
    out += "\n| Errors | Endpoint | Kind | Message |\n|---:|---|---|---|\n";
    for (const auto& e : items(summary, "errors"))
      out += fmt::format("| {} | {} | {} | {} |\n", count(e, "count"), cell(text(e, "endpoint")), cell(text(e, "kind")),
                         cell(text(e, "message")));
  }
  return out;
}

}  // namespace herd::output
