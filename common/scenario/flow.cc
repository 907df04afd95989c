// Steps that shape a user's flow: loop, if, parallel, set and stopUser, and the
// conditions that `if` and `loop: {while}` ask.
#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

constexpr int64_t kMaxLoopCount = 1'000'000'000;
constexpr size_t kMaxBranches = 64;

Status readPair(Context& context, const Field& field, Condition& condition) {
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  if (items.size() != 2) return errorAt(context, field, "expected two values to compare, [a, b]");
  SCENARIO_ASSIGN_OR_RETURN(condition.left, readTemplate(context, items[0]));
  SCENARIO_ASSIGN_OR_RETURN(condition.right, readTemplate(context, items[1]));
  return Ok{};
}

// A variable that is only read by the condition (set / notSet).
Result<size_t> readVariableReference(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string name, readString(context, field));
  if (!isIdentifier(name)) return errorAt(context, field, "expected a variable name, got " + quote(name));
  context.first_read.try_emplace(name, field.mark, field.path);
  return context.variable(name);
}

Result<Condition> parseCondition(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const MapView map,
                            readMap(context, field, {"chance", "equals", "notEquals", "set", "notSet"}));
  if (map.entries().size() != 1) {
    return errorAt(
        context, field,
        "a condition is one of {chance: P}, {equals: [a, b]}, {notEquals: [a, b]}, {set: VAR}, {notSet: VAR}");
  }
  const auto& [kind, value] = map.entries()[0];
  Condition condition;
  if (kind == "chance") {
    condition.kind = Condition::Kind::kChance;
    SCENARIO_ASSIGN_OR_RETURN(condition.chance, readProbability(context, value));
  } else if (kind == "equals" || kind == "notEquals") {
    condition.kind = kind == "equals" ? Condition::Kind::kEquals : Condition::Kind::kNotEquals;
    SCENARIO_RETURN_IF_ERROR(readPair(context, value, condition));
  } else {
    condition.kind = kind == "set" ? Condition::Kind::kSet : Condition::Kind::kNotSet;
    SCENARIO_ASSIGN_OR_RETURN(condition.variable, readVariableReference(context, value));
  }
  return condition;
}

Result<Step> parseLoop(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map,
                            readMap(context, field, {"count", "while", "forever", "over", "as", "steps"}));
  LoopStep loop;
  const char* kinds[] = {"count", "while", "forever", "over"};
  const Field* kind_field = nullptr;
  std::string kind;
  for (const char* candidate : kinds) {
    const Field* found = map.find(candidate);
    if (found == nullptr) continue;
    if (kind_field != nullptr) {
      return errorAt(
          context, found->atKey(),
          "a loop has one of count, while, forever or over; this one has " + quote(kind) + " and " + quote(candidate));
    }
    kind_field = found;
    kind = candidate;
  }
  if (kind_field == nullptr) return errorAt(context, field, "a loop needs one of count, while, forever or over");
  const Field* as = map.find("as");
  if (as != nullptr && kind != "over")
    return errorAt(context, as->atKey(), "as only goes with over (the variable each item is put in)");
  if (kind == "count") {
    loop.kind = LoopStep::Kind::kCount;
    SCENARIO_ASSIGN_OR_RETURN(loop.count, readInteger(context, *kind_field, 0));
    if (loop.count > kMaxLoopCount) return errorAt(context, *kind_field, "at most 1000000000 rounds");
  } else if (kind == "while") {
    loop.kind = LoopStep::Kind::kWhile;
    SCENARIO_ASSIGN_OR_RETURN(loop.condition, parseCondition(context, *kind_field));
  } else if (kind == "forever") {
    loop.kind = LoopStep::Kind::kForever;
    SCENARIO_ASSIGN_OR_RETURN(const bool forever, readBool(context, *kind_field));
    if (!forever) return errorAt(context, *kind_field, "forever: true, or leave the loop out");
  } else {
    loop.kind = LoopStep::Kind::kOver;
    SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, *kind_field));
    for (const Field& item : items) {
      SCENARIO_ASSIGN_OR_RETURN(Template value, readTemplate(context, item));
      loop.items.push_back(std::move(value));
    }
    if (as == nullptr) return errorAt(context, field, "loop over needs as: the variable each item is put in");
    SCENARIO_ASSIGN_OR_RETURN(loop.variable, readVariableName(context, *as));
  }
  SCENARIO_ASSIGN_OR_RETURN(const Field steps, require(context, field, map, "steps"));
  SCENARIO_ASSIGN_OR_RETURN(loop.body, parseBlock(builder, steps));
  return Step(std::move(loop));
}

Result<Step> parseIf(Builder& builder, const Field& value, const Field& step_field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, step_field, {"if", "then", "else"}));
  IfStep step;
  SCENARIO_ASSIGN_OR_RETURN(step.condition, parseCondition(context, value));
  SCENARIO_ASSIGN_OR_RETURN(const Field then_field,
                            require(context, step_field, map, "then", "the steps to run when the condition holds"));
  SCENARIO_ASSIGN_OR_RETURN(step.then_steps, parseBlock(builder, then_field));
  if (const Field* else_field = map.find("else")) {
    SCENARIO_ASSIGN_OR_RETURN(step.else_steps, parseBlock(builder, *else_field));
  } else {
    step.else_steps = std::make_shared<const Block>();
  }
  return Step(std::move(step));
}

Result<Step> parseParallel(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  if (items.size() < 2) return errorAt(context, field, "parallel needs at least two branches (each a list of steps)");
  if (items.size() > kMaxBranches) return errorAt(context, field, "at most 64 branches");
  if (!builder.sockets.empty()) {
    return errorAt(context, field, "parallel cannot run inside a websocket step: its branches would share the socket");
  }
  ParallelStep step;
  for (const Field& item : items) {
    if (!item.node.IsSequence()) return errorAt(context, item, "each branch is a list of steps");
    SCENARIO_ASSIGN_OR_RETURN(auto branch, parseBlock(builder, item));
    step.branches.push_back(std::move(branch));
  }
  return Step(std::move(step));
}

Result<Step> parseSet(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(context, field));
  if (map.entries().empty()) return errorAt(context, field, "needs at least one variable: {name: value}");
  SetStep step;
  for (const auto& entry : map.entries()) {
    SCENARIO_ASSIGN_OR_RETURN(const size_t variable, writeVariable(context, entry.second.atKey(), entry.first));
    SCENARIO_ASSIGN_OR_RETURN(Template value, readTemplate(context, entry.second));
    step.assignments.emplace_back(variable, std::move(value));
  }
  return Step(std::move(step));
}

}  // namespace

Result<std::shared_ptr<const Block>> parseBlock(Builder& builder, const Field& field) {
  auto block = std::make_shared<Block>();
  SCENARIO_ASSIGN_OR_RETURN(block->steps, parseSteps(builder, field, false));
  return std::shared_ptr<const Block>(std::move(block));
}

Result<Step> parseFlowStep(Builder& builder, const std::string& action, const Field& value, const Field& step) {
  Context& context = builder.context;
  if (action == "loop") return parseLoop(builder, value);
  if (action == "if") return parseIf(builder, value, step);
  if (action == "parallel") return parseParallel(builder, value);
  if (action == "set") return parseSet(builder, value);
  if (action == "feed") return parseFeed(builder, value);
  if (action == "publish" || action == "subscribe") return parsePubSub(builder, action, value);
  if (action == "grpc") return parseGrpcStep(builder, value);
  if (action == "websocket" || action == "send" || action == "receive" || action == "ping" || action == "close") {
    return parseSocketStep(builder, action, value);
  }
  SCENARIO_ASSIGN_OR_RETURN(const bool stop, readBool(context, value));
  if (!stop) return errorAt(context, value, "stopUser: true, or leave the step out");
  return Step(StopUserStep{});
}

}  // namespace herd::scenario::detail
