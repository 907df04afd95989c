#include "agent/output/csv.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "common/stats/error_kind.h"

namespace herd::output {

namespace {

// Python's csv.writer ends rows with \r\n; Locust's files do too.
constexpr std::string_view kRowEnd = "\r\n";

// A float as Python's str() writes it: the shortest text that reads back the same,
// always with a decimal point ("2.0", not "2").
std::string pyFloat(double value) {
  if (!std::isfinite(value)) return "0.0";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

// Locust keeps response times with two significant digits (147 -> 150,
// 3432 -> 3400) and reports medians and percentiles from those, as integers of ms.
int64_t locustRounded(double ms) {
  double scale = 1;
  if (ms >= 10000) scale = 1000;
  else if (ms >= 1000) scale = 100;
  else if (ms >= 100) scale = 10;
  return static_cast<int64_t>(std::nearbyint(ms / scale) * scale);
}

// Locust's median: the rounded value, but never outside the exact [min, max]
// (so a run of sub-millisecond requests does not report a median of 0).
std::string median(double p50_ms, double min_ms, double max_ms, uint64_t count) {
  if (count == 0) return "0";
  const auto rounded = static_cast<double>(locustRounded(p50_ms));
  if (rounded > max_ms) return pyFloat(max_ms);
  if (rounded < min_ms) return pyFloat(min_ms);
  return std::to_string(static_cast<int64_t>(rounded));
}

std::string row(std::initializer_list<std::string> fields) {
  std::string out;
  bool first = true;
  for (const auto& field : fields) {
    if (!first) out += ',';
    first = false;
    out += field;
  }
  return out;
}

std::string percentileHeader() {
  std::string out;
  for (const double p : report::kReportedPercentiles) out += fmt::format(",{}%", p);
  return out;
}

double perSecond(uint64_t count, double seconds) { return seconds > 0 ? static_cast<double>(count) / seconds : 0.0; }

double average(uint64_t sum, uint64_t count) {
  return count ? static_cast<double>(sum) / static_cast<double>(count) : 0.0;
}

// One row of PREFIX_stats.csv, whichever results it comes from; a value the
// results do not keep is nullopt and written N/A.
struct StatsLine {
  std::string_view method, name;
  uint64_t requests = 0, failures = 0;
  uint64_t timed = 0;  // latencies recorded
  double p50_ms = 0, mean_ms = 0;
  std::optional<double> min_ms;
  double max_ms = 0, average_bytes = 0, rps = 0, failures_per_second = 0;
  std::vector<std::optional<double>> percentiles_ms;  // by kReportedPercentiles
  bool protocol_column = false;                       // the run spoke HTTP/2 somewhere (see below)
  std::string_view protocol;
};

std::string statsRow(const StatsLine& l) {
  std::string percentiles;
  for (const auto& p : l.percentiles_ms)
    percentiles += l.timed == 0 || !p ? std::string(",N/A") : fmt::format(",{}", locustRounded(*p));
  return row({csvField(l.method), csvField(l.name), std::to_string(l.requests), std::to_string(l.failures),
              median(l.p50_ms, l.min_ms.value_or(0), l.max_ms, l.timed), pyFloat(l.mean_ms),
              l.min_ms ? pyFloat(*l.min_ms) : std::string("N/A"), pyFloat(l.max_ms), pyFloat(l.average_bytes),
              pyFloat(l.rps), pyFloat(l.failures_per_second)}) +
         percentiles + (l.protocol_column ? "," + std::string(l.protocol) : std::string()) + std::string(kRowEnd);
}

// `protocol`: the run spoke HTTP/2 somewhere, and the rows end with a Protocol
// column (Locust has none: HTTP/1.1-only runs keep its exact columns).
std::string statsRow(std::string_view method, std::string_view name, const stats::EndpointStats& e, double seconds,
                     bool protocol) {
  const auto& h = e.latency;
  StatsLine line{method,
                 name,
                 e.requests,
                 e.failures,
                 h.count(),
                 report::toMillis(h.valueAtPercentile(50)),
                 h.mean() / 1e6,
                 report::toMillis(h.min()),
                 report::toMillis(h.max()),
                 average(e.bytes_received, e.requests),
                 perSecond(e.requests, seconds),
                 perSecond(e.failures, seconds),
                 {},
                 protocol,
                 stats::protocolName(e.protocols)};
  for (const double p : report::kReportedPercentiles)
    line.percentiles_ms.push_back(report::toMillis(h.valueAtPercentile(p)));
  return statsRow(line);
}

// Locust orders rows by (name, method).
std::vector<size_t> endpointOrder(const scenario::Plan& plan) {
  std::vector<size_t> order(plan.endpoints.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = plan.endpoints[a];
    const auto& y = plan.endpoints[b];
    return std::tie(x.name, x.method) < std::tie(y.name, y.method);
  });
  return order;
}

}  // namespace

std::string csvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string statsCsv(const scenario::Plan& plan, const report::RunAggregate& aggregate, const report::RunInfo& info) {
  const auto& endpoints = aggregate.total().endpoints();
  const bool protocol = (aggregate.total().totals().protocols & stats::kProtocolHttp2) != 0;
  std::string out =
      "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
      "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s" +
      percentileHeader() + (protocol ? ",Protocol" : "") + std::string(kRowEnd);
  const stats::EndpointStats empty;
  for (const size_t i : endpointOrder(plan)) {
    out += statsRow(plan.endpoints[i].method, plan.endpoints[i].name, i < endpoints.size() ? endpoints[i] : empty,
                    info.duration_seconds, protocol);
  }
  out += statsRow("", "Aggregated", aggregate.total().totals(), info.duration_seconds, protocol);
  return out;
}

std::string statsHistoryCsv(const report::RunAggregate& aggregate, const report::RunInfo& info) {
  std::string out = "Timestamp,User Count,Type,Name,Requests/s,Failures/s" + percentileHeader() +
                    ",Total Request Count,Total Failure Count,Total Median Response Time,"
                    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
                    "Total Average Content Size" +
                    std::string(kRowEnd);
  const double start = std::chrono::duration<double>(info.start.time_since_epoch()).count();
  for (const auto& s : aggregate.series()) {
    std::string percentiles;
    for (const double p : s.total_percentiles_ms) {
      percentiles += s.total_requests ? fmt::format(",{}", locustRounded(p)) : std::string(",N/A");
    }
    out += row({std::to_string(static_cast<int64_t>(start + s.elapsed_seconds)), std::to_string(s.users), "",
                "Aggregated", fmt::format("{:.6f}", static_cast<double>(s.requests)),
                fmt::format("{:.6f}", static_cast<double>(s.failures))}) +
           percentiles + "," +
           row({std::to_string(s.total_requests), std::to_string(s.total_failures),
                median(s.total_percentiles_ms[0], s.total_min_ms, s.total_max_ms, s.total_requests),
                pyFloat(s.total_mean_ms), pyFloat(s.total_min_ms), pyFloat(s.total_max_ms),
                pyFloat(average(s.total_bytes_received, s.total_requests))}) +
           std::string(kRowEnd);
  }
  return out;
}

std::string failuresCsv(const scenario::Plan& plan, const report::RunAggregate& aggregate) {
  struct Line {
    std::string method, name, error;
    uint64_t count;
  };
  std::vector<Line> lines;
  for (const auto& [key, count] : aggregate.total().errors()) {
    const bool known = key.endpoint < plan.endpoints.size();
    lines.push_back({known ? plan.endpoints[key.endpoint].method : "", known ? plan.endpoints[key.endpoint].name : "?",
                     fmt::format("{}: {}", stats::errorKindName(key.kind), stats::errorMessage(key.kind, key.code)),
                     count});
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return std::tie(a.name, a.method) < std::tie(b.name, b.method);
  });
  std::string out = "Method,Name,Error,Occurrences" + std::string(kRowEnd);
  for (const auto& l : lines) {
    out += row({csvField(l.method), csvField(l.name), csvField(l.error), std::to_string(l.count)}) +
           std::string(kRowEnd);
  }
  return out;
}

namespace {

// Reads that never throw: a summary from a cluster is input.
double numberIn(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number() ? obj[key].get<double>() : 0.0;
}
std::optional<double> optionalIn(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number()) return std::nullopt;
  return obj[key].get<double>();
}
uint64_t countIn(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number_unsigned() ? obj[key].get<uint64_t>() : 0;
}
std::string textIn(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}
const Json& arrayIn(const Json& obj, const char* key) {
  static const Json kEmpty = Json::array();
  return obj.is_object() && obj.contains(key) && obj[key].is_array() ? obj[key] : kEmpty;
}

// A row from a summary's endpoint or totals object: the summary keeps p50, p90,
// p95, p99, max and the mean, so the minimum and the other percentiles are N/A.
std::string summaryStatsRow(const std::string& method, const std::string& name, const Json& e, double seconds,
                            bool protocol_column, const std::string& protocol) {
  const Json latency = e.is_object() && e.contains("latency") ? e["latency"] : Json::object();
  const auto requests = countIn(e, "requests"), failures = countIn(e, "failures");
  StatsLine line{method,
                 name,
                 requests,
                 failures,
                 requests,
                 numberIn(latency, "p50"),
                 numberIn(latency, "mean"),
                 std::nullopt,
                 numberIn(latency, "max"),
                 average(countIn(e, "bytesReceived"), requests),
                 perSecond(requests, seconds),
                 perSecond(failures, seconds),
                 {},
                 protocol_column,
                 protocol};
  for (const double p : report::kReportedPercentiles) {
    const auto key = p == 100 ? std::string("max") : fmt::format("p{}", p);
    line.percentiles_ms.push_back(optionalIn(latency, key.c_str()));
  }
  return statsRow(line);
}

}  // namespace

std::string statsCsvFromSummary(const Json& summary) {
  const double seconds = numberIn(summary, "durationSeconds");
  std::vector<const Json*> endpoints;
  bool http1 = false, http2 = false;
  for (const auto& e : arrayIn(summary, "endpoints")) {
    endpoints.push_back(&e);
    http1 = http1 || textIn(e, "protocol").find("HTTP/1.1") != std::string::npos;
    http2 = http2 || textIn(e, "protocol").find("HTTP/2") != std::string::npos;
  }
  std::stable_sort(endpoints.begin(), endpoints.end(), [](const Json* a, const Json* b) {
    return std::pair(textIn(*a, "name"), textIn(*a, "method")) < std::pair(textIn(*b, "name"), textIn(*b, "method"));
  });
  std::string out =
      "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
      "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s" +
      percentileHeader() + (http2 ? ",Protocol" : "") + std::string(kRowEnd);
  for (const auto* e : endpoints)
    out += summaryStatsRow(textIn(*e, "method"), textIn(*e, "name"), *e, seconds, http2, textIn(*e, "protocol"));
  const Json totals = summary.is_object() && summary.contains("totals") ? summary["totals"] : Json::object();
  out += summaryStatsRow("", "Aggregated", totals, seconds, http2, http1 ? "HTTP/1.1+HTTP/2" : "HTTP/2");
  return out;
}

std::string failuresCsvFromSummary(const Json& summary) {
  // The summary names an error's endpoint, not its method: the method is the
  // endpoint's when one endpoint has that name.
  std::map<std::string, std::string> method_of;
  for (const auto& e : arrayIn(summary, "endpoints")) {
    const auto name = textIn(e, "name");
    method_of[name] = method_of.count(name) ? std::string() : textIn(e, "method");
  }
  std::vector<std::tuple<std::string, std::string, std::string, uint64_t>> lines;  // name, method, error, count
  for (const auto& e : arrayIn(summary, "errors")) {
    const auto name = textIn(e, "endpoint");
    lines.emplace_back(name, method_of.count(name) ? method_of[name] : std::string(),
                       textIn(e, "kind") + ": " + textIn(e, "message"), countIn(e, "count"));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  std::string out = "Method,Name,Error,Occurrences" + std::string(kRowEnd);
  for (const auto& [name, method, error, count] : lines)
    out += row({csvField(method), csvField(name), csvField(error), std::to_string(count)}) + std::string(kRowEnd);
  return out;
}

Status writeCsvFilesFromSummary(const std::string& prefix, const Json& summary) {
  if (auto s = report::writeFile(prefix + "_stats.csv", statsCsvFromSummary(summary)); !s) return s;
  return report::writeFile(prefix + "_failures.csv", failuresCsvFromSummary(summary));
}

Status writeCsvFiles(const std::string& prefix, const scenario::Plan& plan, const report::RunAggregate& aggregate,
                     const report::RunInfo& info) {
  if (auto s = report::writeFile(prefix + "_stats.csv", statsCsv(plan, aggregate, info)); !s) return s;
  if (auto s = report::writeFile(prefix + "_stats_history.csv", statsHistoryCsv(aggregate, info)); !s) return s;
  return report::writeFile(prefix + "_failures.csv", failuresCsv(plan, aggregate));
}

}  // namespace herd::output
