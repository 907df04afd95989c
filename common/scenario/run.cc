#include "common/scenario/run.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>

#include "common/scenario/code_library.h"
#include "common/scenario/schedule.h"

namespace herd::scenario {

namespace {

std::atomic<uint64_t> g_compiles{0};

// The scenario's thresholds (their expressions were checked where they stand in
// the file), then the front end's own, which are checked here.
Result<std::vector<Threshold>> runThresholds(const Plan& plan, const RunOverrides& overrides) {
  std::vector<Threshold> out;
  for (const auto& spec : plan.thresholds) {
    auto parsed = parseThreshold(spec.expression);
    if (!parsed) return Error{parsed.error().message, plan.source_file};
    parsed->abort_on_fail = spec.abort_on_fail;
    parsed->delay_seconds = std::chrono::duration<double>(spec.delay).count();
    out.push_back(std::move(*parsed));
  }
  const auto& field = overrides.compile.names.thresholds;
  for (size_t i = 0; i < overrides.extra_thresholds.size(); ++i) {
    auto parsed = parseThreshold(overrides.extra_thresholds[i]);
    if (!parsed) return Error{parsed.error().message, field + "[" + std::to_string(i) + "]"};
    out.push_back(std::move(*parsed));
  }
  return out;
}

// The agents asked for: a fixed count, else one per usersPerAgent users, else one.
Result<int64_t> requestedAgents(const CompiledRun& run, const RunOverrides& overrides) {
  const auto& field = overrides.compile.names.agents;
  int64_t agents = 1;
  if (overrides.agents) {
    agents = *overrides.agents;
  } else if (overrides.users_per_agent && *overrides.users_per_agent > 0) {
    agents = (run.total_users + *overrides.users_per_agent - 1) / *overrides.users_per_agent;
  }
  if (overrides.agents && (agents < 1 || agents > kMaxAgents)) {
    return Error{"expected 1 to " + std::to_string(kMaxAgents) + " agents, got " + std::to_string(agents), field};
  }
  return std::clamp<int64_t>(agents, 1, kMaxAgents);
}

// The open model deals each agent a share of the arrivals and of maxUsers; an
// agent with no user could start none of its arrivals.
Status checkOpenModelAgents(const CompiledRun& run, const RunOverrides& overrides) {
  const Load& load = run.plan.load;
  if (load.model != Load::Model::kOpen) return Ok{};
  const auto& field = overrides.compile.names.agents;
  if (run.agents > load.max_users) {
    return Error{"load.maxUsers: " + std::to_string(load.max_users) + " users cannot be spread over " +
                     std::to_string(run.agents) + " agents (" + field + "): each agent needs at least one",
                 run.plan.load_place};
  }
  if (overrides.open_model_max_agents && run.agents > *overrides.open_model_max_agents) {
    return Error{"load: the open model (arrival rates) runs on at most " +
                     std::to_string(*overrides.open_model_max_agents) + " agent(s) here; " + field + " asks for " +
                     std::to_string(run.agents),
                 run.plan.load_place};
  }
  return Ok{};
}

// The front end's grace, else the scenario's stop.grace, else the default;
// subscribers may listen on for the drain after the stop, so never less than it.
Result<Duration> runGrace(const Plan& plan, const RunOverrides& overrides) {
  if (overrides.grace && overrides.grace->count() < 0) {
    return Error{"must not be negative", overrides.compile.names.grace};
  }
  Duration grace = overrides.grace ? *overrides.grace : plan.stop_grace ? *plan.stop_grace : kDefaultGrace;
  return std::max<Duration>(grace, plan.drain + std::chrono::seconds(1));
}

}  // namespace

Result<LossPolicy> parseLossPolicy(std::string_view text) {
  if (text == "rebalance" || text == "Rebalance") return LossPolicy::kRebalance;
  if (text == "continue" || text == "Continue") return LossPolicy::kContinue;
  if (text == "abort" || text == "Abort") return LossPolicy::kAbort;
  return Error{"unknown agent-loss policy \"" + std::string(text) + "\" (expected rebalance, continue or abort)", ""};
}

std::string_view lossPolicyName(LossPolicy policy) {
  switch (policy) {
    case LossPolicy::kRebalance: return "rebalance";
    case LossPolicy::kContinue: return "continue";
    case LossPolicy::kAbort: return "abort";
  }
  return "?";
}

std::string_view lossPolicyTitle(LossPolicy policy) {
  switch (policy) {
    case LossPolicy::kRebalance: return "Rebalance";
    case LossPolicy::kContinue: return "Continue";
    case LossPolicy::kAbort: return "Abort";
  }
  return "?";
}

int64_t totalUsers(const Plan& plan) {
  if (plan.load.model == Load::Model::kOpen) return plan.load.max_users;
  return static_cast<int64_t>(closedSchedule(plan.load).size());
}

Result<CompiledRun> compileRun(std::string_view text, const std::string& source_name, const RunOverrides& overrides) {
  ++g_compiles;
  auto plan = compileString(text, source_name, overrides.compile);
  if (!plan) return plan.error();
  CompiledRun run;
  run.plan = std::move(*plan);
  if (overrides.bind_code) {
    if (auto bound = bindCode(run.plan); !bound) return bound.error();
  }
  auto thresholds = runThresholds(run.plan, overrides);
  if (!thresholds) return thresholds.error();
  run.thresholds = std::move(*thresholds);
  run.total_users = totalUsers(run.plan);
  auto agents = requestedAgents(run, overrides);
  if (!agents) return agents.error();
  run.agents = *agents;
  if (auto open = checkOpenModelAgents(run, overrides); !open) return open.error();
  auto grace = runGrace(run.plan, overrides);
  if (!grace) return grace.error();
  run.grace = *grace;
  run.loss_policy = overrides.loss_policy;
  return run;
}

Result<CompiledRun> compileRunFile(const std::string& path, const RunOverrides& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open the scenario file", path};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{"cannot read the scenario file", path};
  return compileRun(text.str(), path, overrides);
}

uint64_t compileRunCount() { return g_compiles.load(); }

}  // namespace herd::scenario
