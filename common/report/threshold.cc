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

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parseNumber(std::string_view text, double& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

Error fail(std::string_view expression, const std::string& message) {
  return Error{fmt::format("threshold \"{}\": {}", expression, message), ""};
}

Status parseTags(std::string_view text, std::string_view expression, Threshold& t) {
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) return fail(expression, fmt::format("tag \"{}\" is not key:value", item));
    const auto key = std::string(trim(item.substr(0, colon)));
    if (key != "name" && key != "method" && key != "stream") {
      return fail(expression, fmt::format("unknown tag \"{}\" (expected name or method; stream for delivery.*)", key));
    }
    t.tags[key] = std::string(trim(item.substr(colon + 1)));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return Ok{};
}

Status parseMetric(std::string_view text, std::string_view expression, Threshold& t) {
  std::string_view name = text;
  if (const auto brace = text.find('{'); brace != std::string_view::npos) {
    if (text.back() != '}') return fail(expression, "unclosed '{' in the metric's tags");
    name = text.substr(0, brace);
    if (auto tags = parseTags(text.substr(brace + 1, text.size() - brace - 2), expression, t); !tags) return tags;
  }
  if (name == "http.latency") t.metric = Metric::kHttpLatency;
  else if (name == "http.failures") t.metric = Metric::kHttpFailures;
  else if (name == "http.requests") t.metric = Metric::kHttpRequests;
  else if (name == "delivery.latency") t.metric = Metric::kDeliveryLatency;
  else if (name == "delivery.lost") t.metric = Metric::kDeliveryLost;
  else if (name == "delivery.duplicates") t.metric = Metric::kDeliveryDuplicates;
  else return fail(expression, fmt::format("unknown metric \"{}\" (expected http.latency, http.failures, http.requests, delivery.latency, delivery.lost or delivery.duplicates)", name));
  return Ok{};
}

Status parseAggregation(std::string_view text, std::string_view expression, Threshold& t) {
  if (text.size() > 1 && text[0] == 'p' && parseNumber(text.substr(1), t.percentile) && t.percentile >= 0 && t.percentile <= 100) {
    t.aggregation = Aggregation::kPercentile;
  } else if (text == "mean" || text == "avg") t.aggregation = Aggregation::kMean;
  else if (text == "min") t.aggregation = Aggregation::kMin;
  else if (text == "max") t.aggregation = Aggregation::kMax;
  else if (text == "count") t.aggregation = Aggregation::kCount;
  else if (text == "rate") t.aggregation = Aggregation::kRate;
  else return fail(expression, fmt::format("unknown aggregation \"{}\" (expected p50..p99.9, mean, min, max, count or rate)", text));

  const bool latency = t.metric == Metric::kHttpLatency || t.metric == Metric::kDeliveryLatency;
  const bool latency_agg = t.aggregation != Aggregation::kCount && t.aggregation != Aggregation::kRate;
  if (latency != latency_agg) {
    return fail(expression, latency ? "http.latency and delivery.latency take p50..p99.9, mean, min or max"
                                    : "http.failures, http.requests, delivery.lost and delivery.duplicates take count or rate");
  }
  return Ok{};
}

Status parseOp(std::string_view text, std::string_view expression, Threshold& t) {
  if (text == "<") t.op = Op::kLess;
  else if (text == "<=") t.op = Op::kLessEqual;
  else if (text == ">") t.op = Op::kGreater;
  else if (text == ">=") t.op = Op::kGreaterEqual;
  else if (text == "==") t.op = Op::kEqual;
  else if (text == "!=") t.op = Op::kNotEqual;
  else return fail(expression, fmt::format("unknown comparison \"{}\" (expected <, <=, >, >=, == or !=)", text));
  return Ok{};
}

// Latency bounds carry a unit (bare numbers are milliseconds); rates may be
// written as percentages.
Status parseBound(std::string_view text, std::string_view expression, Threshold& t) {
  double scale = 1;
  std::string_view number = text;
  const bool fraction = t.metric != Metric::kHttpRequests;  // failures, lost, duplicates
  if (t.metric == Metric::kHttpLatency || t.metric == Metric::kDeliveryLatency) {
    if (text.ends_with("ms")) number.remove_suffix(2);
    else if (text.ends_with("us")) { number.remove_suffix(2); scale = 1e-3; }
    else if (text.ends_with("s")) { number.remove_suffix(1); scale = 1e3; }
  } else if (t.aggregation == Aggregation::kRate && fraction && text.ends_with("%")) {
    number.remove_suffix(1);
    scale = 0.01;
  }
  if (!parseNumber(number, t.bound) || t.bound < 0) {
    return fail(expression, fmt::format("unparsable bound \"{}\"", text));
  }
  t.bound *= scale;
  return Ok{};
}

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

Result<Threshold> parseThreshold(std::string_view expression) {
  Threshold t;
  t.expression = std::string(expression);
  // The metric may hold spaces inside its tags; the last three words are the rest.
  std::array<std::string_view, 3> words;  // AGGREGATION OP VALUE, filled from the end
  std::string_view rest = trim(expression);
  for (int i = 2; i >= 0; --i) {
    const auto space = rest.find_last_of(" \t");
    if (space == std::string_view::npos) return fail(expression, "expected METRIC AGGREGATION OP VALUE, e.g. \"http.latency p95 < 500ms\"");
    words[static_cast<size_t>(i)] = rest.substr(space + 1);
    rest = trim(rest.substr(0, space));
  }
  if (rest.empty()) return fail(expression, "missing metric");
  if (auto s = parseMetric(rest, expression, t); !s) return s.error();
  if (auto s = parseAggregation(words[0], expression, t); !s) return s.error();
  if (auto s = parseOp(words[1], expression, t); !s) return s.error();
  if (auto s = parseBound(words[2], expression, t); !s) return s.error();
  return t;
}

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

namespace {

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
  std::string shown;
  if (t.metric == Metric::kHttpLatency) {
    shown = fmt::format("{:.2f}ms", value);
  } else if (t.aggregation == Aggregation::kCount) {
    shown = fmt::format("{:.0f}", value);
  } else if (t.metric == Metric::kHttpFailures) {
    shown = fmt::format("{:.2f}%", value * 100);
  } else {
    shown = fmt::format("{:.1f}/s", value);
  }
  ThresholdResult result{t.expression, compare(value, t.op, t.bound), value, std::move(shown)};
  result.abort_on_fail = t.abort_on_fail;
  return result;
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
  std::string shown = t.metric == Metric::kDeliveryLatency    ? fmt::format("{:.2f}ms", value)
                      : t.aggregation == Aggregation::kCount ? fmt::format("{:.0f}", value)
                                                             : fmt::format("{:.2f}%", value * 100);
  ThresholdResult result{t.expression, compare(value, t.op, t.bound), value, std::move(shown)};
  result.abort_on_fail = t.abort_on_fail;
  return result;
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
