#pragma once
// The LoadTest reconciler: level-triggered and idempotent. Input is a key
// ("namespace/name"); each pass reads the LoadTest and its agent pods, decides
// with the pure functions of loadtest.h and builders.h, and applies the
// difference. It persists the phase (and the run id) before creating anything
// for a run, so a pass interrupted anywhere is completed by the next one; every
// wait (agents becoming ready, the run itself) has a timeout.
//
// A run's life: Pending (scenario being read) → Starting (Secret, coordinator
// run, agent pods) → Running (coordinator says the load started) → Succeeded |
// Failed. A new run starts on creation, on a change of the run-defining spec
// (not spec.agents: that rescales the live run), or on a new value of the
// herd.dev/run annotation; with spec.schedule, at the cron's times instead of
// on creation and spec changes.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "common/core/json.h"

#include "common/core/clock.h"
#include "common/core/random.h"
#include "common/core/result.h"
#include "common/k8s/client.h"
#include "common/k8s/events.h"
#include "operator/controller/builders.h"
#include "operator/controller/coordinator.h"
#include "operator/controller/loadtest.h"
#include "operator/controller/policy.h"

namespace herd::controller {

struct ScenarioSource;
struct StartedRun;
struct LoadTestStatus;
struct RunStart;

struct ReconcilerSettings {
  AgentSettings agent;
  // How often a live run's status is refreshed (bounded-rate status writes).
  std::chrono::milliseconds status_interval{std::chrono::seconds(2)};
  // How soon a missing scenario ConfigMap is looked for again.
  std::chrono::milliseconds missing_scenario_retry{std::chrono::seconds(15)};
  // Added to the load's duration for the default run timeout.
  std::chrono::seconds run_timeout_margin{300};
  // What a LoadTest may ask for (policy.h); Namespace annotations adjust it.
  Guardrails guardrails;
};

struct ReconcileResult {
  std::optional<std::chrono::milliseconds> requeue_after;
};

class Reconciler {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  Reconciler(k8s::Client& client, k8s::EventRecorder& events, RunCoordinator& coordinator, ReconcilerSettings settings,
             WallClock wall_clock, uint64_t seed);

  // One pass for one LoadTest. An error is worth retrying (with backoff);
  // terminal problems of the LoadTest itself end up in its status instead.
  Result<ReconcileResult> reconcile(const std::string& key);

 private:
  struct Pass;  // one reconcile's inputs, defined in reconciler_steps.h
  struct ScheduleDecision {
    bool start = false;  // a scheduled run is due now
    std::string why;
    std::optional<std::chrono::milliseconds> wake;  // until the next due time
  };

  Result<bool> readPass(const std::string& key, Pass& pass);
  Result<ReconcileResult> invalidSpec(Pass& pass, const Error& error);
  // spec.schedule: whether a run is due (per concurrencyPolicy), and when to look again.
  Result<ScheduleDecision> schedule(Pass& pass, bool live);
  Result<std::string> checkScenario(Pass& pass);
  // startRun's steps (reconciler_run.cc).
  Result<ReconcileResult> startRun(Pass& pass, const std::string& why);
  Result<ReconcileResult> scenarioNotFound(Pass& pass, const Error& error);
  Result<ReconcileResult> invalidScenario(Pass& pass, const Error& error);
  Status refuseRun(Pass& pass, const std::string& reason, const std::string& message, const std::string& no_run);
  void snapshotScenario(Pass& pass, const std::string& run_id, const ScenarioSource& source);
  // The guardrails (reconciler_policy.cc): a run they refuse ends here, its refusal
  // in the status and an Event; none when the run may start.
  std::optional<Result<ReconcileResult>> refuseByPolicy(Pass& pass, const scenario::CompiledRun& run);
  Result<std::optional<std::string>> policyViolation(Pass& pass, const scenario::CompiledRun& run);
  Result<Result<Guardrails>> guardrailsFor(Pass& pass);
  // driveRun's steps, one pass over a live run (reconciler_run.cc).
  struct Drive;
  using Failure = std::pair<std::string, std::string>;  // reason, message: the run ends Failed
  Result<ReconcileResult> driveRun(Pass& pass);
  void rescale(Pass& pass, Drive& drive);
  bool scaleRefusedByPolicy(Pass& pass, Drive& drive);  // reconciler_policy.cc
  static void countPods(Drive& drive);
  std::optional<Failure> checkStarting(Pass& pass, Drive& drive);
  std::optional<Failure> checkRunning(Pass& pass, Drive& drive, std::chrono::nanoseconds duration);
  Status writeProgress(Pass& pass, const Drive& drive);
  // The run's end (reconciler_end.cc).
  Result<ReconcileResult> finishRun(Pass& pass, const RunProgress& progress);
  Result<ReconcileResult> failRun(Pass& pass, const std::string& reason, const std::string& message);
  Result<ReconcileResult> afterRun(Pass& pass);
  void supersede(Pass& pass, const std::string& why);
  void onDeleted(const std::string& key);

  // The live run's definition: compiled when it started, or (in a process that
  // did not start it) compiled again from the text it started with. On failure
  // `reason` says why for the status.
  Result<std::shared_ptr<const StartedRun>> startedRun(Pass& pass, std::string& reason);
  Result<ScenarioSource> startedSource(Pass& pass, std::string& reason);
  // spec.baseline for a run (reconciler_baseline.cc): chosen when it starts, or
  // the one status.baseline pinned then (`pinned`), with its stored numbers.
  struct ResolvedBaseline;
  Result<ResolvedBaseline> resolveBaseline(Pass& pass, const scenario::CompiledRun& run,
                                           const std::optional<StatusBaseline>& pinned);
  // The run's relative thresholds judged against that baseline.
  Result<std::optional<StatusBaseline>> applyBaseline(Pass& pass, scenario::CompiledRun& run,
                                                      const std::optional<StatusBaseline>& pinned);
  void remember(const std::string& run_id, std::shared_ptr<const StartedRun> run);
  void forgetRun(const std::string& key, const std::string& run_id);
  Result<std::string> ensureToken(Pass& pass);
  Status ensurePods(Pass& pass, const Json& pods, int desired, const AgentSizing& sizing);
  Status deleteRunPods(const std::string& ns, const std::string& run_id, bool keep_crashed);
  // Reads the stored status, applies `edit`, writes it back when it changed (with
  // observedGeneration), and leaves the result in pass.status.
  Status writeStatus(Pass& pass, const std::function<void(LoadTestStatus& status)>& edit);
  void event(const Json& loadtest, const std::string& type, const std::string& reason, const std::string& message);
  std::string now() const;
  uint64_t random();

  k8s::Client& client_;
  k8s::EventRecorder& events_;
  RunCoordinator& coordinator_;
  const ReconcilerSettings settings_;
  const WallClock wall_clock_;
  std::mutex mu_;
  Rng rng_;                                                           // guarded by mu_
  std::map<std::string, std::string> live_runs_;                      // key → run id; guarded by mu_
  std::map<std::string, std::shared_ptr<const StartedRun>> started_;  // run id → definition; guarded by mu_
};

using herd::parseRfc3339;

}  // namespace herd::controller
