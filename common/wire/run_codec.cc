#include "common/wire/run_codec.h"

namespace herd::wire {

namespace {

// An agent runs exactly the C++ code the coordinator loaded: the same file, by
// its SHA-256, for every class.
Status sameLibraries(const v1::Scenario& s, const scenario::Plan& plan) {
  for (const auto& user_class : plan.classes) {
    if (!user_class.code) continue;
    const auto& code = *user_class.code;
    const auto it = s.code_sha256().find(user_class.name);
    const std::string expected = it == s.code_sha256().end() ? std::string("none") : it->second;
    if (expected != code.sha256) {
      return Error{code.field + ".library: " + code.path + " on this agent has SHA-256 " + code.sha256 +
                       ", the coordinator's has " + expected + ": run the same file everywhere",
                   code.place};
    }
  }
  return Ok{};
}

}  // namespace

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
  for (const auto& user_class : run.plan.classes) {
    if (user_class.code) (*s.mutable_code_sha256())[user_class.name] = user_class.code->sha256;
  }
  return s;
}

Result<scenario::CompiledRun> decodeRun(const v1::Scenario& s, bool load_code) {
  scenario::RunOverrides overrides;
  overrides.compile.params.insert(s.params().begin(), s.params().end());
  if (!s.target().empty()) overrides.compile.target = s.target();
  if (s.users() > 0) overrides.compile.users = s.users();
  if (s.spawn_rate() > 0) overrides.compile.spawn_rate = s.spawn_rate();
  if (s.duration_nanos() > 0) overrides.compile.duration = scenario::Duration(s.duration_nanos());
  // The coordinator always sends its grace; one that does not gets the default.
  if (s.grace_nanos() > 0) overrides.grace = scenario::Duration(s.grace_nanos());
  overrides.bind_code = load_code;
  auto run = scenario::compileRun(s.yaml(), s.source_name(), overrides);
  if (!run) return run;
  if (!load_code) return run;
  if (auto same = sameLibraries(s, run->plan); !same) return same.error();
  return run;
}

}  // namespace herd::wire
