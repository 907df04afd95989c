#pragma once
// Internal to the scenario compiler: typed, strict reading of yaml-cpp nodes with
// their place (file:line:col and field path) attached to every error. This folder
// is the only one that includes yaml-cpp.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/plan.h"

// Result plumbing: `SCENARIO_ASSIGN_OR_RETURN(auto x, f());` and
// `SCENARIO_RETURN_IF_ERROR(g());` return the Error to the caller, like absl's macros.
#define SCENARIO_CONCAT_INNER(a, b) a##b
#define SCENARIO_CONCAT(a, b) SCENARIO_CONCAT_INNER(a, b)
#define SCENARIO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.error();                   \
  lhs = std::move(tmp).value()
#define SCENARIO_ASSIGN_OR_RETURN(lhs, expr) \
  SCENARIO_ASSIGN_OR_RETURN_IMPL(SCENARIO_CONCAT(scenario_result_, __LINE__), lhs, expr)
#define SCENARIO_RETURN_IF_ERROR(expr)                           \
  do {                                                           \
    auto scenario_status_ = (expr);                              \
    if (!scenario_status_.ok()) return scenario_status_.error(); \
  } while (false)

namespace herd::scenario::detail {

// Aliases let a small file describe an exponentially large tree (and even a cycle),
// so every visit is counted and nesting is bounded.
constexpr int64_t kNodeBudget = 200'000;  // a large hand-written scenario has ~10k
constexpr int kMaxDepth = 64;

// What one compilation shares.
struct Context {
  std::string source;                         // file name, for `where`
  std::map<std::string, std::string> params;  // the file's params with overrides applied
  int64_t budget = kNodeBudget;               // node visits left

  // User variables, numbered on first mention. A variable read in a template
  // must be written somewhere (capture, set, loop over); checked once the whole
  // file is read, because a read may come before the write in file order.
  std::vector<std::string> variables;
  std::map<std::string, size_t, std::less<>> variable_index;
  std::map<std::string, std::pair<YAML::Mark, std::string>, std::less<>> first_read;  // mark, path
  std::map<std::string, bool, std::less<>> written;
  size_t variable(std::string_view name);
};

// A node and its place: the field path for messages ("users[0].steps[2].think") and
// the mark errors point at.
struct Field {
  YAML::Node node;
  std::string path;
  YAML::Mark mark;
  int depth = 0;
  YAML::Mark key_mark;  // a map entry's key (its own mark for list items), for errors about the key

  Field atKey() const { return Field{node, path, key_mark, depth, key_mark}; }

  Field child(std::string_view key, const YAML::Node& key_node, const YAML::Node& value) const;
  Field item(size_t index, const YAML::Node& value) const;
};

Field rootField(const YAML::Node& root);

// "PATH: message" at FILE:LINE:COL.
Error errorAt(const Context& context, const Field& field, std::string_view message);
Error errorAt(const Context& context, const YAML::Mark& mark, std::string_view message);

// A mapping's entries in file order, keys checked.
class MapView {
 public:
  const Field* find(std::string_view key) const;
  const std::vector<std::pair<std::string, Field>>& entries() const { return entries_; }
  std::vector<std::pair<std::string, Field>>& entries() { return entries_; }

 private:
  std::vector<std::pair<std::string, Field>> entries_;
};

// A mapping whose keys must all be in `allowed` (unknown keys are errors that list
// the allowed ones). Duplicate keys are errors too.
Result<MapView> readMap(Context& context, const Field& field, std::initializer_list<std::string_view> allowed);
// A mapping with free-form string keys (params, headers, json objects).
Result<MapView> readAnyMap(Context& context, const Field& field);
Result<std::vector<Field>> readList(Context& context, const Field& field);
// A required key; the error points at the mapping that lacks it.
Result<Field> require(const Context& context, const Field& map_field, const MapView& map, std::string_view key,
                      std::string_view why = {});

// A scalar exactly as written.
Result<std::string> readString(Context& context, const Field& field);
// A scalar with {{params.NAME}} substituted; other expressions are errors.
Result<std::string> readResolved(Context& context, const Field& field);
Result<Template> readTemplate(Context& context, const Field& field);
// A variable name that this field writes (capture target, set, loop over `as`).
Result<size_t> readVariableName(Context& context, const Field& field);
Result<size_t> writeVariable(Context& context, const Field& place, std::string_view name);
// Every variable read is written somewhere; else an error at its first read.
Status checkVariables(const Context& context);
Result<int64_t> readInteger(Context& context, const Field& field, int64_t min);
Result<double> readPositive(Context& context, const Field& field);
Result<bool> readBool(Context& context, const Field& field);
// A number in [0, 1] ("0.3") or a percentage ("30%").
Result<double> readProbability(Context& context, const Field& field);
Result<Duration> readDuration(Context& context, const Field& field, bool allow_zero);

}  // namespace herd::scenario::detail
