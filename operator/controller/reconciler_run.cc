// Starting and driving a run: its token and pods, its progress into the status, and
// the checks that end it (agents not ready, lost, the time limit); how it ends is
// reconciler_end.cc.
#include <set>

#include "common/core/clock.h"
#include "common/core/crypto.h"
#include "common/core/logging.h"
#include "common/core/secure_random.h"
#include "common/report/compress.h"
#include "operator/controller/reconciler_steps.h"

namespace herd::controller {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

// The status of a run about to start: a fresh one, keeping only the history and
// the schedule's times.
LoadTestStatus startingStatus(const LoadTestStatus& before, const StartedRun& started, const RunStart& start,
                              int64_t generation, const std::string& now) {
  LoadTestStatus st;
  st.history = before.history.is_null() ? json::array() : before.history;
  st.phase = Phase::kStarting;
  st.reason = "RunStarting";
  st.message = "starting " + std::to_string(start.desired) + " agents (" + start.why + ")";
  st.run_id = start.run_id;
  st.run_hash = start.hash;
  st.run_trigger = start.trigger;
  st.run_reason = start.why;
  st.run_generation = generation;
  st.start_time = now;
  st.selector = runSelector(start.run_id);
  st.users = 0;
  st.plan = planStatus(started);
  st.agents = LoadTestStatus::Agents{start.desired, 0, 0};
  st.last_schedule_time = before.last_schedule_time;
  st.next_schedule_time = before.next_schedule_time;
  st.setCondition(Condition::kValidated, true, "Compiled", pinnedMessage(started), generation, now);
  st.setCondition(Condition::kAgentsReady, false, "Waiting", "0 of " + std::to_string(start.desired) + " agents ready",
                  generation, now);
  st.setCondition(Condition::kRunning, false, "Starting", "", generation, now);
  st.setCondition(Condition::kComplete, false, "Starting", "", generation, now);
  st.setCondition(Condition::kDegraded, false, "AllAgentsHealthy", "", generation, now);
  st.baseline = started.baseline;
  if (const auto& b = started.baseline) {
    const bool found = !b->run_id.empty();
    st.setCondition(Condition::kBaselineFound, found, found ? "Found" : "NoBaseline",
                    found ? "run " + b->run_id + " of LoadTest " + b->load_test + " (" + b->source + ")"
                          : b->message + "; thresholds relative to the baseline are skipped",
                    generation, now);
  }
  return st;
}

}  // namespace

Result<ReconcileResult> Reconciler::startRun(Pass& pass, const std::string& why) {
  auto source = readScenario(client_, pass.ns, pass.name, pass.spec);
  if (!source.ok() && source.error().where != "spec.scenario.configMapRef") return source.error();
  if (!source.ok()) return scenarioNotFound(pass, source.error());
  RunStart start{runDefinitionHash(pass.lt), annotation(pass.lt, kAnnotationRun), why, "", 0};
  auto run = compileLoadTest(*source, pass.spec);
  if (!run.ok()) return invalidScenario(pass, run.error());
  if (auto refused = refuseByPolicy(pass, *run)) return std::move(*refused);
  auto baseline = applyBaseline(pass, *run, std::nullopt);
  if (!baseline.ok()) return baseline.error();
  auto started = std::make_shared<const StartedRun>(StartedRun{
      std::make_shared<const scenario::CompiledRun>(std::move(*run)), *source, sha256Hex(source->text), *baseline});
  start.desired = desiredAgents(pass.spec, started->compiled->total_users);
  start.run_id = makeRunId(pass.name, random());
  // Persisted before anything is created for the run: a pass that dies after
  // this line finds the run id and carries on with the same run.
  auto w = writeStatus(
      pass, [&](LoadTestStatus& st) { st = startingStatus(pass.status, *started, start, pass.generation, now()); });
  if (!w.ok()) return w.error();
  remember(start.run_id, started);
  if (!pass.spec.inline_scenario) snapshotScenario(pass, start.run_id, *source);
  const int64_t users = started->compiled->total_users;
  logger("operator")
      ->info("loadtest={} run={} starting: {} agents, {} users ({})", pass.key, start.run_id, start.desired, users,
             why);
  event(pass.lt, "Normal", "RunStarting",
        "run " + start.run_id + ": " + std::to_string(start.desired) + " agents, " + std::to_string(users) +
            " users (" + why + ")");
  return driveRun(pass);
}

// The ConfigMap may be created after the LoadTest (kubectl apply -f dir/): wait for it.
Result<ReconcileResult> Reconciler::scenarioNotFound(Pass& pass, const Error& error) {
  const auto message = error.describe();
  auto w = writeStatus(pass, [&](LoadTestStatus& st) {
    st = pass.status;
    st.phase = Phase::kPending;
    st.reason = "ScenarioNotFound";
    st.message = message;
    st.setCondition(Condition::kValidated, false, "ScenarioNotFound", message, pass.generation, now());
  });
  if (!w.ok()) return w.error();
  return ReconcileResult{settings_.missing_scenario_retry};
}

// No run: the scenario (or a run-level rule) does not compile. Terminal until the spec changes.
Result<ReconcileResult> Reconciler::invalidScenario(Pass& pass, const Error& error) {
  const auto message = error.describe();
  auto w = refuseRun(pass, "InvalidScenario", message, "no run: the scenario does not compile");
  if (!w.ok()) return w.error();
  event(pass.lt, "Warning", "InvalidScenario", message);
  return ReconcileResult{};
}

// A run that does not start (its scenario does not compile, the guardrails refuse
// it): Failed with `reason` and no run id, remembered by the run's definition
// (runHash, runTrigger) so only a change of it tries again.
Status Reconciler::refuseRun(Pass& pass, const std::string& reason, const std::string& message,
                             const std::string& no_run) {
  const auto hash = runDefinitionHash(pass.lt);
  const auto trigger = annotation(pass.lt, kAnnotationRun);
  return writeStatus(pass, [&](LoadTestStatus& st) {
    st = pass.status;
    st.run_id.clear();
    st.phase = Phase::kFailed;
    st.reason = reason;
    st.message = message;
    st.run_hash = hash;
    st.run_trigger = trigger;
    st.setCondition(Condition::kValidated, false, reason, message, pass.generation, now());
    st.setCondition(Condition::kComplete, true, reason, no_run, pass.generation, now());
  });
}

// A restarted operator carries the run on from this copy (reconciler_plan.cc).
void Reconciler::snapshotScenario(Pass& pass, const std::string& run_id, const ScenarioSource& source) {
  auto copy = client_.create(k8s::resources::kConfigMaps, pass.ns,
                             buildScenarioSnapshot(pass.lt, run_id, source.name, source.text));
  if (!copy.ok() && !copy.error().isAlreadyExists())
    logger("operator")
        ->warn("loadtest={} run={} scenario copy not written: {}", pass.key, run_id, copy.error().describe());
}

Result<std::string> Reconciler::ensureToken(Pass& pass) {
  const auto& run_id = pass.status.run_id;
  const auto name = tokenSecretName(run_id);
  auto existing = client_.get(k8s::resources::kSecrets, pass.ns, name);
  if (existing.ok()) {
    // Kubernetes stores stringData as base64 data; decode our own token back.
    return report::base64Decode(getString(getObject(*existing, "data"), kTokenKey));
  }
  if (!existing.error().isNotFound()) return existing.error().toError();
  // From the kernel's CSPRNG, never from random(): the run id in the status
  // comes from that generator, and must tell nothing about the token.
  const std::string token = newToken();
  auto created = client_.create(k8s::resources::kSecrets, pass.ns,
                                buildTokenSecret(pass.lt, run_id, token, settings_.agent.coordinator_ca));
  if (!created.ok() && !created.error().isAlreadyExists()) return created.error().toError();
  if (!created.ok()) return ensureToken(pass);  // a racing pass created it: use theirs
  return token;
}

Status Reconciler::ensurePods(Pass& pass, const json& pods, int desired, const AgentSizing& sizing) {
  const auto& run_id = pass.status.run_id;
  std::set<int> present;
  std::set<std::string> lost;
  if (pass.status.lost_agents) lost.insert(pass.status.lost_agents->begin(), pass.status.lost_agents->end());
  for (const auto& pod : pods) {
    int index = agentIndexOf(pod);
    if (index >= desired) {
      // Scaled down: the coordinator already moved this agent's users.
      auto removed = client_.remove(k8s::resources::kPods, pass.ns, k8s::nameOf(pod));
      if (!removed.ok() && !removed.error().isNotFound()) return removed.error().toError();
      continue;
    }
    if (index >= 0) present.insert(index);
  }
  for (int i = 0; i < desired; ++i) {
    // Under Continue a lost agent stays lost; Rebalance replaces it.
    if (present.count(i) || (pass.spec.loss_policy == LossPolicy::kContinue && lost.count(agentPodName(run_id, i))))
      continue;
    auto created = client_.create(k8s::resources::kPods, pass.ns,
                                  buildAgentPod(pass.lt, pass.spec, run_id, i, settings_.agent, sizing));
    if (!created.ok() && !created.error().isAlreadyExists()) return created.error().toError();
  }
  return Ok{};
}

Status Reconciler::deleteRunPods(const std::string& ns, const std::string& run_id, bool keep_crashed) {
  k8s::ListOptions opts;
  opts.label_selector = runSelector(run_id);
  auto pods = client_.listAll(k8s::resources::kPods, ns, opts);
  if (!pods.ok()) return pods.error().toError();
  for (const auto& pod : items(*pods)) {
    if (keep_crashed && classifyPod(pod).state == PodHealth::State::kCrashed) continue;  // logs stay readable
    auto removed = client_.remove(k8s::resources::kPods, ns, k8s::nameOf(pod));
    if (!removed.ok() && !removed.error().isNotFound()) return removed.error().toError();
  }
  return Ok{};
}

Result<ReconcileResult> Reconciler::driveRun(Pass& pass) {
  const auto run_id = pass.status.run_id;
  {
    std::lock_guard lock(mu_);
    live_runs_[pass.key] = run_id;
  }
  // The run as it started: no ConfigMap read, no compile (reconciler_plan.cc).
  std::string failure;
  auto started = startedRun(pass, failure);
  if (!started.ok()) {
    if (failure.empty()) return started.error();
    return failRun(pass, failure, started.error().describe());
  }
  Drive drive;
  drive.phase = pass.status.phase;
  drive.desired = desiredAgents(pass.spec, (*started)->compiled->total_users);
  // The coordinator comes before the pods: a run it cannot carry out creates none.
  auto token = ensureToken(pass);
  if (!token.ok()) return token.error();
  RunRequest request{pass.key,
                     run_id,
                     *token,
                     (*started)->compiled,
                     (*started)->source.text,
                     (*started)->source.name,
                     pass.spec.overrides,
                     drive.desired};
  if (auto accepted = coordinator_.startRun(request); !accepted.ok())
    return failRun(pass, "CoordinatorUnavailable", accepted.error().describe());
  drive.progress = coordinator_.progress(run_id);
  if (drive.progress && drive.progress->state == RunProgress::State::kFinished) return finishRun(pass, *drive.progress);
  // `herd k8s run` interrupted asks for a stop this way; the run ends with what it measured.
  if (annotation(pass.lt, kAnnotationStop) == run_id && drive.progress &&
      drive.progress->state != RunProgress::State::kStopping)
    coordinator_.stopRun(run_id, std::string("annotation ") + kAnnotationStop);

  k8s::ListOptions opts;
  opts.label_selector = runSelector(run_id);
  auto listed = client_.listAll(k8s::resources::kPods, pass.ns, opts);
  if (!listed.ok()) return listed.error().toError();
  drive.pods = items(*listed);
  drive.lost = pass.status.lost_agents.value_or(std::vector<std::string>{});
  rescale(pass, drive);
  countPods(drive);
  logger("operator")
      ->debug("loadtest={} run={} phase={} pods={} ready={}/{}", pass.key, run_id, phaseName(drive.phase),
              drive.pods.size(), drive.ready, drive.desired);
  auto failed = drive.phase == Phase::kStarting ? checkStarting(pass, drive)
                                                : checkRunning(pass, drive, (*started)->compiled->plan.load.duration);
  if (failed) return failRun(pass, failed->first, failed->second);
  pass.status.lost_agents = drive.lost;
  const auto& compiled = *(*started)->compiled;
  const AgentSizing sizing{usersPerAgent(compiled.total_users, drive.desired), compiled.grace};
  if (auto s = ensurePods(pass, drive.pods, drive.desired, sizing); !s.ok()) return s.error();
  if (auto s = writeProgress(pass, drive); !s.ok()) return s.error();
  return ReconcileResult{settings_.status_interval};
}

// `kubectl scale`: the coordinator learns the count, and which agents go, before
// ensurePods deletes the highest-index pods, so they leave gracefully, not lost.
void Reconciler::rescale(Pass& pass, Drive& drive) {
  if (scaleRefusedByPolicy(pass, drive)) return;
  const auto& run_id = pass.status.run_id;
  std::vector<std::string> retiring;
  for (const auto& pod : drive.pods)
    if (agentIndexOf(pod) >= drive.desired) retiring.push_back(agentIdOf(pod));
  const auto previous = static_cast<int>(pass.status.desiredAgents());
  if (auto scaled = coordinator_.setExpectedAgents(run_id, drive.desired, retiring); !scaled.ok() && previous > 0) {
    // The run cannot grow (docs/operator.md): it keeps its agents; the next run gets the new count.
    drive.scale_refused = "run " + run_id + " keeps " + std::to_string(previous) +
                          " agent(s): " + scaled.error().message;
    if (pass.status.scale_refused != drive.scale_refused)
      event(pass.lt, "Warning", "ScaleRefused", drive.scale_refused);
    drive.desired = previous;
  } else if (previous > 0 && previous != drive.desired) {
    event(pass.lt, "Normal", "AgentsScaled",
          "run " + run_id + ": agents " + std::to_string(previous) + " -> " + std::to_string(drive.desired) +
              (retiring.empty() ? "" : "; scaled away: " + std::to_string(retiring.size()) + " agent pod(s)"));
  }
}

// The agent pods this run wants (index below desired): how many are Ready, the
// first that cannot be scheduled, those that crashed.
void Reconciler::countPods(Drive& drive) {
  for (const auto& pod : drive.pods) {
    if (agentIndexOf(pod) >= drive.desired) continue;
    auto health = classifyPod(pod);
    if (health.state == PodHealth::State::kReady) ++drive.ready;
    if (health.state == PodHealth::State::kUnschedulable && drive.problem.empty()) {
      drive.problem_reason = "AgentUnschedulable";
      drive.problem = "agent pod " + k8s::nameOf(pod) + " cannot be scheduled: " + health.message;
    }
    if (health.state == PodHealth::State::kCrashed) drive.crashed.push_back(k8s::nameOf(pod) + " " + health.message);
    if (health.state == PodHealth::State::kImagePulling && drive.image_problem.empty())
      drive.image_problem = "agent pod " + k8s::nameOf(pod) + " cannot pull its image: " + health.message;
  }
}

// Before the load starts: a crashed or unschedulable agent, or agents not ready in time, end the run.
std::optional<Reconciler::Failure> Reconciler::checkStarting(Pass& pass, Drive& drive) {
  if (!drive.crashed.empty()) return Failure{"AgentCrashed", "agent pod " + drive.crashed.front()};
  if (!drive.problem.empty()) return Failure{drive.problem_reason, drive.problem};
  const auto started_at = parseRfc3339(pass.status.start_time).value_or(pass.now);
  // The kubelet retries a pull with back-off; the run waits as long as for any
  // agent that is not ready, and then says why.
  if (!drive.image_problem.empty() && pass.now - started_at > pass.spec.agents_ready_timeout)
    return Failure{"AgentImageUnavailable", drive.image_problem + " (retried for " +
                                                scenario::formatDuration(pass.spec.agents_ready_timeout) + ")"};
  if (pass.now - started_at > pass.spec.agents_ready_timeout)
    return Failure{"AgentsNotReady",
                   std::to_string(drive.ready) + " of " + std::to_string(drive.desired) + " agents ready and " +
                       std::to_string(drive.progress ? drive.progress->connected : 0) + " connected after " +
                       scenario::formatDuration(pass.spec.agents_ready_timeout)};
  return std::nullopt;
}

// While the load goes: agents lost (per the loss policy) and the run's time limit.
std::optional<Reconciler::Failure> Reconciler::checkRunning(Pass& pass, Drive& drive, Nanos duration) {
  const auto policy = std::string(scenario::lossPolicyTitle(pass.spec.loss_policy));
  for (const auto& pod : drive.pods) {
    // A pod scaled away is being deleted on purpose: not an agent lost.
    if (agentIndexOf(pod) >= drive.desired || classifyPod(pod).state != PodHealth::State::kCrashed) continue;
    const auto name = k8s::nameOf(pod);
    bool known = false;
    for (const auto& l : drive.lost) known = known || l == name;
    if (pass.spec.loss_policy == LossPolicy::kAbort)
      return Failure{"AgentLost", "agent pod " + name + " failed and agentLossPolicy is Abort"};
    if (!known) {
      drive.lost.push_back(name);
      event(pass.lt, "Warning", "AgentLost", "agent pod " + name + " failed; agentLossPolicy " + policy);
    }
    // Rebalance: the replacement takes the same index once this pod is gone.
    if (pass.spec.loss_policy == LossPolicy::kRebalance) (void)client_.remove(k8s::resources::kPods, pass.ns, name);
  }
  drive.degraded = !drive.lost.empty() || (drive.progress && drive.progress->degraded);
  drive.degraded_message = !drive.lost.empty() ? std::to_string(drive.lost.size()) + " agent(s) lost; policy " + policy
                                               : (drive.progress ? drive.progress->message : "");
  // The plan's duration: the spec's override or the scenario's own.
  const auto limit = pass.spec.run_timeout ? duration_cast<Nanos>(*pass.spec.run_timeout)
                                           : duration + duration_cast<Nanos>(settings_.run_timeout_margin);
  const auto started_at = parseRfc3339(pass.status.start_time).value_or(pass.now);
  if (pass.now - started_at > limit)
    return Failure{"RunTimeout", "the run did not end within " + scenario::formatDuration(limit)};
  return std::nullopt;
}

namespace {

// The AgentsReady condition: all ready, or how many and what keeps the others.
void agentsReadyCondition(LoadTestStatus& st, int ready, int desired, const std::string& image_problem,
                          int64_t generation, const std::string& now) {
  const bool all_ready = ready >= desired;
  st.setCondition(Condition::kAgentsReady, all_ready,
                  all_ready               ? "AllAgentsReady"
                  : image_problem.empty() ? "Waiting"
                                          : "ImagePullBackOff",
                  std::to_string(ready) + " of " + std::to_string(desired) + " agents ready" +
                      (all_ready || image_problem.empty() ? "" : "; " + image_problem),
                  generation, now);
}

}  // namespace

// The pass's findings into the status (phase, agents, users, totals, conditions).
Status Reconciler::writeProgress(Pass& pass, const Drive& drive) {
  const auto& progress = drive.progress;
  const bool running = progress && (progress->state == RunProgress::State::kRunning ||
                                    progress->state == RunProgress::State::kStopping);
  const bool load_started = running && drive.phase == Phase::kStarting;
  const auto next_phase = running
                              ? (progress->state == RunProgress::State::kStopping ? Phase::kStopping : Phase::kRunning)
                              : drive.phase;
  auto w = writeStatus(pass, [&](LoadTestStatus& st) {
    st.phase = next_phase;
    st.agents = LoadTestStatus::Agents{drive.desired, drive.ready, progress ? progress->connected : 0};
    st.lost_agents = drive.lost;
    st.scale_refused = drive.scale_refused;
    if (progress) {
      st.users = progress->users;
      st.totals = statusTotals(progress->totals);
      if (progress->latency) st.latency_histogram = progress->latency;
    }
    if (load_started) {
      st.reason = "RunStarted";
      st.message = "load started on " + std::to_string(progress->connected) + " agents";
    }
    agentsReadyCondition(st, drive.ready, drive.desired, drive.image_problem, pass.generation, now());
    st.setCondition(Condition::kRunning, running, running ? "LoadRunning" : "Starting", "", pass.generation, now());
    st.setCondition(Condition::kDegraded, drive.degraded, drive.degraded ? "AgentLost" : "AllAgentsHealthy",
                    drive.degraded_message, pass.generation, now());
  });
  if (!w.ok()) return w.error();
  if (load_started)
    event(pass.lt, "Normal", "RunStarted",
          "run " + pass.status.run_id + ": load started on " + std::to_string(drive.desired) + " agents");
  return Ok{};
}

}  // namespace herd::controller
