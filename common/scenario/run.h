#pragma once
// A run's definition: the scenario compiled with a front end's overrides into
// everything a run is decided from, once. `herd run`, `herd coordinator` and the
// operator all call compileRun(), so the run-level rules (thresholds, grace, loss
// policy, how many agents a run may have) are checked in one place, with one
// wording; the field names in the errors are the front end's (FieldNames).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/compiler.h"
#include "common/scenario/plan.h"
#include "common/scenario/threshold_expression.h"

namespace herd::scenario {

// What a coordinator does when an agent is lost mid-run.
enum class LossPolicy { kRebalance, kContinue, kAbort };
// "rebalance" or "Rebalance" (the command line's and the LoadTest's spelling).
Result<LossPolicy> parseLossPolicy(std::string_view text);
std::string_view lossPolicyName(LossPolicy policy);   // "rebalance": flags, summary
std::string_view lossPolicyTitle(LossPolicy policy);  // "Rebalance": LoadTest spec and status

// The most agents a run may have (the LoadTest schema's limit on spec.agents).
inline constexpr int64_t kMaxAgents = 1000;
// The grace when neither the front end nor the scenario's stop.grace gives one.
inline constexpr Duration kDefaultGrace = std::chrono::seconds(30);

struct RunOverrides {
  CompileOptions compile;                     // params, target, load; compile.names names the fields
  std::vector<std::string> extra_thresholds;  // on top of the scenario's (spec.thresholds)
  std::optional<int64_t> agents;              // a fixed count (--expect-agents, spec.agents)
  std::optional<int64_t> users_per_agent;     // without `agents`: ceil(users / this) agents
  // The operator runs the open model on at most this many agents (docs/operator.md).
  std::optional<int64_t> open_model_max_agents;
  LossPolicy loss_policy = LossPolicy::kRebalance;
  std::optional<Duration> grace;  // --grace; else stop.grace, else kDefaultGrace
  // Load the C++ classes' libraries (bindCode(), code_library.h). Off where no
  // user runs (the operator checks a LoadTest without its agents' image).
  bool bind_code = true;
};

struct CompiledRun {
  Plan plan;
  std::vector<Threshold> thresholds;  // the scenario's, then the extra ones
  int64_t total_users = 0;            // totalUsers(plan): what agents are sized by and the split divides
  int64_t agents = 1;                 // requested, before a front end caps it (desiredAgents)
  Duration grace{};                   // in-flight time after the stop, at least the drain + 1 s
  LossPolicy loss_policy = LossPolicy::kRebalance;
};

// The users a run numbers 0..N-1: the closed model's schedule slots (a ramp that
// falls and rises again starts new users), the open model's maxUsers.
int64_t totalUsers(const Plan& plan);

Result<CompiledRun> compileRun(std::string_view text, const std::string& source_name, const RunOverrides& overrides);
Result<CompiledRun> compileRunFile(const std::string& path, const RunOverrides& overrides);

// How many times compileRun() ran in this process (tests count compiles per run).
uint64_t compileRunCount();

}  // namespace herd::scenario
