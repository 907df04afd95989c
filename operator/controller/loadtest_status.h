#pragma once
// The LoadTest's status (crds/loadtest.yaml, docs/crd.md) as one typed value:
// its phases, verdicts and condition types are named here once, and read from the
// object's JSON here once (both ways), for the reconciler's decisions and writes
// and the operator's metrics alike.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/json.h"
#include "common/report/latency_buckets.h"

namespace herd::controller {

enum class Phase { kNone, kPending, kStarting, kRunning, kStopping, kSucceeded, kFailed };
// Every phase a status may show, in the order a run goes through them.
inline constexpr std::array<Phase, 6> kPhases = {Phase::kPending,  Phase::kStarting,  Phase::kRunning,
                                                 Phase::kStopping, Phase::kSucceeded, Phase::kFailed};
constexpr const char* phaseName(Phase phase) {  // "" for kNone
  switch (phase) {
    case Phase::kNone: return "";
    case Phase::kPending: return "Pending";
    case Phase::kStarting: return "Starting";
    case Phase::kRunning: return "Running";
    case Phase::kStopping: return "Stopping";
    case Phase::kSucceeded: return "Succeeded";
    case Phase::kFailed: return "Failed";
  }
  return "";
}
Phase parsePhase(std::string_view name);  // kNone when unknown or empty
// Pending, Starting, Running or Stopping: a run is (or is about to be) going.
bool isLive(Phase phase);

// How a finished run went.
inline constexpr std::array<const char*, 3> kVerdicts = {"Passed", "Failed", "Aborted"};

enum class Condition {
  kValidated,
  kAgentsReady,
  kRunning,
  kComplete,
  kThresholdsPassed,
  kDegraded,
  kTotalsComplete,
  kBaselineFound
};
constexpr const char* conditionName(Condition condition) {
  switch (condition) {
    case Condition::kValidated: return "Validated";
    case Condition::kAgentsReady: return "AgentsReady";
    case Condition::kRunning: return "Running";
    case Condition::kComplete: return "Complete";
    case Condition::kThresholdsPassed: return "ThresholdsPassed";
    case Condition::kDegraded: return "Degraded";
    case Condition::kTotalsComplete: return "TotalsComplete";
    case Condition::kBaselineFound: return "BaselineFound";
  }
  return "";
}

// One entry of status.conditions, as Kubernetes conditions go.
struct StatusCondition {
  std::string type, status, reason, message, last_transition_time;
  int64_t observed_generation = 0;
};

// status.totals: the run's counters (RunTotals in the status's units).
struct StatusTotals {
  int64_t requests = 0, failures = 0;
  double rps = 0, failure_percent = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
};

// One entry of status.thresholds: how a threshold of the finished run went.
struct StatusThreshold {
  std::string expression;
  bool passed = false;
  double value = 0;
  // A bound relative to the baseline run ("p95 < baseline * 1.10"): that run's
  // value of the measure, its id, and the bound it gave.
  std::optional<double> baseline{}, bound{};
  std::string baseline_run{};
  std::string skipped{};  // why a relative threshold was not judged (reason NoBaseline)
};

// status.baseline: the run the current run's relative thresholds compare with,
// chosen when the run started (spec.baseline) and kept, so an operator that
// takes the run over reads the same one.
struct StatusBaseline {
  std::string load_test;  // the LoadTest whose history holds the run
  std::string run_id;     // empty when none was found
  std::string source;     // where its numbers came from: "configmap/NAME" or "history"
  std::string message;    // why there is none, when there is none
};

// The whole status, read and written through this one mapping (fromJson/toJson).
// A field the object lacks reads as empty (string), nullopt (optional) or null
// (json) and is left out when written, so a status goes back as it came.
// Fields the reconciler keeps but never decides on (endpoints, delivery, the
// history's entries) stay JSON.
struct LoadTestStatus {
  std::optional<int64_t> observed_generation;
  Phase phase = Phase::kNone;
  std::string verdict, reason, message;
  std::string run_id, run_hash, run_trigger, run_reason, selector;
  std::optional<int64_t> run_generation;
  std::string start_time, completion_time, last_schedule_time, next_schedule_time;
  std::optional<int64_t> users;  // running now; the peak once ended
  struct Plan {
    std::string scenario_source, scenario_sha256, duration;
    int64_t users = 0;
  };
  std::optional<Plan> plan;  // what the current run was started from
  struct Agents {
    int64_t desired = 0, ready = 0, connected = 0;
  };
  std::optional<Agents> agents;
  std::optional<StatusTotals> totals;
  std::optional<report::LatencyBuckets> latency_histogram;  // status.latencyHistogram
  std::optional<std::vector<std::string>> lost_agents;      // agent pod names
  std::string scale_refused, summary_config_map;
  std::optional<std::vector<StatusThreshold>> thresholds;
  std::optional<StatusBaseline> baseline;
  Json endpoints, delivery;  // arrays (builders.h), null when absent
  Json history;              // newest run first, null when absent
  std::optional<bool> cleaned_up;
  std::vector<StatusCondition> conditions;

  static LoadTestStatus fromJson(const Json& status);
  Json toJson() const;

  // The condition's status, nullopt when the status has no such condition.
  std::optional<bool> condition(Condition type) const;
  static std::optional<bool> condition(const Json& status, Condition type);
  // Sets the condition; its lastTransitionTime changes only when its status
  // does. True when the status changed.
  bool setCondition(Condition type, bool value, const std::string& why, const std::string& detail, int64_t generation,
                    const std::string& now);
  bool setCondition(const std::string& type, bool value, const std::string& why, const std::string& detail,
                    int64_t generation, const std::string& now);

  int64_t usersOr0() const { return users.value_or(0); }
  int64_t desiredAgents() const { return agents ? agents->desired : 0; }
  bool cleanedUp() const { return cleaned_up.value_or(false); }
};

Json toJson(const StatusTotals& totals);
StatusTotals totalsFromJson(const Json& totals);
// One entry of status.thresholds (and of a history entry's thresholds).
Json toJson(const StatusThreshold& threshold);
StatusThreshold thresholdFromJson(const Json& threshold);

}  // namespace herd::controller
