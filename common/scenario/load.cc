// `load:`: how many users and for how long — the simple closed model (users,
// spawnRate, duration), closed stages, step doubling, and the open model
// (arrivalRate or stages of rates, maxUsers) — with the command-line overrides.
#include <cmath>

#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

constexpr int64_t kDefaultMaxUsers = 1000;
constexpr size_t kMaxSteps = 64;  // step doubling: far beyond any useful run

std::string tooManyUsers(int64_t users) {
  return "at most " + std::to_string(kMaxUsers) + " users, got " + std::to_string(users);
}

// A count of users from the file: at least `min`, at most kMaxUsers.
Result<int64_t> readUsers(Context& context, const Field& field, int64_t min) {
  SCENARIO_ASSIGN_OR_RETURN(const int64_t users, readInteger(context, field, min));
  if (users > kMaxUsers) return errorAt(context, field, tooManyUsers(users));
  return users;
}

// The simple closed model: users, spawnRate, duration.
Status parseSimple(Context& context, const MapView& map, Load& load, bool& has_users, bool& has_spawn_rate,
                   bool& has_duration) {
  if (const Field* users = map.find("users")) {
    SCENARIO_ASSIGN_OR_RETURN(load.users, readUsers(context, *users, 1));
    has_users = true;
  }
  if (const Field* rate = map.find("spawnRate")) {
    SCENARIO_ASSIGN_OR_RETURN(load.spawn_rate, readPositive(context, *rate));
    has_spawn_rate = true;
  }
  if (const Field* duration = map.find("duration")) {
    SCENARIO_ASSIGN_OR_RETURN(load.duration, readDuration(context, *duration, false));
    has_duration = true;
  }
  return Ok{};
}

// The keys of `map` that may not go with `shape`, named in the error.
Status onlyWith(Context& context, const MapView& map, std::string_view shape,
                std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : map.entries()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return errorAt(context, value.atKey(),
                     key + " does not go with " + std::string(shape) +
                         " (with it: " + join(std::vector<std::string_view>(allowed), ", ") + ")");
    }
  }
  return Ok{};
}

Result<Stage> parseStage(Context& context, const Field& item, bool& open, bool first) {
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, item, {"duration", "users", "rate"}));
  Stage stage;
  SCENARIO_ASSIGN_OR_RETURN(const Field duration, require(context, item, map, "duration"));
  SCENARIO_ASSIGN_OR_RETURN(stage.duration, readDuration(context, duration, true));
  const Field* users = map.find("users");
  const Field* rate = map.find("rate");
  if ((users != nullptr) == (rate != nullptr)) {
    return errorAt(context, item, "a stage has users (closed model) or rate (open model, iterations per second)");
  }
  if (!first && open != (rate != nullptr)) {
    return errorAt(context, (users != nullptr ? users : rate)->atKey(), "stages are all users or all rate, not a mix");
  }
  open = rate != nullptr;
  if (users != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(const int64_t n, readUsers(context, *users, 0));
    stage.target = static_cast<double>(n);
  } else {
    SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(context, *rate));
    const auto value = parseNumber(text);
    if (!value || *value < 0)
      return errorAt(context, *rate, "expected a rate >= 0 (iterations per second), got " + quote(text));
    stage.target = *value;
  }
  return stage;
}

Result<int64_t> readMaxUsers(Context& context, const MapView& map) {
  const Field* max = map.find("maxUsers");
  if (max == nullptr) return kDefaultMaxUsers;
  return readUsers(context, *max, 1);
}

Status parseStages(Context& context, const Field& field, const MapView& map, Load& load) {
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  if (items.empty()) return errorAt(context, field, "needs at least one stage");
  bool open = false;
  for (size_t i = 0; i < items.size(); ++i) {
    SCENARIO_ASSIGN_OR_RETURN(Stage stage, parseStage(context, items[i], open, i == 0));
    load.duration += stage.duration;
    load.stages.push_back(stage);
  }
  if (load.duration.count() == 0) return errorAt(context, field, "the stages last 0s in all");
  if (open) {
    SCENARIO_RETURN_IF_ERROR(onlyWith(context, map, "stages of rates", {"stages", "arrivalRate", "maxUsers"}));
    load.model = Load::Model::kOpen;
    if (const Field* start = map.find("arrivalRate")) {
      SCENARIO_ASSIGN_OR_RETURN(load.start_rate, readPositive(context, *start));
    }
    SCENARIO_ASSIGN_OR_RETURN(load.max_users, readMaxUsers(context, map));
    load.users = load.max_users;
    return Ok{};
  }
  SCENARIO_RETURN_IF_ERROR(onlyWith(context, map, "stages of users", {"stages"}));
  load.users = 1;
  for (const auto& stage : load.stages) load.users = std::max(load.users, static_cast<int64_t>(stage.target));
  return Ok{};
}

// "Double it until it breaks": start users, times factor per step up to max, each
// step held for `hold`; users are added at spawnRate (at once without it).
Status parseStepDoubling(Context& context, const Field& field, const MapView& map, Load& load) {
  SCENARIO_RETURN_IF_ERROR(onlyWith(context, map, "stepDoubling", {"stepDoubling", "spawnRate"}));
  SCENARIO_ASSIGN_OR_RETURN(const MapView steps, readMap(context, field, {"start", "factor", "max", "hold"}));
  SCENARIO_ASSIGN_OR_RETURN(const Field start_field,
                            require(context, field, steps, "start", "users in the first step"));
  SCENARIO_ASSIGN_OR_RETURN(const int64_t start, readInteger(context, start_field, 1));
  SCENARIO_ASSIGN_OR_RETURN(const Field max_field,
                            require(context, field, steps, "max", "the most users a step may have"));
  SCENARIO_ASSIGN_OR_RETURN(const int64_t max, readUsers(context, max_field, 1));
  if (max < start)
    return errorAt(context, max_field, "max " + std::to_string(max) + " is below start " + std::to_string(start));
  SCENARIO_ASSIGN_OR_RETURN(const Field hold_field, require(context, field, steps, "hold", "how long each step lasts"));
  SCENARIO_ASSIGN_OR_RETURN(const Duration hold, readDuration(context, hold_field, false));
  double factor = 2;
  if (const Field* factor_field = steps.find("factor")) {
    SCENARIO_ASSIGN_OR_RETURN(factor, readPositive(context, *factor_field));
    if (factor <= 1) return errorAt(context, *factor_field, "factor must be greater than 1");
  }
  double spawn_rate = 0;  // 0: at once
  if (const Field* rate = map.find("spawnRate")) {
    SCENARIO_ASSIGN_OR_RETURN(spawn_rate, readPositive(context, *rate));
  }
  double users = static_cast<double>(start);
  double previous = 0;
  while (users <= static_cast<double>(max) + 1e-9) {
    if (load.stages.size() / 2 >= kMaxSteps)
      return errorAt(context, field, "more than 64 steps; raise factor or lower max");
    const auto ramp = spawn_rate > 0 ? Duration(static_cast<int64_t>((users - previous) / spawn_rate * 1e9))
                                     : Duration(0);
    load.stages.push_back(Stage{ramp, users});
    load.stages.push_back(Stage{hold, users});
    load.duration += ramp + hold;
    previous = users;
    const double next = std::floor(users * factor);
    users = next > users ? next : users + 1;
  }
  load.users = static_cast<int64_t>(previous);
  return Ok{};
}

Status parseArrivalRate(Context& context, const Field& rate, const MapView& map, Load& load) {
  SCENARIO_RETURN_IF_ERROR(onlyWith(context, map, "arrivalRate", {"arrivalRate", "duration", "maxUsers"}));
  double value = 0;
  SCENARIO_ASSIGN_OR_RETURN(value, readPositive(context, rate));
  load.model = Load::Model::kOpen;
  load.start_rate = value;
  if (const Field* duration = map.find("duration")) {
    SCENARIO_ASSIGN_OR_RETURN(load.duration, readDuration(context, *duration, false));
    load.stages.push_back(Stage{load.duration, value});
  }
  SCENARIO_ASSIGN_OR_RETURN(load.max_users, readMaxUsers(context, map));
  load.users = load.max_users;
  return Ok{};
}

// Flags on top of a load shape: --duration sets the run's length (the last
// stage's target holds beyond its end); the others belong to the simple model.
Status applyShapeFlags(Load& load, const CompileOptions& options) {
  const FieldNames& names = options.names;
  if (options.users) return Error{"does not apply to load stages, step doubling or an arrival rate", names.users};
  if (options.spawn_rate)
    return Error{"does not apply to load stages, step doubling or an arrival rate", names.spawn_rate};
  if (options.duration) {
    if (options.duration->count() <= 0) return Error{"must be greater than 0", names.duration};
    load.duration = *options.duration;
  }
  return Ok{};
}

Status applySimpleFlags(Load& load, const CompileOptions& options, bool& has_users, bool& has_spawn_rate,
                        bool& has_duration) {
  const FieldNames& names = options.names;
  if (options.users) {
    if (*options.users < 1) return Error{"must be at least 1, got " + std::to_string(*options.users), names.users};
    if (*options.users > kMaxUsers) return Error{tooManyUsers(*options.users), names.users};
    load.users = *options.users;
    has_users = true;
  }
  if (options.spawn_rate) {
    if (!(std::isfinite(*options.spawn_rate) && *options.spawn_rate > 0)) {
      return Error{"must be greater than 0", names.spawn_rate};
    }
    load.spawn_rate = *options.spawn_rate;
    has_spawn_rate = true;
  }
  if (options.duration) {
    if (options.duration->count() <= 0) return Error{"must be greater than 0", names.duration};
    load.duration = *options.duration;
    has_duration = true;
  }
  return Ok{};
}

// A load shape (stages, stepDoubling, arrivalRate); false in `found` when the
// block is the simple model.
Status parseShape(Context& context, const Field& field, const MapView& map, Load& load, bool& found) {
  found = true;
  if (const Field* stages = map.find("stages")) return parseStages(context, *stages, map, load);
  if (const Field* steps = map.find("stepDoubling")) return parseStepDoubling(context, *steps, map, load);
  if (const Field* rate = map.find("arrivalRate")) {
    SCENARIO_RETURN_IF_ERROR(parseArrivalRate(context, *rate, map, load));
    if (load.stages.empty()) return errorAt(context, field.mark, "load.duration: required with arrivalRate (e.g. 1m)");
    return Ok{};
  }
  if (const Field* max = map.find("maxUsers")) {
    return errorAt(context, max->atKey(), "maxUsers goes with arrivalRate or stages of rates (the open model)");
  }
  found = false;
  return Ok{};
}

}  // namespace

Status parseLoad(Builder& builder, const Field& root_field, const MapView& root, const CompileOptions& options) {
  Context& context = builder.context;
  Load& load = builder.plan.load;
  bool has_users = false;
  bool has_spawn_rate = false;
  bool has_duration = false;
  const Field* field = root.find("load");
  builder.plan.load_place = errorAt(context, field != nullptr ? field->mark : root_field.mark, "").where;
  if (field != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, *field,
                                                         {"users", "spawnRate", "duration", "stages", "stepDoubling",
                                                          "arrivalRate", "maxUsers"}));
    bool shape = false;
    SCENARIO_RETURN_IF_ERROR(parseShape(context, *field, map, load, shape));
    if (shape) return applyShapeFlags(load, options);
    SCENARIO_RETURN_IF_ERROR(parseSimple(context, map, load, has_users, has_spawn_rate, has_duration));
  }
  SCENARIO_RETURN_IF_ERROR(applySimpleFlags(load, options, has_users, has_spawn_rate, has_duration));
  // A missing key is reported at the load block, or at the top when there is none.
  const YAML::Mark place = field != nullptr ? field->mark : root_field.mark;
  if (!has_users && !has_duration && field == nullptr) {
    return errorAt(context, place, "load: required (users and duration, or --users and --duration)");
  }
  if (!has_users) return errorAt(context, place, "load.users: required (how many users, or --users)");
  if (!has_duration) return errorAt(context, place, "load.duration: required (e.g. 1m, or --duration)");
  if (!has_spawn_rate) load.spawn_rate = static_cast<double>(load.users);  // all users within a second
  return Ok{};
}

}  // namespace herd::scenario::detail
