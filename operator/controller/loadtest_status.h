#pragma once
// The LoadTest's status (crds/loadtest.yaml, docs/crd.md) as one typed value:
// its phases, verdicts and condition types are named here once, and read from the
// object's JSON here once, for the reconciler's decisions and the operator's
// metrics alike. Fields the reconciler does not decide on (totals, endpoints,
// history, ...) stay JSON.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

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

enum class Condition { kValidated, kAgentsReady, kRunning, kComplete, kThresholdsPassed, kDegraded, kTotalsComplete };
constexpr const char* conditionName(Condition condition) {
  switch (condition) {
    case Condition::kValidated: return "Validated";
    case Condition::kAgentsReady: return "AgentsReady";
    case Condition::kRunning: return "Running";
    case Condition::kComplete: return "Complete";
    case Condition::kThresholdsPassed: return "ThresholdsPassed";
    case Condition::kDegraded: return "Degraded";
    case Condition::kTotalsComplete: return "TotalsComplete";
  }
  return "";
}

// What the reconciler reads back from a status: the current run and what it was
// started from. Absent fields read as empty or zero.
struct LoadTestStatus {
  Phase phase = Phase::kNone;
  std::string verdict, reason, message;
  std::string run_id, run_hash, run_trigger, run_reason;
  std::string start_time, completion_time, last_schedule_time;
  int64_t users = 0;  // running now; the peak once ended
  struct Plan {
    std::string scenario_source, scenario_sha256, duration;
    int64_t users = 0;
  } plan;
  struct Agents {
    int64_t desired = 0, ready = 0, connected = 0;
  } agents;
  double rps = 0, p95_ms = 0;
  int64_t requests = 0, failures = 0;
  std::string scale_refused;
  bool cleaned_up = false;

  static LoadTestStatus fromJson(const nlohmann::json& status);
  // The condition's status, nullopt when the status has no such condition.
  static std::optional<bool> condition(const nlohmann::json& status, Condition type);
};

}  // namespace herd::controller
