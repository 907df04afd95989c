#pragma once
// The LoadTest resource as the reconciler reads it: the spec parsed into plain
// values (pure, no I/O), and the derived quantities the reconciler decides on
// (how many agents, whether the spec asks for a new run). The schema and its
// validation live in crds/loadtest.yaml; this parser only trusts what that
// schema guarantees and still never throws on odd JSON.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/core/result.h"
#include "common/k8s/loadtest_api.h"
#include "common/k8s/resource.h"
#include "common/scenario/compiler.h"
#include "common/scenario/run.h"

namespace herd::controller {

using json = Json;

inline const k8s::Resource& kLoadTests = k8s::loadtest::kResource;

// Labels and annotations herd puts on (or reads from) objects.
inline constexpr const char* kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "herd-operator";
inline constexpr const char* kLabelLoadTest = "herd.dev/loadtest";
inline constexpr const char* kLabelRun = "herd.dev/run";
inline constexpr const char* kLabelAgentIndex = "herd.dev/agent-index";
using k8s::loadtest::kAnnotationRun;
using k8s::loadtest::kAnnotationStop;

using scenario::LossPolicy;

struct Schedule {
  std::string cron;
  std::string time_zone = "Etc/UTC";
  std::string concurrency_policy = "Forbid";  // Forbid | Allow | Replace
  bool suspend = false;
};

// spec.baseline: the run relative thresholds ("p95 < baseline * 1.10") compare with.
inline constexpr const char* kLatestPassing = "latestPassing";
struct BaselineRef {
  std::string run = kLatestPassing;  // a run id of the LoadTest's history, or latestPassing
  std::string load_test;             // another LoadTest of the namespace; empty: this one
};

struct LoadTestSpec {
  std::optional<std::string> inline_scenario;
  std::string config_map_name;  // when not inline
  std::string config_map_key = "scenario.yaml";
  scenario::CompileOptions overrides;  // target, params, load
  std::optional<int> agents;
  std::optional<int64_t> users_per_agent;
  LossPolicy loss_policy = LossPolicy::kRebalance;
  json agent_template = json::object();
  std::vector<std::string> thresholds;
  std::optional<Schedule> schedule;
  int history_limit = 10;
  std::optional<int64_t> ttl_seconds_after_finished;
  std::chrono::seconds agents_ready_timeout{300};
  std::optional<std::chrono::seconds> run_timeout;
  std::optional<double> max_p95_increase_percent;
  std::optional<double> max_rps_decrease_percent;
  std::optional<BaselineRef> baseline;
};

// Reads obj.spec. Errors name the field (spec.load.duration: ...).
Result<LoadTestSpec> parseSpec(const json& loadtest);

// The run definition's overrides from the spec (fields named as the spec names them).
scenario::RunOverrides runOverrides(const LoadTestSpec& spec);

// Agents for a run of `total_users` users (scenario::totalUsers): spec.agents,
// else ceil(users / usersPerAgent), else 1; never more than the users (an agent
// with no users would do nothing) and at least 1.
int desiredAgents(const LoadTestSpec& spec, int64_t total_users);

// A digest of the parts of the spec that define a run (scenario, target,
// params, load, thresholds, agent template, policies): when it changes, a new
// run starts. spec.agents is left out so `kubectl scale` rescales the running
// run instead of restarting it; schedule, history and TTL are bookkeeping.
std::string runDefinitionHash(const json& loadtest);

}  // namespace herd::controller
