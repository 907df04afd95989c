#include "common/report/summary.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/core/clock.h"
#include "common/stats/error_kind.h"

namespace herd::report {

namespace {

using json = Json;

json latencyJson(const stats::Histogram& h) {
  return json{{"mean", h.mean() / 1e6},
              {"p50", toMillis(h.valueAtPercentile(50))},
              {"p90", toMillis(h.valueAtPercentile(90))},
              {"p95", toMillis(h.valueAtPercentile(95))},
              {"p99", toMillis(h.valueAtPercentile(99))},
              {"max", toMillis(h.max())}};
}

double perSecond(uint64_t count, double seconds) { return seconds > 0 ? static_cast<double>(count) / seconds : 0.0; }

json endpointsJson(const scenario::Plan& plan, const stats::Recorder& total, double seconds) {
  json out = json::array();
  const auto& stats = total.endpoints();
  for (size_t i = 0; i < plan.endpoints.size(); ++i) {
    const stats::EndpointStats empty;
    const auto& e = i < stats.size() ? stats[i] : empty;
    out.push_back({{"name", plan.endpoints[i].name},
                   {"method", plan.endpoints[i].method},
                   {"requests", e.requests},
                   {"failures", e.failures},
                   {"rps", perSecond(e.requests, seconds)},
                   {"bytesReceived", e.bytes_received},
                   {"protocol", stats::protocolName(e.protocols)},
                   {"latency", latencyJson(e.latency)}});
  }
  return out;
}

json errorsJson(const scenario::Plan& plan, const stats::Recorder& total) {
  json out = json::array();
  for (const auto& [key, count] : total.errors()) {
    const auto endpoint = key.endpoint < plan.endpoints.size() ? plan.endpoints[key.endpoint].name : std::string("?");
    // A check failure is counted with the check's id; name the check.
    const bool named_check = key.kind == stats::ErrorKind::kCheck && key.code >= 0 &&
                             static_cast<size_t>(key.code) < plan.checks.size();
    out.push_back({{"endpoint", endpoint},
                   {"kind", std::string(stats::errorKindName(key.kind))},
                   {"message", named_check ? "check failed: " + plan.checks[static_cast<size_t>(key.code)]
                                           : stats::errorMessage(key.kind, key.code)},
                   {"count", count}});
  }
  return out;
}

// Every check of the scenario with how often it failed (0 for those that never did),
// so a CI report lists the checks that passed too.
json checksJson(const scenario::Plan& plan, const stats::Recorder& total) {
  std::vector<uint64_t> failures(plan.checks.size(), 0);
  for (const auto& [key, count] : total.errors())
    if (key.kind == stats::ErrorKind::kCheck && key.code >= 0 && static_cast<size_t>(key.code) < failures.size())
      failures[static_cast<size_t>(key.code)] += count;
  json out = json::array();
  for (size_t i = 0; i < plan.checks.size(); ++i) out.push_back({{"check", plan.checks[i]}, {"failures", failures[i]}});
  return out;
}

json deliveryJson(const scenario::Plan& plan, const RunInfo& info) {
  json out = json::array();
  for (size_t i = 0; i < info.delivery.size() && i < plan.streams.size(); ++i) {
    const auto& d = info.delivery[i];
    out.push_back({{"stream", plan.streams[i]},
                   {"published", d.published},
                   {"delivered", d.delivered},
                   {"duplicates", d.duplicates},
                   {"lost", d.lost},
                   {"latency", latencyJson(d.latency)}});
  }
  return out;
}

}  // namespace

std::string_view verdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPassed: return "passed";
    case Verdict::kFailed: return "failed";
    case Verdict::kAborted: return "aborted";
    case Verdict::kError: return "error";
  }
  return "error";
}

Verdict verdictOf(const std::vector<ThresholdResult>& thresholds) {
  Verdict verdict = Verdict::kPassed;
  for (const auto& t : thresholds) {
    if (t.aborted_run) return Verdict::kAborted;
    if (!t.passed) verdict = Verdict::kFailed;
  }
  return verdict;
}

json thresholdsJson(const std::vector<ThresholdResult>& results) {
  json out = json::array();
  for (const auto& t : results) {
    json entry{{"expression", t.expression},     {"passed", t.passed},         {"value", t.value}, {"shown", t.shown},
               {"abortOnFail", t.abort_on_fail}, {"abortedRun", t.aborted_run}};
    if (t.aborted_run) entry["abortedAtSeconds"] = t.aborted_at_seconds;
    if (!t.skipped) {
      entry["bound"] = t.bound;
      entry["shownBound"] = t.shown_bound;
    }
    if (t.baseline) {
      entry["baseline"] = *t.baseline;
      entry["shownBaseline"] = t.shown_baseline;
      entry["baselineRunId"] = t.baseline_run;
    }
    if (t.skipped) {
      entry["skipped"] = true;
      entry["reason"] = "NoBaseline";
      entry["message"] = t.skipped_why;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::string describeBound(const json& t) {
  auto text = [&](const char* key) {
    return t.is_object() && t.contains(key) && t[key].is_string() ? t[key].get<std::string>() : std::string();
  };
  if (t.is_object() && t.value("skipped", false)) return "; skipped: " + text("message");
  if (t.is_object() && t.contains("baseline"))
    return " against " + text("shownBound") + " (baseline " + text("shownBaseline") + ", run " + text("baselineRunId") +
           ")";
  return "";
}

std::string describeThreshold(const json& t) {
  const bool shown = t.is_object() && t.contains("shown") && t["shown"].is_string();
  return "measured " + (shown ? t["shown"].get<std::string>() : std::string()) + describeBound(t);
}

json buildSummary(const scenario::Plan& plan, const RunAggregate& aggregate, const RunInfo& info) {
  const auto& total = aggregate.total();
  const auto totals = total.totals();
  const double seconds = info.duration_seconds;
  json summary{{"version", 1},
               {"runId", info.run_id},
               {"scenario", plan.name},
               {"verdict", std::string(verdictName(info.verdict))},
               {"startTime", formatRfc3339(info.start)},
               {"endTime", formatRfc3339(info.end)},
               {"durationSeconds", seconds},
               {"agents", info.agents},
               {"users", {{"peak", aggregate.peakUsers()}}},
               {"totals",
                {{"requests", totals.requests},
                 {"failures", totals.failures},
                 {"rps", perSecond(totals.requests, seconds)},
                 {"bytesReceived", totals.bytes_received},
                 {"latency", latencyJson(totals.latency)}}},
               {"endpoints", endpointsJson(plan, total, seconds)},
               {"errors", errorsJson(plan, total)},
               {"checks", checksJson(plan, total)},
               {"delivery", deliveryJson(plan, info)},
               {"thresholds", thresholdsJson(info.thresholds)},
               {"generator",
                {{"cpuPeakPercent", aggregate.peakBusyPercent()},
                 {"saturated", aggregate.peakBusyPercent() > info.saturation_percent},
                 {"fdLimit", info.fd_limit}}}};
  if (info.extra.is_object()) summary.update(info.extra);
  return summary;
}

Status writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error{std::strerror(errno), path};
  out << content;
  out.close();
  if (!out) return Error{"write failed", path};
  return Ok{};
}

}  // namespace herd::report
