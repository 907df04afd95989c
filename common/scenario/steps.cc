// Step lists: which action a step is (a request or think), and think times.
#include <algorithm>
#include <array>
#include <cctype>

#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

// Keys that make a step what it is; a step has exactly one of them.
constexpr std::array<std::string_view, 22> kActions = {
    "get", "post",     "put",  "patch",   "delete",    "head",      "request", "think",   "loop", "if",    "parallel",
    "set", "stopUser", "feed", "publish", "subscribe", "websocket", "send",    "receive", "ping", "close", "grpc"};

Result<ThinkStep> parseThink(Context& context, const Field& field) {
  ThinkStep think;
  if (field.node.IsScalar()) {
    think.kind = ThinkStep::Kind::kFixed;
    SCENARIO_ASSIGN_OR_RETURN(think.min, readDuration(context, field, true));
    return think;
  }
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, field, {"between", "pacing"}));
  if (map.entries().size() != 1) {
    return errorAt(context, field, "expected a duration, {between: [min, max]} or {pacing: period}");
  }
  if (const Field* pacing = map.find("pacing")) {
    think.kind = ThinkStep::Kind::kPacing;
    SCENARIO_ASSIGN_OR_RETURN(think.min, readDuration(context, *pacing, false));
    return think;
  }
  const Field& between = map.entries()[0].second;
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> bounds, readList(context, between));
  if (bounds.size() != 2) return errorAt(context, between, "expected two durations [min, max]");
  think.kind = ThinkStep::Kind::kBetween;
  SCENARIO_ASSIGN_OR_RETURN(think.min, readDuration(context, bounds[0], true));
  SCENARIO_ASSIGN_OR_RETURN(think.max, readDuration(context, bounds[1], true));
  if (think.min > think.max) {
    return errorAt(context, between,
                   "the minimum " + quote(bounds[0].node.Scalar()) + " is greater than the maximum " +
                       quote(bounds[1].node.Scalar()));
  }
  return think;
}

// The step's one action key, or an error naming what is missing or doubled.
Result<const std::pair<std::string, Field>*> findAction(Context& context, const Field& field, const MapView& map) {
  const std::pair<std::string, Field>* action = nullptr;
  for (const auto& entry : map.entries()) {
    if (std::find(kActions.begin(), kActions.end(), entry.first) == kActions.end()) continue;
    if (action != nullptr) {
      return errorAt(
          context, entry.second.atKey(),
          "a step does one thing, but this one has both " + quote(action->first) + " and " + quote(entry.first));
    }
    action = &entry;
  }
  if (action == nullptr) {
    return errorAt(
        context, field,
        "a step needs one of " + join(std::vector<std::string_view>(kActions.begin(), kActions.end()), ", "));
  }
  return action;
}

Result<Step> parseStep(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(
      const MapView map,
      readMap(context, field,
              {"get",       "post",      "put",  "patch",   "delete",   "head",  "request",  "think", "name",
               "loop",      "if",        "then", "else",    "parallel", "set",   "stopUser", "feed",  "publish",
               "subscribe", "websocket", "send", "receive", "ping",     "close", "grpc"}));
  SCENARIO_ASSIGN_OR_RETURN(const auto* action, findAction(context, field, map));
  const Field* name = map.find("name");
  for (const char* key : {"then", "else"}) {
    const Field* branch = map.find(key);
    if (branch != nullptr && action->first != "if") {
      return errorAt(context, branch->atKey(), std::string(key) + " only goes with if");
    }
  }
  // kActions starts with the seven request actions, then think, then flow steps.
  const auto* const flow_begin = kActions.begin() + 8;
  if (std::find(flow_begin, kActions.end(), action->first) != kActions.end()) {
    if (name != nullptr) return errorAt(context, name->atKey(), "only request steps have a name");
    return parseFlowStep(builder, action->first, action->second, field);
  }
  if (action->first == "think") {
    if (name != nullptr) return errorAt(context, name->atKey(), "only request steps have a name");
    SCENARIO_ASSIGN_OR_RETURN(ThinkStep think, parseThink(context, action->second));
    return Step(think);
  }
  std::string method;
  if (action->first != "request") {
    method = action->first;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  }
  SCENARIO_ASSIGN_OR_RETURN(RequestStep request, parseRequest(builder, std::move(method), action->second, name));
  return Step(std::move(request));
}

}  // namespace

Result<std::vector<Step>> parseSteps(Builder& builder, const Field& field, bool allow_empty) {
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(builder.context, field));
  if (items.empty() && !allow_empty) return errorAt(builder.context, field, "needs at least one step");
  std::vector<Step> steps;
  steps.reserve(items.size());
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(Step step, parseStep(builder, item));
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace herd::scenario::detail
