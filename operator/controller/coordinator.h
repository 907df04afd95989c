#pragma once
// The coordinator seen from the reconciler: what the LoadTest reconciler needs
// from whatever runs a distributed run (docs/design.md). The reconciler owns the
// Kubernetes side (pods, Secret, status); the coordinator owns the run itself
// (ready barrier, start time, user split, merged stats, thresholds, lost agents).
//
// Every call is keyed by run id and idempotent, because the reconciler is
// level-triggered: it calls startRun() on every pass while the run is live and
// after an operator restart, and the coordinator must treat repeats as no-ops.
// Calls come from reconciler worker threads; implementations are thread-safe.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/report/latency_buckets.h"

#include "common/core/result.h"
#include "common/scenario/compiler.h"
#include "common/scenario/run.h"
#include "operator/controller/loadtest_status.h"

namespace herd::controller {

struct RunRequest {
  std::string loadtest;  // "namespace/name", for logs
  std::string run_id;
  std::string token;  // agents must present it (the run's Secret)
  // The run as the reconciler compiled it when it started (common/scenario/run.h):
  // the plan, thresholds, users, grace and loss policy the coordinator carries out.
  std::shared_ptr<const scenario::CompiledRun> run;
  // What the agents compile into the same plan: the text and the spec's overrides.
  std::string scenario_text;
  std::string scenario_name;  // where errors point: "ns/name:inline" or the ConfigMap
  scenario::CompileOptions overrides;
  int expected_agents = 1;
};

struct RunTotals {
  int64_t requests = 0;
  int64_t failures = 0;
  double rps = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};

// How a threshold went, as the status shows it (with its baseline comparison).
using ThresholdOutcome = StatusThreshold;

struct RunProgress {
  enum class State { kWaitingForAgents, kRunning, kStopping, kFinished };
  enum class Verdict { kPassed, kFailed, kAborted, kError };
  State state = State::kWaitingForAgents;
  int connected = 0;  // agents connected now
  int64_t users = 0;  // virtual users running now (peak once finished)
  RunTotals totals;
  // The run's latency merged over every agent, as Prometheus buckets
  // (status.latencyHistogram); nullopt before the first report.
  std::optional<report::LatencyBuckets> latency;
  bool degraded = false;  // an agent was lost and the policy went on
  std::string message;    // why, for status and Events
  // Set once state is kFinished.
  Verdict verdict = Verdict::kError;
  std::vector<ThresholdOutcome> thresholds;
  std::string summary_json;  // docs/design.md, summary.json; kept in a ConfigMap after the pods go
  std::string report_gz;     // report.html, gzipped: kept beside the summary when it fits
};

class RunCoordinator {
 public:
  virtual ~RunCoordinator() = default;
  // Starts the run, or does nothing if run_id is already known. An error means
  // the run cannot be carried out (it ends Failed with that message).
  virtual Status startRun(const RunRequest& request) = 0;
  // nullopt when the run is unknown (never started, or forgotten).
  virtual std::optional<RunProgress> progress(const std::string& run_id) = 0;
  // `kubectl scale`: the coordinator rebalances users over the new count.
  // `retiring` names the agents (agentIdOf(pod)) whose pods are about to be
  // deleted: they stop gracefully and are not lost. Repeats are no-ops. An
  // Error when the run cannot grow to `agents` (it keeps the count it has).
  virtual Status setExpectedAgents(const std::string& run_id, int agents, const std::vector<std::string>& retiring) = 0;
  // Graceful stop (drain, then final results) or immediate abort.
  virtual void stopRun(const std::string& run_id, const std::string& reason) = 0;
  virtual void abortRun(const std::string& run_id, const std::string& reason) = 0;
  // The run's results are in the status; free what the coordinator holds.
  virtual void forget(const std::string& run_id) = 0;
  // host:port agents dial (--coordinator-advertise).
  virtual std::string agentEndpoint() const = 0;
};

// A coordinator that refuses every run with a message saying so, before any
// pod is created (the reconciler's refusal path; its tests use it). herd-operator
// uses the real one: operator/coordinator/live_coordinator.h.
std::unique_ptr<RunCoordinator> makeUnavailableCoordinator(std::string advertise);

const char* toString(RunProgress::Verdict verdict);

}  // namespace herd::controller
