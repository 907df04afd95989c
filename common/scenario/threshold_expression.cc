#include "common/scenario/threshold_expression.h"

#include <array>
#include <charconv>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace herd::scenario {

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
  else
    return fail(expression, fmt::format("unknown metric \"{}\" (expected http.latency, http.failures, http.requests, "
                                        "delivery.latency, delivery.lost or delivery.duplicates)",
                                        name));
  return Ok{};
}

Status parseAggregation(std::string_view text, std::string_view expression, Threshold& t) {
  if (text.size() > 1 && text[0] == 'p' && parseNumber(text.substr(1), t.percentile) && t.percentile >= 0 &&
      t.percentile <= 100) {
    t.aggregation = Aggregation::kPercentile;
  } else if (text == "mean" || text == "avg") t.aggregation = Aggregation::kMean;
  else if (text == "min") t.aggregation = Aggregation::kMin;
  else if (text == "max") t.aggregation = Aggregation::kMax;
  else if (text == "count") t.aggregation = Aggregation::kCount;
  else if (text == "rate") t.aggregation = Aggregation::kRate;
  else
    return fail(expression,
                fmt::format("unknown aggregation \"{}\" (expected p50..p99.9, mean, min, max, count or rate)", text));

  const bool latency = t.metric == Metric::kHttpLatency || t.metric == Metric::kDeliveryLatency;
  const bool latency_agg = t.aggregation != Aggregation::kCount && t.aggregation != Aggregation::kRate;
  if (latency != latency_agg) {
    return fail(expression,
                latency ? "http.latency and delivery.latency take p50..p99.9, mean, min or max"
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
    else if (text.ends_with("us")) {
      number.remove_suffix(2);
      scale = 1e-3;
    } else if (text.ends_with("s")) {
      number.remove_suffix(1);
      scale = 1e3;
    }
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

// "baseline" or "baseline * FACTOR" at the end of the expression: the relative
// bound, which may hold spaces. Removes it from `rest`; Ok without a change when
// the expression does not end so (a tag value may be the word "baseline": the
// relative bound is the one right after the comparison).
Status parseRelativeBound(std::string_view& rest, std::string_view expression, Threshold& t) {
  constexpr std::string_view kWord = "baseline";
  const auto at = rest.rfind(kWord);
  if (at == std::string_view::npos) return Ok{};
  const auto before = trim(rest.substr(0, at));
  if (before.ends_with("*"))
    return fail(expression, "the factor goes after the baseline: \"baseline * FACTOR\", e.g. baseline * 1.10");
  if (before.empty() || (before.back() != '<' && before.back() != '>' && before.back() != '=')) return Ok{};
  auto tail = trim(rest.substr(at + kWord.size()));
  double factor = 1;
  if (!tail.empty()) {
    if (tail.front() != '*')
      return fail(expression, fmt::format("unexpected \"{}\" after baseline (expected \"baseline * FACTOR\", "
                                          "e.g. \"baseline * 1.10\")",
                                          tail));
    tail = trim(tail.substr(1));
    if (!parseNumber(tail, factor) || factor <= 0)
      return fail(expression, fmt::format("unparsable factor \"{}\" (a number above 0, e.g. baseline * 1.10)", tail));
  }
  t.baseline_factor = factor;
  rest = trim(rest.substr(0, at));
  return Ok{};
}

}  // namespace

Result<Threshold> parseThreshold(std::string_view expression) {
  Threshold t;
  t.expression = std::string(expression);
  std::string_view rest = trim(expression);
  if (auto s = parseRelativeBound(rest, expression, t); !s) return s.error();
  // http.rps is short for "http.requests rate": it takes no aggregation.
  const bool rps = rest.starts_with("http.rps") &&
                   (rest.size() == 8 || rest[8] == '{' || std::isspace(static_cast<unsigned char>(rest[8])));
  // The metric may hold spaces inside its tags; the last three words are the rest
  // (one fewer when the bound was relative, one fewer for http.rps).
  std::array<std::string_view, 3> words;  // AGGREGATION OP VALUE, filled from the end
  for (int i = t.relative() ? 1 : 2; i >= (rps ? 1 : 0); --i) {
    const auto space = rest.find_last_of(" \t");
    if (space == std::string_view::npos)
      return fail(expression, rps ? "expected http.rps OP VALUE, e.g. \"http.rps > 100\""
                                  : "expected METRIC AGGREGATION OP VALUE, e.g. \"http.latency p95 < 500ms\"");
    words[static_cast<size_t>(i)] = rest.substr(space + 1);
    rest = trim(rest.substr(0, space));
  }
  if (rest.empty()) return fail(expression, "missing metric");
  if (rps) {
    if (rest.size() > 8 && rest[8] != '{')
      return fail(expression, "expected http.rps OP VALUE, e.g. \"http.rps > 100\"");
    if (auto s = parseMetric("http.requests" + std::string(rest.substr(8)), expression, t); !s) return s.error();
    t.aggregation = Aggregation::kRate;
  } else {
    if (auto s = parseMetric(rest, expression, t); !s) return s.error();
    if (auto s = parseAggregation(words[0], expression, t); !s) return s.error();
  }
  if (auto s = parseOp(words[1], expression, t); !s) return s.error();
  if (t.relative()) {
    if (t.op == Op::kEqual || t.op == Op::kNotEqual)
      return fail(expression, "a bound relative to the baseline takes <, <=, > or >=");
    return t;
  }
  if (auto s = parseBound(words[2], expression, t); !s) return s.error();
  return t;
}

}  // namespace herd::scenario
