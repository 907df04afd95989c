// User classes: name, share of the users, onStart, and steps or weighted tasks.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

// Class names become metric tags, CSV cells and Prometheus labels, so they stay
// plain (the same rule k6 applies to scenario names).
bool validClassName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

Result<std::vector<Task>> parseTasks(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  if (items.empty()) return errorAt(context, field, "needs at least one task");
  std::vector<Task> tasks;
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, item, {"weight", "steps"}));
    Task task;
    if (const Field* weight = map.find("weight")) {
      SCENARIO_ASSIGN_OR_RETURN(task.weight, readPositive(context, *weight));
    }
    SCENARIO_ASSIGN_OR_RETURN(const Field steps, require(context, item, map, "steps"));
    SCENARIO_ASSIGN_OR_RETURN(task.steps, parseSteps(builder, steps, false));
    tasks.push_back(std::move(task));
  }
  return tasks;
}

// weight (a share of the users left after fixed counts) or count (a fixed number).
Status parseShare(Context& context, const MapView& map, UserClass& user_class) {
  const Field* weight = map.find("weight");
  const Field* count = map.find("count");
  if (weight != nullptr && count != nullptr) {
    return errorAt(context, count->atKey(), "give either weight or count, not both");
  }
  user_class.weight = 1;
  if (weight != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(user_class.weight, readPositive(context, *weight));
  } else if (count != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(user_class.count, readInteger(context, *count, 0));
    user_class.weight = 0;
  }
  return Ok{};
}

// `code: {origins: [URL, ...]}`: the origins a C++ class sends to besides the
// target, added to the plan's so that they are resolved (and probed) before the
// run, as a YAML request's absolute URL is.
Status parseCodeOrigins(Builder& builder, const Field& field, CodeClass& code) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(std::string url, readResolved(context, item));
    auto origin = parseOrigin(url);
    if (!origin) return errorAt(context, item, origin.error().message);
    code.origins.push_back({std::move(url), builder.origin(*origin)});
  }
  return Ok{};
}

// SHA-256 as `sha256sum` prints it: 64 hex digits (upper case taken, kept lower).
Result<std::string> readSha256(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(std::string text, readString(context, field));
  const bool hex = text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
                     return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                   });
  if (!hex) return errorAt(context, field, "a SHA-256 is 64 hex digits (sha256sum FILE), got " + quote(text));
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return text;
}

// `code: {library: FILE, class: NAME, sha256: HEX, origins: [URL, ...]}`: a C++
// class; the library is loaded by bindCode(), not here (the operator compiles
// scenarios whose library it never sees). `sha256` pins the file every process
// must load.
Status parseCode(Builder& builder, const Field& field, UserClass& user_class) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, field, {"library", "class", "sha256", "origins"}));
  SCENARIO_ASSIGN_OR_RETURN(const Field library,
                            require(context, field, map, "library", "a shared library, relative to the scenario"));
  SCENARIO_ASSIGN_OR_RETURN(const Field name, require(context, field, map, "class", "the C++ class's registered name"));
  CodeClass code;
  SCENARIO_ASSIGN_OR_RETURN(code.library, readResolved(context, library));
  SCENARIO_ASSIGN_OR_RETURN(code.class_name, readString(context, name));
  if (code.library.empty()) return errorAt(context, library, "needs a file name");
  std::filesystem::path path(code.library);
  if (path.is_relative()) path = std::filesystem::path(builder.plan.source_file).parent_path() / path;
  code.path = path.lexically_normal().string();
  // dlopen searches the library path for a name without '/'; the file is meant.
  if (code.path.find('/') == std::string::npos) code.path = "./" + code.path;
  code.place = errorAt(context, field.atKey().mark, "").where;
  code.field = field.path;
  code.http = builder.default_http;
  if (const Field* origins = map.find("origins")) SCENARIO_RETURN_IF_ERROR(parseCodeOrigins(builder, *origins, code));
  if (const Field* sha256 = map.find("sha256")) {
    SCENARIO_ASSIGN_OR_RETURN(code.pinned_sha256, readSha256(context, *sha256));
  }
  user_class.code = std::move(code);
  return Ok{};
}

Status parseBody(Builder& builder, const Field& field, const MapView& map, UserClass& user_class) {
  Context& context = builder.context;
  if (const Field* code = map.find("code")) {
    for (const char* key : {"onStart", "onStop", "steps", "tasks"}) {
      if (const Field* other = map.find(key)) {
        return errorAt(context, other->atKey(), "a class with code: takes no " + std::string(key));
      }
    }
    return parseCode(builder, *code, user_class);
  }
  if (const Field* on_start = map.find("onStart")) {
    SCENARIO_ASSIGN_OR_RETURN(user_class.on_start, parseSteps(builder, *on_start, true));
  }
  if (const Field* on_stop = map.find("onStop")) {
    SCENARIO_ASSIGN_OR_RETURN(user_class.on_stop, parseSteps(builder, *on_stop, true));
  }
  const Field* steps = map.find("steps");
  const Field* tasks = map.find("tasks");
  if (steps != nullptr && tasks != nullptr) {
    return errorAt(context, tasks->atKey(), "give either steps or tasks, not both");
  }
  if (steps != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(user_class.steps, parseSteps(builder, *steps, false));
  } else if (tasks != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(user_class.tasks, parseTasks(builder, *tasks));
  } else {
    return errorAt(context, field.mark, field.path + ".steps: required (or tasks: weighted groups of steps)");
  }
  return Ok{};
}

Result<UserClass> parseClass(Builder& builder, const Field& field, const std::vector<UserClass>& earlier) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(
      const MapView map,
      readMap(context, field, {"name", "weight", "count", "onStart", "onStop", "steps", "tasks", "code"}));
  UserClass user_class;
  SCENARIO_ASSIGN_OR_RETURN(const Field name, require(context, field, map, "name"));
  SCENARIO_ASSIGN_OR_RETURN(user_class.name, readString(context, name));
  if (!validClassName(user_class.name)) {
    return errorAt(context, name,
                   "invalid class name " + quote(user_class.name) + " (1-64 letters, digits, '_', '-' or '.')");
  }
  const bool duplicate = std::any_of(earlier.begin(), earlier.end(),
                                     [&](const UserClass& c) { return c.name == user_class.name; });
  if (duplicate) return errorAt(context, name, "duplicate class name " + quote(user_class.name));
  SCENARIO_RETURN_IF_ERROR(parseShare(context, map, user_class));
  SCENARIO_RETURN_IF_ERROR(parseBody(builder, field, map, user_class));
  return user_class;
}

}  // namespace

Result<std::vector<UserClass>> parseUsers(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  if (items.empty()) return errorAt(context, field, "needs at least one user class");
  if (items.size() > kMaxClasses) {
    return errorAt(context, field, "at most " + std::to_string(kMaxClasses) + " user classes");
  }
  std::vector<UserClass> classes;
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(UserClass user_class, parseClass(builder, item, classes));
    classes.push_back(std::move(user_class));
  }
  return classes;
}

}  // namespace herd::scenario::detail
