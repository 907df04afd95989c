#include "common/scenario/yaml_field.h"

#include <algorithm>

#include "common/scenario/compiler.h"
#include "common/scenario/template.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

// A null value (`key:` with nothing after it) gets the mark of whatever follows it,
// often the next line; the key's mark is where the user should look.
YAML::Mark markOf(const YAML::Node& node, const YAML::Mark& fallback) {
  return node.IsNull() || node.Mark().is_null() ? fallback : node.Mark();
}

bool plainKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return quote(node.Scalar());
    default: return "nothing";
  }
}

Status spend(Context& context, const Field& field) {
  if (--context.budget < 0) {
    return errorAt(
        context, field,
        "scenario too large (more than " + std::to_string(kNodeBudget) + " YAML nodes once aliases are expanded)");
  }
  if (field.depth > kMaxDepth) {
    return errorAt(context, field,
                   "nested more than " + std::to_string(kMaxDepth) + " levels deep (an alias that contains itself?)");
  }
  return Ok{};
}

Error unknownKey(const Context& context, const Field& key_field, std::string_view key,
                 std::initializer_list<std::string_view> allowed) {
  const std::vector<std::string_view> names(allowed);
  std::string hint;
  if (const auto suggestion = closest(key, names)) hint = "did you mean " + quote(*suggestion) + "? ";
  return errorAt(context, key_field, "unknown key (" + hint + "allowed keys: " + join(names, ", ") + ")");
}

Result<MapView> readMapImpl(Context& context, const Field& field,
                            const std::initializer_list<std::string_view>* allowed) {
  SCENARIO_RETURN_IF_ERROR(spend(context, field));
  if (!field.node.IsMap()) {
    std::string expected = "expected a map";
    if (allowed != nullptr) expected += " with keys " + join(std::vector<std::string_view>(*allowed), ", ");
    return errorAt(context, field, expected + ", got " + describe(field.node));
  }
  MapView view;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    SCENARIO_RETURN_IF_ERROR(spend(context, field));
    if (!it->first.IsScalar()) {
      return errorAt(context, markOf(it->first, field.mark),
                     field.path + ": keys must be plain strings, got " + describe(it->first));
    }
    std::string key = it->first.Scalar();
    Field child = field.child(key, it->first, it->second);
    if (view.find(key) != nullptr) return errorAt(context, child.atKey(), "duplicate key");
    if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), key) == allowed->end()) {
      return unknownKey(context, child.atKey(), key, *allowed);
    }
    view.entries().emplace_back(std::move(key), std::move(child));
  }
  return view;
}

// Adds where a value came from when params changed it, so `-p users=abc` is traceable.
std::string withSource(std::string message, const std::string& raw, const std::string& resolved) {
  if (raw != resolved) message += " (written as " + quote(raw) + ")";
  return message;
}

}  // namespace

Field Field::child(std::string_view key, const YAML::Node& key_node, const YAML::Node& value) const {
  std::string child_path = path;
  if (plainKey(key)) {
    child_path += (path.empty() ? "" : ".") + std::string(key);
  } else {
    child_path += "[" + quote(key) + "]";
  }
  const YAML::Mark at_key = markOf(key_node, mark);
  return Field{value, std::move(child_path), markOf(value, at_key), depth + 1, at_key};
}

Field Field::item(size_t index, const YAML::Node& value) const {
  const YAML::Mark item_mark = markOf(value, mark);
  return Field{value, path + "[" + std::to_string(index) + "]", item_mark, depth + 1, item_mark};
}

Field rootField(const YAML::Node& root) {
  const YAML::Mark mark = root.Mark().is_null() ? YAML::Mark() : root.Mark();
  return Field{root, "", mark, 0, mark};
}

Error errorAt(const Context& context, const YAML::Mark& mark, std::string_view message) {
  std::string where = context.source;
  if (!mark.is_null()) {
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  return Error{std::string(message), std::move(where)};
}

Error errorAt(const Context& context, const Field& field, std::string_view message) {
  if (field.path.empty()) return errorAt(context, field.mark, message);
  return errorAt(context, field.mark, field.path + ": " + std::string(message));
}

const Field* MapView::find(std::string_view key) const {
  for (const auto& [name, field] : entries_) {
    if (name == key) return &field;
  }
  return nullptr;
}

Result<MapView> readMap(Context& context, const Field& field, std::initializer_list<std::string_view> allowed) {
  return readMapImpl(context, field, &allowed);
}

Result<MapView> readAnyMap(Context& context, const Field& field) { return readMapImpl(context, field, nullptr); }

Result<std::vector<Field>> readList(Context& context, const Field& field) {
  SCENARIO_RETURN_IF_ERROR(spend(context, field));
  if (!field.node.IsSequence()) return errorAt(context, field, "expected a list, got " + describe(field.node));
  std::vector<Field> items;
  size_t index = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
    SCENARIO_RETURN_IF_ERROR(spend(context, field));
    items.push_back(field.item(index, *it));
  }
  return items;
}

Result<Field> require(const Context& context, const Field& map_field, const MapView& map, std::string_view key,
                      std::string_view why) {
  if (const Field* found = map.find(key)) return *found;
  const std::string path = map_field.path.empty() ? std::string(key) : map_field.path + "." + std::string(key);
  std::string message = path + ": required" + (why.empty() ? "" : " (" + std::string(why) + ")");
  return errorAt(context, map_field.mark, message);
}

Result<std::string> readString(Context& context, const Field& field) {
  SCENARIO_RETURN_IF_ERROR(spend(context, field));
  if (!field.node.IsScalar()) return errorAt(context, field, "expected a string, got " + describe(field.node));
  return field.node.Scalar();
}

size_t Context::variable(std::string_view name) {
  const auto it = variable_index.find(name);
  if (it != variable_index.end()) return it->second;
  variables.emplace_back(name);
  variable_index.emplace(std::string(name), variables.size() - 1);
  return variables.size() - 1;
}

Result<size_t> readVariableName(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string name, readString(context, field));
  return writeVariable(context, field, name);
}

Result<size_t> writeVariable(Context& context, const Field& field, std::string_view name) {
  if (!isIdentifier(name)) {
    return errorAt(context, field,
                   "variable names are letters, digits and '_', not starting with a digit, got " + quote(name));
  }
  if (name == "params" || name == "user" || name == "random") {
    return errorAt(context, field, quote(name) + " is reserved in templates; choose another variable name");
  }
  context.written[std::string(name)] = true;
  return context.variable(name);
}

Status checkVariables(const Context& context) {
  for (const auto& [name, place] : context.first_read) {
    if (context.written.count(name) != 0) continue;
    std::vector<std::string_view> known;
    for (const auto& entry : context.written) known.push_back(entry.first);
    std::string message = place.second + ": unknown variable " + quote(name) +
                          " (variables are written by capture, set or loop over";
    if (const auto guess = closest(name, known)) message += "; did you mean " + quote(*guess) + "?";
    return errorAt(context, place.first, message + ")");
  }
  return Ok{};
}

Result<Template> readTemplate(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readString(context, field));
  const VariableIndex variable = [&](std::string_view name) -> std::optional<size_t> {
    context.first_read.try_emplace(std::string(name), field.mark, field.path);
    return context.variable(name);
  };
  auto compiled = compileTemplate(text, context.params, variable);
  if (!compiled) return errorAt(context, field, compiled.error().message);
  return std::move(compiled).value();
}

Result<std::string> readResolved(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const Template compiled, readTemplate(context, field));
  if (!compiled.isLiteral()) {
    return errorAt(context, field, "only {{params.NAME}} can be used here, not run-time expressions");
  }
  return compiled.parts.empty() ? std::string() : compiled.parts[0].literal;
}

Result<int64_t> readInteger(Context& context, const Field& field, int64_t min) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(context, field));
  const auto value = parseInt(text);
  if (!value) {
    return errorAt(context, field, withSource("expected an integer, got " + quote(text), field.node.Scalar(), text));
  }
  if (*value < min) {
    return errorAt(context, field,
                   withSource("must be at least " + std::to_string(min) + ", got " + text, field.node.Scalar(), text));
  }
  return *value;
}

Result<double> readPositive(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(context, field));
  const auto value = parseNumber(text);
  if (!value) {
    return errorAt(context, field, withSource("expected a number, got " + quote(text), field.node.Scalar(), text));
  }
  if (*value <= 0) {
    return errorAt(context, field, withSource("must be greater than 0, got " + text, field.node.Scalar(), text));
  }
  return *value;
}

Result<bool> readBool(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(context, field));
  if (text == "true") return true;
  if (text == "false") return false;
  return errorAt(context, field, withSource("expected true or false, got " + quote(text), field.node.Scalar(), text));
}

Result<double> readProbability(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(context, field));
  const bool percent = text.ends_with('%');
  auto value = parseNumber(percent ? std::string_view(text).substr(0, text.size() - 1) : std::string_view(text));
  if (value && percent) *value /= 100;
  if (!value || *value < 0 || *value > 1) {
    return errorAt(context, field,
                   withSource("expected a probability between 0 and 1 (or 0%-100%), got " + quote(text),
                              field.node.Scalar(), text));
  }
  return *value;
}

Result<Duration> readDuration(Context& context, const Field& field, bool allow_zero) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(context, field));
  auto duration = parseDuration(text);
  if (!duration) return errorAt(context, field, withSource(duration.error().message, field.node.Scalar(), text));
  if (!allow_zero && duration->count() == 0) {
    return errorAt(context, field, withSource("must be greater than 0, got " + quote(text), field.node.Scalar(), text));
  }
  return *duration;
}

}  // namespace herd::scenario::detail
