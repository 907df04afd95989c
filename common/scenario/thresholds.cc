// The `thresholds:` list. Each entry is an expression string, or a map that adds
// when the threshold may end the run early:
//   - "http.failures rate < 1%"
//   - {expression: "http.latency p95 < 500ms", abortOnFail: true, delay: 10s}
// The expression is parsed here too (threshold_expression.h), so a bad one is an
// error at its place in the file like any other.
#include "common/scenario/builder.h"
#include "common/scenario/text.h"
#include "common/scenario/threshold_expression.h"

namespace herd::scenario::detail {

namespace {

Result<std::string> readExpression(Context& context, const Field& field) {
  if (!field.node.IsScalar()) {
    return errorAt(context, field,
                   "a threshold is a string such as \"http.latency p95 < 500ms\" or "
                   "{expression: ..., abortOnFail: true, delay: 10s}");
  }
  SCENARIO_ASSIGN_OR_RETURN(std::string text, readString(context, field));
  if (trim(text).empty()) return errorAt(context, field, "empty threshold");
  return text;
}

// After the entry's other keys, so their errors come first as they always did.
Status checkExpression(Context& context, const Field& field, const std::string& text) {
  if (auto parsed = scenario::parseThreshold(text); !parsed) return errorAt(context, field, parsed.error().message);
  return Ok{};
}

Result<ThresholdSpec> parseThreshold(Context& context, const Field& item) {
  ThresholdSpec spec;
  if (!item.node.IsMap()) {
    SCENARIO_ASSIGN_OR_RETURN(spec.expression, readExpression(context, item));
    SCENARIO_RETURN_IF_ERROR(checkExpression(context, item, spec.expression));
    return spec;
  }
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, item, {"expression", "abortOnFail", "delay"}));
  SCENARIO_ASSIGN_OR_RETURN(const Field expression, require(context, item, map, "expression", "the threshold itself"));
  SCENARIO_ASSIGN_OR_RETURN(spec.expression, readExpression(context, expression));
  if (const Field* abort = map.find("abortOnFail")) {
    SCENARIO_ASSIGN_OR_RETURN(spec.abort_on_fail, readBool(context, *abort));
  }
  if (const Field* delay = map.find("delay")) {
    SCENARIO_ASSIGN_OR_RETURN(spec.delay, readDuration(context, *delay, /*allow_zero=*/true));
    if (!spec.abort_on_fail) {
      return errorAt(context, *delay, "delay only applies with abortOnFail: true (it postpones the early abort)");
    }
  }
  SCENARIO_RETURN_IF_ERROR(checkExpression(context, expression, spec.expression));
  return spec;
}

}  // namespace

Result<std::vector<ThresholdSpec>> parseThresholds(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  std::vector<ThresholdSpec> out;
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(ThresholdSpec spec, parseThreshold(context, item));
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace herd::scenario::detail
