#include "common/wire/run_codec.h"

#include "common/scenario/code_report.h"

namespace herd::wire {

namespace {

// What one message may carry (bounded: the bytes come from the network).
constexpr int kMaxCodeClasses = 1000;
constexpr int kMaxDeclared = 10000;  // endpoints or checks of one class
constexpr size_t kMaxNameBytes = 1024;

// An agent runs exactly the C++ code the coordinator names: the same file, by
// its SHA-256, for every class it sends a hash of (none: a coordinator that
// could not load the library checks the agents' Ready instead).
Status sameLibraries(const v1::Scenario& s, const scenario::Plan& plan) {
  for (const auto& user_class : plan.classes) {
    if (!user_class.code) continue;
    const auto& code = *user_class.code;
    const auto it = s.code_sha256().find(user_class.name);
    if (it == s.code_sha256().end() || it->second == code.sha256) continue;
    return Error{code.field + ".library: " + code.path + " on this agent has SHA-256 " + code.sha256 +
                     ", the coordinator's has " + it->second + ": run the same file everywhere",
                 code.place};
  }
  return Ok{};
}

bool tooLong(const std::string& text) { return text.size() > kMaxNameBytes; }

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
    if (!user_class.code) continue;
    // The file it loaded, else the one the scenario pins; else agents tell (Ready).
    const auto& code = *user_class.code;
    const auto& sha256 = code.sha256.empty() ? code.pinned_sha256 : code.sha256;
    if (!sha256.empty()) (*s.mutable_code_sha256())[user_class.name] = sha256;
  }
  return s;
}

void encodeCode(const scenario::Plan& plan, v1::Ready& out) {
  for (const auto& bound : scenario::boundClasses(plan)) {
    auto& c = *out.add_code();
    c.set_class_name(bound.class_name);
    c.set_sha256(bound.sha256);
    for (const auto& endpoint : bound.endpoints) {
      auto& e = *c.add_endpoints();
      e.set_name(endpoint.name);
      e.set_method(endpoint.method);
    }
    for (const auto& check : bound.checks) c.add_checks(check);
  }
}

Result<std::vector<scenario::BoundClass>> decodeCode(const v1::Ready& in) {
  if (in.code_size() > kMaxCodeClasses) return Error{"too many classes", "ready.code"};
  std::vector<scenario::BoundClass> out;
  for (int i = 0; i < in.code_size(); ++i) {
    const auto& c = in.code(i);
    const std::string where = "ready.code[" + std::to_string(i) + "]";
    if (c.endpoints_size() > kMaxDeclared || c.checks_size() > kMaxDeclared) {
      return Error{"too many endpoints or checks", where};
    }
    if (tooLong(c.class_name()) || tooLong(c.sha256())) return Error{"a name over 1 KiB", where};
    scenario::BoundClass bound{c.class_name(), c.sha256(), {}, {}};
    for (const auto& e : c.endpoints()) {
      if (tooLong(e.name()) || tooLong(e.method())) return Error{"an endpoint name over 1 KiB", where};
      bound.endpoints.push_back(scenario::Endpoint{e.name(), e.method()});
    }
    for (const auto& check : c.checks()) {
      if (tooLong(check)) return Error{"a check name over 1 KiB", where};
      bound.checks.push_back(check);
    }
    out.push_back(std::move(bound));
  }
  return out;
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
