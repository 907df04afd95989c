#include "common/report/threshold.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "common/report/aggregate.h"

namespace herd::report {

namespace {

using Metric = Threshold::Metric;
using Aggregation = Threshold::Aggregation;
using Op = Threshold::Op;

bool compare(double value, Op op, double bound) {
  switch (op) {
    case Op::kLess: return value < bound;
    case Op::kLessEqual: return value <= bound;
    case Op::kGreater: return value > bound;
    case Op::kGreaterEqual: return value >= bound;
    case Op::kEqual: return value == bound;
    case Op::kNotEqual: return value != bound;
  }
  return false;
}

bool matches(const Threshold& t, const scenario::Endpoint& endpoint) {
  for (const auto& [key, value] : t.tags) {
    if (key == "name" && endpoint.name != value) return false;
    if (key == "method" && endpoint.method != value) return false;
  }
  return true;
}

}  // namespace

Result<Threshold> parseThreshold(std::string_view expression) { return scenario::parseThreshold(expression); }

Result<std::vector<Threshold>> parseThresholds(const std::vector<std::string>& expressions) {
  std::vector<Threshold> out;
  for (size_t i = 0; i < expressions.size(); ++i) {
    auto parsed = parseThreshold(expressions[i]);
    if (!parsed) return Error{parsed.error().message, fmt::format("thresholds[{}]", i)};
    out.push_back(std::move(*parsed));
  }
  return out;
}

Result<std::vector<Threshold>> parseThresholds(const std::vector<scenario::ThresholdSpec>& specs) {
  std::vector<std::string> expressions;
  for (const auto& spec : specs) expressions.push_back(spec.expression);
  auto parsed = parseThresholds(expressions);
  if (!parsed) return parsed.error();
  for (size_t i = 0; i < specs.size(); ++i) {
    (*parsed)[i].abort_on_fail = specs[i].abort_on_fail;
    (*parsed)[i].delay_seconds = std::chrono::duration<double>(specs[i].delay).count();
  }
  return parsed;
}

std::string shownValue(const Threshold& t, double value) {
  if (t.metric == Metric::kHttpLatency || t.metric == Metric::kDeliveryLatency) return fmt::format("{:.2f}ms", value);
  if (t.aggregation == Aggregation::kCount) return fmt::format("{:.0f}", value);
  if (t.metric == Metric::kHttpRequests) return fmt::format("{:.1f}/s", value);
  return fmt::format("{:.2f}%", value * 100);  // failures, lost, duplicates
}

namespace {

// The result of comparing `value` with the threshold's bound (absolute, or the
// baseline's value times the factor; not compared when that is unknown).
ThresholdResult judged(const Threshold& t, double value) {
  ThresholdResult result{t.expression, compare(value, t.op, t.bound), value, shownValue(t, value)};
  result.abort_on_fail = t.abort_on_fail;
  result.bound = t.bound;
  result.shown_bound = shownValue(t, t.bound);
  if (t.relative()) {
    result.baseline = t.baseline_value;
    result.baseline_run = t.baseline_run;
    if (t.baseline_value) result.shown_baseline = shownValue(t, *t.baseline_value);
    if (!t.baseline_value) {
      result.passed = true;
      result.skipped = true;
      result.skipped_why = t.baseline_missing.empty() ? "no baseline run" : t.baseline_missing;
    }
  }
  return result;
}

// The threshold judged on the stats of the endpoints it selects.
ThresholdResult judge(const Threshold& t, const stats::EndpointStats& selected, double duration_seconds) {
  double value = 0;
  switch (t.aggregation) {
    case Aggregation::kPercentile: value = toMillis(selected.latency.valueAtPercentile(t.percentile)); break;
    case Aggregation::kMean: value = selected.latency.mean() / 1e6; break;
    case Aggregation::kMin: value = toMillis(selected.latency.min()); break;
    case Aggregation::kMax: value = toMillis(selected.latency.max()); break;
    case Aggregation::kCount:
      value = static_cast<double>(t.metric == Metric::kHttpFailures ? selected.failures : selected.requests);
      break;
    case Aggregation::kRate:
      if (t.metric == Metric::kHttpFailures) {
        value = selected.requests ? static_cast<double>(selected.failures) / static_cast<double>(selected.requests) : 0;
      } else {
        value = duration_seconds > 0 ? static_cast<double>(selected.requests) / duration_seconds : 0;
      }
      break;
  }
  return judged(t, value);
}

bool isDelivery(const Threshold& t) {
  return t.metric == Metric::kDeliveryLatency || t.metric == Metric::kDeliveryLost ||
         t.metric == Metric::kDeliveryDuplicates;
}

// delivery.* over the streams the tags select.
ThresholdResult judgeDelivery(const Threshold& t, const scenario::Plan& plan,
                              const std::vector<stats::DeliveryStream>& delivery) {
  stats::DeliveryStream selected;
  for (size_t i = 0; i < delivery.size() && i < plan.streams.size(); ++i) {
    const auto tag = t.tags.find("stream");
    if (tag != t.tags.end() && tag->second != plan.streams[i]) continue;
    const auto& d = delivery[i];
    selected.delivered += d.delivered;
    selected.duplicates += d.duplicates;
    selected.lost += d.lost;
    selected.expected += d.expected;
    selected.latency.merge(d.latency);
  }
  double value = 0;
  const bool lost = t.metric == Metric::kDeliveryLost;
  const double count = static_cast<double>(lost ? selected.lost : selected.duplicates);
  const double base = static_cast<double>(lost ? selected.expected : selected.delivered);
  switch (t.aggregation) {
    case Aggregation::kPercentile: value = toMillis(selected.latency.valueAtPercentile(t.percentile)); break;
    case Aggregation::kMean: value = selected.latency.mean() / 1e6; break;
    case Aggregation::kMin: value = toMillis(selected.latency.min()); break;
    case Aggregation::kMax: value = toMillis(selected.latency.max()); break;
    case Aggregation::kCount: value = count; break;
    case Aggregation::kRate: value = base > 0 ? count / base : 0; break;
  }
  return judged(t, value);
}

}  // namespace

ThresholdResult evaluate(const Threshold& t, const scenario::Plan& plan, const stats::Recorder& stats,
                         double duration_seconds, const std::vector<stats::DeliveryStream>& delivery) {
  if (isDelivery(t)) return judgeDelivery(t, plan, delivery);
  return evaluate(t, plan, stats, duration_seconds);
}

ThresholdResult evaluate(const Threshold& t, const scenario::Plan& plan, const stats::Recorder& stats,
                         double duration_seconds) {
  if (isDelivery(t)) return judgeDelivery(t, plan, {});
  stats::EndpointStats selected;
  const auto& endpoints = stats.endpoints();
  for (size_t i = 0; i < endpoints.size() && i < plan.endpoints.size(); ++i) {
    if (matches(t, plan.endpoints[i])) selected.merge(endpoints[i]);
  }
  return judge(t, selected, duration_seconds);
}

std::vector<ThresholdResult> evaluateAll(const std::vector<Threshold>& thresholds, const scenario::Plan& plan,
                                         const stats::Recorder& stats, double duration_seconds,
                                         const std::vector<stats::DeliveryStream>& delivery) {
  // Untagged thresholds all judge every endpoint: merge those once (this runs
  // every second while the run goes).
  std::optional<stats::EndpointStats> all;
  std::vector<ThresholdResult> out;
  out.reserve(thresholds.size());
  for (const auto& t : thresholds) {
    if (!t.tags.empty() || isDelivery(t)) {
      out.push_back(evaluate(t, plan, stats, duration_seconds, delivery));
      continue;
    }
    if (!all) {
      all.emplace();
      const auto& endpoints = stats.endpoints();
      for (size_t i = 0; i < endpoints.size() && i < plan.endpoints.size(); ++i) all->merge(endpoints[i]);
    }
    out.push_back(judge(t, *all, duration_seconds));
  }
  return out;
}

LiveThresholds evaluateLive(const std::vector<Threshold>& thresholds, const scenario::Plan& plan,
                            const stats::Recorder& stats, double elapsed_seconds) {
  LiveThresholds live{evaluateAll(thresholds, plan, stats, elapsed_seconds), std::nullopt};
  for (size_t i = 0; i < thresholds.size(); ++i) {
    const auto& t = thresholds[i];
    if (t.abort_on_fail && !live.results[i].passed && elapsed_seconds >= t.delay_seconds) {
      live.results[i].aborted_run = true;
      live.results[i].aborted_at_seconds = elapsed_seconds;
      live.abort = i;
      break;
    }
  }
  return live;
}

std::vector<ThresholdResult> finalResults(const std::vector<Threshold>& thresholds, const scenario::Plan& plan,
                                          const stats::Recorder& stats, double duration_seconds,
                                          const std::optional<ThresholdAbort>& aborted_by,
                                          const std::vector<stats::DeliveryStream>& delivery) {
  auto out = evaluateAll(thresholds, plan, stats, duration_seconds, delivery);
  if (aborted_by && aborted_by->index < out.size()) out[aborted_by->index] = aborted_by->result;
  return out;
}

}  // namespace herd::report
