#include "agent/output/prometheus.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/report/latency_buckets.h"
#include "common/stats/error_kind.h"

namespace herd::output {

namespace {

constexpr const char* kOther = "(other)";

// One endpoint's series: its own, or the sum of those past the cap.
struct Series {
  std::string endpoint;
  std::string method;
  stats::EndpointStats stats;
};

std::vector<Series> endpointSeries(const scenario::Plan& plan, const stats::Recorder& total) {
  std::vector<Series> out;
  const auto& endpoints = total.endpoints();
  for (size_t i = 0; i < plan.endpoints.size(); ++i) {
    const stats::EndpointStats empty;
    const auto& stats = i < endpoints.size() ? endpoints[i] : empty;
    if (i < kMaxEndpointSeries) {
      out.push_back({plan.endpoints[i].name, plan.endpoints[i].method, stats});
    } else {
      if (out.size() == kMaxEndpointSeries) out.push_back({kOther, "", {}});
      out.back().stats.merge(stats);
    }
  }
  return out;
}

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  return fmt::format("{}", value);
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string labels(const Series& s) {
  return fmt::format("endpoint=\"{}\",method=\"{}\"", labelValue(s.endpoint), labelValue(s.method));
}

// Cumulative counts at each bucket bound (report::cumulativeCounts).
void latencyHistogram(std::string& out, const Series& s) {
  const auto counts = report::cumulativeCounts(s.stats.latency, kLatencyBucketsSeconds);
  const auto l = labels(s);
  for (size_t b = 0; b < kLatencyBucketsSeconds.size(); ++b) {
    out += fmt::format("herd_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", l,
                       number(kLatencyBucketsSeconds[b]), counts[b]);
  }
  const auto& h = s.stats.latency;
  out += fmt::format("herd_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", l, h.count());
  out += fmt::format("herd_request_duration_seconds_sum{{{}}} {}\n", l, number(static_cast<double>(h.sum()) / 1e9));
  out += fmt::format("herd_request_duration_seconds_count{{{}}} {}\n", l, h.count());
}

void errorCounters(std::string& out, const scenario::Plan& plan, const stats::Recorder& total) {
  // By (series, kind): the status code and errno stay out of the labels.
  std::map<std::pair<size_t, stats::ErrorKind>, uint64_t> counts;
  for (const auto& [key, count] : total.errors()) {
    counts[{std::min<size_t>(key.endpoint, kMaxEndpointSeries), key.kind}] += count;
  }
  header(out, "herd_errors_total", "counter", "Failed requests by endpoint and error kind.");
  for (const auto& [key, count] : counts) {
    const bool own = key.first < kMaxEndpointSeries && key.first < plan.endpoints.size();
    const Series s{own ? plan.endpoints[key.first].name : kOther, own ? plan.endpoints[key.first].method : "", {}};
    out += fmt::format("herd_errors_total{{{},kind=\"{}\"}} {}\n", labels(s), stats::errorKindName(key.second), count);
  }
}

void thresholdGauges(std::string& out, const std::vector<report::ThresholdResult>& thresholds) {
  header(out, "herd_threshold_passing", "gauge", "1 while the threshold holds over the run so far, 0 when it fails.");
  for (size_t i = 0; i < thresholds.size() && i < kMaxThresholdSeries; ++i) {
    out += fmt::format("herd_threshold_passing{{threshold=\"{}\"}} {}\n", labelValue(thresholds[i].expression),
                       thresholds[i].passed ? 1 : 0);
  }
  header(out, "herd_threshold_value", "gauge", "The threshold's measured value, in its bound's unit.");
  for (size_t i = 0; i < thresholds.size() && i < kMaxThresholdSeries; ++i) {
    out += fmt::format("herd_threshold_value{{threshold=\"{}\"}} {}\n", labelValue(thresholds[i].expression),
                       number(thresholds[i].value));
  }
}

}  // namespace

std::string labelValue(std::string_view text) {
  std::string cut(text.substr(0, kMaxLabelBytes));
  if (text.size() > kMaxLabelBytes) {
    // Do not end inside a UTF-8 sequence.
    while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80) cut.pop_back();
    if (!cut.empty() && static_cast<unsigned char>(cut.back()) >= 0xC0) cut.pop_back();
    cut += "...";
  }
  std::string out;
  for (const char c : cut) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string prometheusText(const LiveView& view) {
  const auto& total = view.aggregate.total();
  const auto series = endpointSeries(view.plan, total);
  const auto& samples = view.aggregate.series();
  const report::SecondSample last = samples.empty() ? report::SecondSample{} : samples.back();
  std::string out;

  header(out, "herd_requests_total", "counter", "Requests finished, failed ones included.");
  for (const auto& s : series) out += fmt::format("herd_requests_total{{{}}} {}\n", labels(s), s.stats.requests);
  header(out, "herd_request_failures_total", "counter", "Requests that failed (any error kind).");
  for (const auto& s : series)
    out += fmt::format("herd_request_failures_total{{{}}} {}\n", labels(s), s.stats.failures);
  header(out, "herd_response_bytes_total", "counter", "Response bytes received, headers included.");
  for (const auto& s : series)
    out += fmt::format("herd_response_bytes_total{{{}}} {}\n", labels(s), s.stats.bytes_received);
  errorCounters(out, view.plan, total);
  header(out, "herd_request_duration_seconds", "histogram", "Request latency, from send to the last response byte.");
  for (const auto& s : series) latencyHistogram(out, s);

  header(out, "herd_users", "gauge", "Virtual users running at the end of the last second.");
  out += fmt::format("herd_users {}\n", last.users);
  header(out, "herd_users_target", "gauge", "Virtual users the run ramps up to.");
  out += fmt::format("herd_users_target {}\n", view.plan.load.users);
  header(out, "herd_generator_cpu_percent", "gauge", "CPU of the busiest generator thread in the last second.");
  out += fmt::format("herd_generator_cpu_percent {}\n", number(last.generator_busy_percent));
  header(out, "herd_run_elapsed_seconds", "gauge", "Seconds since the run started.");
  out += fmt::format("herd_run_elapsed_seconds {}\n", number(last.elapsed_seconds));
  header(out, "herd_run_finished", "gauge", "1 once the run has ended and these are its final values.");
  out += fmt::format("herd_run_finished {}\n", view.finished ? 1 : 0);
  header(out, "herd_run_info", "gauge", "The scenario being run.");
  out += fmt::format("herd_run_info{{scenario=\"{}\"}} 1\n", labelValue(view.plan.name));
  thresholdGauges(out, view.thresholds);
  return out;
}

}  // namespace herd::output
