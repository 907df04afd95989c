#include "operator/controller/loadtest.h"

#include <cmath>
#include <cstdio>

namespace herd::controller {

namespace {

using k8s::getObject;
using k8s::getString;

Result<std::chrono::seconds> seconds(const json& obj, const char* key, const char* path, std::chrono::seconds def) {
  auto text = getString(obj, key);
  if (text.empty()) return def;
  auto d = scenario::parseDuration(text);
  if (!d.ok()) return Error{d.error().message, path};
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Status parseLoad(const json& load, scenario::CompileOptions& out) {
  if (load.contains("users") && load["users"].is_number_integer()) out.users = load["users"].get<int64_t>();
  if (load.contains("spawnRate") && load["spawnRate"].is_number()) out.spawn_rate = load["spawnRate"].get<double>();
  auto duration = getString(load, "duration");
  if (!duration.empty()) {
    auto d = scenario::parseDuration(duration);
    if (!d.ok()) return Error{d.error().message, "spec.load.duration"};
    out.duration = *d;
  }
  return Ok{};
}

}  // namespace

scenario::RunOverrides runOverrides(const LoadTestSpec& spec) {
  scenario::RunOverrides out;
  out.compile = spec.overrides;
  out.extra_thresholds = spec.thresholds;
  if (spec.agents) out.agents = *spec.agents;
  out.users_per_agent = spec.users_per_agent;
  // The operator's agents run the open model on one agent (docs/operator.md).
  out.open_model_max_agents = 1;
  out.loss_policy = spec.loss_policy;
  // C++ classes' libraries are in the agents' image, not the operator's: their
  // endpoints and hashes come from the agents (docs/compiled-scenarios.md).
  out.bind_code = false;
  return out;
}

Result<LoadTestSpec> parseSpec(const json& loadtest) {
  const json& spec = getObject(loadtest, "spec");
  LoadTestSpec out;
  out.overrides.names = scenario::kLoadTestFields;
  const json& sc = getObject(spec, "scenario");
  if (sc.contains("inline") && sc["inline"].is_string()) {
    out.inline_scenario = sc["inline"].get<std::string>();
  } else {
    const json& ref = getObject(sc, "configMapRef");
    out.config_map_name = getString(ref, "name");
    out.config_map_key = getString(ref, "key", "scenario.yaml");
    if (out.config_map_name.empty()) return Error{"needs inline or configMapRef.name", "spec.scenario"};
  }
  auto target = getString(spec, "target");
  if (!target.empty()) out.overrides.target = target;
  for (auto& [k, v] : getObject(spec, "params").items())
    if (v.is_string()) out.overrides.params[k] = v.get<std::string>();
  if (auto s = parseLoad(getObject(spec, "load"), out.overrides); !s.ok()) return s.error();
  if (spec.contains("agents") && spec["agents"].is_number_integer()) out.agents = spec["agents"].get<int>();
  if (spec.contains("usersPerAgent") && spec["usersPerAgent"].is_number_integer())
    out.users_per_agent = spec["usersPerAgent"].get<int64_t>();
  auto policy = scenario::parseLossPolicy(getString(spec, "agentLossPolicy", "Rebalance"));
  if (!policy.ok()) return Error{policy.error().message, "spec.agentLossPolicy"};
  out.loss_policy = *policy;
  if (spec.contains("agentTemplate") && spec["agentTemplate"].is_object()) out.agent_template = spec["agentTemplate"];
  if (spec.contains("thresholds") && spec["thresholds"].is_array())
    for (const auto& t : spec["thresholds"])
      if (t.is_string()) out.thresholds.push_back(t.get<std::string>());
  const json& sched = getObject(spec, "schedule");
  if (!getString(sched, "cron").empty()) {
    Schedule s;
    s.cron = getString(sched, "cron");
    s.time_zone = getString(sched, "timeZone", "Etc/UTC");
    s.concurrency_policy = getString(sched, "concurrencyPolicy", "Forbid");
    s.suspend = sched.contains("suspend") && sched["suspend"].is_boolean() && sched["suspend"].get<bool>();
    out.schedule = s;
  }
  out.history_limit = static_cast<int>(k8s::getInt(spec, "historyLimit", 10));
  if (spec.contains("ttlSecondsAfterFinished") && spec["ttlSecondsAfterFinished"].is_number_integer())
    out.ttl_seconds_after_finished = spec["ttlSecondsAfterFinished"].get<int64_t>();
  const json& timeouts = getObject(spec, "timeouts");
  auto ready = seconds(timeouts, "agentsReady", "spec.timeouts.agentsReady", std::chrono::seconds(300));
  if (!ready.ok()) return ready.error();
  out.agents_ready_timeout = *ready;
  if (!getString(timeouts, "run").empty()) {
    auto run = seconds(timeouts, "run", "spec.timeouts.run", {});
    if (!run.ok()) return run.error();
    out.run_timeout = *run;
  }
  const json& regression = getObject(spec, "regression");
  if (regression.contains("maxP95IncreasePercent") && regression["maxP95IncreasePercent"].is_number())
    out.max_p95_increase_percent = regression["maxP95IncreasePercent"].get<double>();
  if (regression.contains("maxRpsDecreasePercent") && regression["maxRpsDecreasePercent"].is_number())
    out.max_rps_decrease_percent = regression["maxRpsDecreasePercent"].get<double>();
  if (spec.contains("baseline") && spec["baseline"].is_object()) {
    const json& baseline = spec["baseline"];
    out.baseline = BaselineRef{getString(baseline, "run", kLatestPassing), getString(baseline, "loadTest")};
  }
  return out;
}

int desiredAgents(const LoadTestSpec& spec, int64_t total_users) {
  int64_t n = 1;
  if (spec.agents) {
    n = *spec.agents;
  } else if (spec.users_per_agent && *spec.users_per_agent > 0) {
    n = (total_users + *spec.users_per_agent - 1) / *spec.users_per_agent;
  }
  if (total_users > 0 && n > total_users) n = total_users;
  return static_cast<int>(n < 1 ? 1 : n);
}

std::string runDefinitionHash(const json& loadtest) {
  json spec = getObject(loadtest, "spec");
  for (const char* k : {"agents", "usersPerAgent", "schedule", "historyLimit", "ttlSecondsAfterFinished"})
    spec.erase(k);
  // FNV-1a over nlohmann's canonical dump (object keys sorted): stable across
  // processes and versions of herd, which a restarted operator relies on.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : spec.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace herd::controller
