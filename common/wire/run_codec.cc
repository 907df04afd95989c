#include "common/wire/run_codec.h"

namespace herd::wire {

v1::Scenario encodeRun(const std::string& text, const std::string& source_name,
                       const scenario::CompileOptions& overrides, const scenario::CompiledRun& run) {
  v1::Scenario s;
  s.set_source_name(source_name);
  s.set_yaml(text);
  for (const auto& [key, value] : overrides.params) (*s.mutable_params())[key] = value;
  if (overrides.target) s.set_target(*overrides.target);
  if (overrides.users) s.set_users(*overrides.users);
  if (overrides.spawn_rate) s.set_spawn_rate(*overrides.spawn_rate);
  if (overrides.duration) s.set_duration_nanos(overrides.duration->count());
  s.set_grace_nanos(run.grace.count());
  return s;
}

Result<scenario::CompiledRun> decodeRun(const v1::Scenario& s) {
  scenario::RunOverrides overrides;
  overrides.compile.params.insert(s.params().begin(), s.params().end());
  if (!s.target().empty()) overrides.compile.target = s.target();
  if (s.users() > 0) overrides.compile.users = s.users();
  if (s.spawn_rate() > 0) overrides.compile.spawn_rate = s.spawn_rate();
  if (s.duration_nanos() > 0) overrides.compile.duration = scenario::Duration(s.duration_nanos());
  // The coordinator always sends its grace; one that does not gets the default.
  if (s.grace_nanos() > 0) overrides.grace = scenario::Duration(s.grace_nanos());
  return scenario::compileRun(s.yaml(), s.source_name(), overrides);
}

}  // namespace herd::wire
