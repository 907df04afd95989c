// Starting and driving a run: its token and pods, its progress into the status, its end
// (finished, failed, or timed out) and what comes after (TTL, history).
#include <set>

#include "common/core/clock.h"
#include "common/core/logging.h"
#include "common/core/secure_random.h"
#include "common/report/sha256.h"
#include "operator/controller/reconciler_steps.h"

namespace herd::controller {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

Result<ReconcileResult> Reconciler::startRun(Pass& pass, const std::string& why) {
  const auto hash = runDefinitionHash(pass.lt);
  const auto trigger = annotation(pass.lt, kAnnotationRun);
  auto source = readScenario(client_, pass.ns, pass.name, pass.spec);
  if (!source.ok() && source.error().where != "spec.scenario.configMapRef") return source.error();
  if (!source.ok()) {
    // The ConfigMap may be created after the LoadTest (kubectl apply -f dir/).
    auto message = source.error().describe();
    auto w = writeStatus(pass, [&](json& st) {
      st = pass.status;
      st["phase"] = kPending;
      st["reason"] = "ScenarioNotFound";
      st["message"] = message;
      setCondition(st, Condition::kValidated, false, "ScenarioNotFound", message, pass.generation, now());
    });
    if (!w.ok()) return w.error();
    return ReconcileResult{settings_.missing_scenario_retry};
  }
  auto run = compileLoadTest(*source, pass.spec);
  if (!run.ok()) {
    auto message = run.error().describe();
    auto w = writeStatus(pass, [&](json& st) {
      st = pass.status;
      st.erase("runId");
      st["phase"] = kFailed;
      st["reason"] = "InvalidScenario";
      st["message"] = message;
      st["runHash"] = hash;
      st["runTrigger"] = trigger;
      setCondition(st, Condition::kValidated, false, "InvalidScenario", message, pass.generation, now());
      setCondition(st, Condition::kComplete, true, "InvalidScenario", "no run: the scenario does not compile",
                   pass.generation, now());
    });
    if (!w.ok()) return w.error();
    event(pass.lt, "Warning", "InvalidScenario", message);
    return ReconcileResult{};
  }
  if (auto refused = refuseByPolicy(pass, *run)) return std::move(*refused);
  auto started = std::make_shared<const StartedRun>(
      StartedRun{std::make_shared<const scenario::CompiledRun>(std::move(*run)), *source,
                 report::sha256Hex(source->text)});
  const int64_t users = started->compiled->total_users;
  const int desired = desiredAgents(pass.spec, users);
  const auto run_id = makeRunId(pass.name, random());
  // Persisted before anything is created for the run: a pass that dies after
  // this line finds the run id and carries on with the same run.
  auto w = writeStatus(pass, [&](json& st) {
    json history = pass.status.contains("history") ? pass.status["history"] : json::array();
    st = json::object();
    st["history"] = history;
    st["phase"] = kStarting;
    st["reason"] = "RunStarting";
    st["message"] = "starting " + std::to_string(desired) + " agents (" + why + ")";
    st["runId"] = run_id;
    st["runHash"] = hash;
    st["runTrigger"] = trigger;
    st["runReason"] = why;
    st["runGeneration"] = pass.generation;
    st["startTime"] = now();
    st["selector"] = runSelector(run_id);
    st["users"] = 0;
    st["plan"] = planStatus(*started);
    st["agents"] = {{"desired", desired}, {"ready", 0}, {"connected", 0}};
    for (const char* k : {"lastScheduleTime", "nextScheduleTime"})
      if (pass.status.contains(k)) st[k] = pass.status[k];
    setCondition(st, Condition::kValidated, true, "Compiled", pinnedMessage(*started), pass.generation, now());
    setCondition(st, Condition::kAgentsReady, false, "Waiting", "0 of " + std::to_string(desired) + " agents ready",
                 pass.generation, now());
    setCondition(st, Condition::kRunning, false, "Starting", "", pass.generation, now());
    setCondition(st, Condition::kComplete, false, "Starting", "", pass.generation, now());
    setCondition(st, Condition::kDegraded, false, "AllAgentsHealthy", "", pass.generation, now());
  });
  if (!w.ok()) return w.error();
  remember(run_id, started);
  if (!pass.spec.inline_scenario) {
    // A restarted operator carries the run on from this copy (reconciler_plan.cc).
    auto copy = client_.create(k8s::resources::kConfigMaps, pass.ns,
                               buildScenarioSnapshot(pass.lt, run_id, source->name, source->text));
    if (!copy.ok() && !copy.error().isAlreadyExists())
      logger("operator")->warn("loadtest={} run={} scenario copy not written: {}", pass.key, run_id,
                               copy.error().describe());
  }
  logger("operator")->info("loadtest={} run={} starting: {} agents, {} users ({})", pass.key, run_id, desired,
                           users, why);
  event(pass.lt, "Normal", "RunStarting",
        "run " + run_id + ": " + std::to_string(desired) + " agents, " + std::to_string(users) + " users (" + why + ")");
  return driveRun(pass);
}

Result<std::string> Reconciler::ensureToken(Pass& pass) {
  const auto run_id = getString(pass.status, "runId");
  const auto name = tokenSecretName(run_id);
  auto existing = client_.get(k8s::resources::kSecrets, pass.ns, name);
  if (existing.ok()) {
    // Kubernetes stores stringData as base64 data; decode our own token back.
    return base64Decode(getString(getObject(*existing, "data"), kTokenKey));
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
  const auto run_id = getString(pass.status, "runId");
  std::set<int> present;
  std::set<std::string> lost;
  if (pass.status.contains("lostAgents") && pass.status["lostAgents"].is_array())
    for (const auto& l : pass.status["lostAgents"])
      if (l.is_string()) lost.insert(l.get<std::string>());
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
  const auto run_id = getString(pass.status, "runId");
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
  drive.phase = getString(pass.status, "phase");
  drive.desired = desiredAgents(pass.spec, (*started)->compiled->total_users);
  // The coordinator comes before the pods: a run it cannot carry out creates none.
  auto token = ensureToken(pass);
  if (!token.ok()) return token.error();
  RunRequest request{pass.key,  run_id, *token, (*started)->compiled, (*started)->source.text, (*started)->source.name,
                     pass.spec.overrides, drive.desired};
  if (auto accepted = coordinator_.startRun(request); !accepted.ok())
    return failRun(pass, "CoordinatorUnavailable", accepted.error().describe());
  drive.progress = coordinator_.progress(run_id);
  if (drive.progress && drive.progress->state == RunProgress::State::kFinished) return finishRun(pass, *drive.progress);

  k8s::ListOptions opts;
  opts.label_selector = runSelector(run_id);
  auto listed = client_.listAll(k8s::resources::kPods, pass.ns, opts);
  if (!listed.ok()) return listed.error().toError();
  drive.pods = items(*listed);
  if (pass.status.contains("lostAgents") && pass.status["lostAgents"].is_array()) drive.lost = pass.status["lostAgents"];
  rescale(pass, drive);
  countPods(drive);
  logger("operator")->debug("loadtest={} run={} phase={} pods={} ready={}/{}", pass.key, run_id, drive.phase,
                            drive.pods.size(), drive.ready, drive.desired);
  auto failed = drive.phase == kStarting ? checkStarting(pass, drive)
                                         : checkRunning(pass, drive, (*started)->compiled->plan.load.duration);
  if (failed) return failRun(pass, failed->first, failed->second);
  pass.status["lostAgents"] = drive.lost;
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
  const auto run_id = getString(pass.status, "runId");
  std::vector<std::string> retiring;
  for (const auto& pod : drive.pods)
    if (agentIndexOf(pod) >= drive.desired) retiring.push_back(agentIdOf(pod));
  const auto previous = static_cast<int>(k8s::getInt(getObject(pass.status, "agents"), "desired"));
  if (auto scaled = coordinator_.setExpectedAgents(run_id, drive.desired, retiring); !scaled.ok() && previous > 0) {
    // The run cannot grow (docs/operator.md): it keeps its agents; the next run gets the new count.
    drive.scale_refused =
        "run " + run_id + " keeps " + std::to_string(previous) + " agent(s): " + scaled.error().message;
    if (getString(pass.status, "scaleRefused") != drive.scale_refused)
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
  const auto started_at = parseRfc3339(getString(pass.status, "startTime")).value_or(pass.now);
  // The kubelet retries a pull with back-off; the run waits as long as for any
  // agent that is not ready, and then says why.
  if (!drive.image_problem.empty() && pass.now - started_at > pass.spec.agents_ready_timeout)
    return Failure{"AgentImageUnavailable", drive.image_problem + " (retried for " +
                                                scenario::formatDuration(pass.spec.agents_ready_timeout) + ")"};
  if (pass.now - started_at > pass.spec.agents_ready_timeout)
    return Failure{"AgentsNotReady", std::to_string(drive.ready) + " of " + std::to_string(drive.desired) +
                                         " agents ready and " +
                                         std::to_string(drive.progress ? drive.progress->connected : 0) +
                                         " connected after " + scenario::formatDuration(pass.spec.agents_ready_timeout)};
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
  const auto started_at = parseRfc3339(getString(pass.status, "startTime")).value_or(pass.now);
  if (pass.now - started_at > limit)
    return Failure{"RunTimeout", "the run did not end within " + scenario::formatDuration(limit)};
  return std::nullopt;
}

// The pass's findings into the status (phase, agents, users, totals, conditions).
Status Reconciler::writeProgress(Pass& pass, const Drive& drive) {
  const auto& progress = drive.progress;
  const auto& phase = drive.phase;
  const int desired = drive.desired;
  const int ready = drive.ready;
  const bool running = progress && (progress->state == RunProgress::State::kRunning ||
                                    progress->state == RunProgress::State::kStopping);
  const auto next_phase = running ? (progress->state == RunProgress::State::kStopping ? kStopping : kRunning)
                                  : phase;
  auto w = writeStatus(pass, [&](json& st) {
    st["phase"] = next_phase;
    st["agents"] = {{"desired", desired}, {"ready", ready}, {"connected", progress ? progress->connected : 0}};
    st["lostAgents"] = drive.lost;
    if (drive.scale_refused.empty()) st.erase("scaleRefused");
    else st["scaleRefused"] = drive.scale_refused;
    if (progress) {
      st["users"] = progress->users;
      st["totals"] = totalsJson(progress->totals);
    }
    if (running && phase == kStarting) {
      st["reason"] = "RunStarted";
      st["message"] = "load started on " + std::to_string(progress->connected) + " agents";
    }
    const bool all_ready = ready >= desired;
    const auto& image_problem = drive.image_problem;
    setCondition(st, Condition::kAgentsReady, all_ready,
                 all_ready ? "AllAgentsReady" : image_problem.empty() ? "Waiting" : "ImagePullBackOff",
                 std::to_string(ready) + " of " + std::to_string(desired) + " agents ready" +
                     (all_ready || image_problem.empty() ? "" : "; " + image_problem),
                 pass.generation, now());
    setCondition(st, Condition::kRunning, running, running ? "LoadRunning" : "Starting", "", pass.generation, now());
    setCondition(st, Condition::kDegraded, drive.degraded, drive.degraded ? "AgentLost" : "AllAgentsHealthy",
                 drive.degraded_message, pass.generation, now());
  });
  if (!w.ok()) return w.error();
  if (running && phase == kStarting)
    event(pass.lt, "Normal", "RunStarted",
          "run " + getString(pass.status, "runId") + ": load started on " + std::to_string(desired) + " agents");
  return Ok{};
}

Result<ReconcileResult> Reconciler::finishRun(Pass& pass, const RunProgress& progress) {
  const auto run_id = getString(pass.status, "runId");
  std::string verdict = toString(progress.verdict);
  std::string reason = progress.verdict == RunProgress::Verdict::kPassed ? "ThresholdsPassed"
                       : progress.verdict == RunProgress::Verdict::kFailed ? "ThresholdsFailed" : "RunAborted";
  std::string message = progress.message;
  if (progress.verdict == RunProgress::Verdict::kPassed) {
    if (auto worse = regression(pass.status.contains("history") ? pass.status["history"] : json::array(),
                                progress.totals, pass.spec)) {
      verdict = "Failed";
      reason = "Regression";
      message = *worse;
    }
  }
  // Known losses (an agent's undelivered reports, history not re-adopted): said
  // in the message and the TotalsComplete condition, whatever the verdict.
  const auto incomplete = incompleteTotals(progress.summary_json);
  if (incomplete) message += (message.empty() ? "" : "; ") + ("totals incomplete: " + *incomplete);
  if (!progress.summary_json.empty()) {
    auto cm = client_.create(k8s::resources::kConfigMaps, pass.ns,
                             buildSummaryConfigMap(pass.lt, run_id, progress.summary_json));
    if (!cm.ok() && !cm.error().isAlreadyExists()) return cm.error().toError();
  }
  const bool passed = verdict == "Passed";
  const auto completed = now();
  auto w = writeStatus(pass, [&](json& st) {
    st["phase"] = passed ? kSucceeded : kFailed;
    st["verdict"] = verdict;
    st["reason"] = reason;
    st["message"] = message;
    st["completionTime"] = completed;
    st["users"] = progress.users;
    st["totals"] = totalsJson(progress.totals);
    st["agents"]["connected"] = 0;
    if (!progress.summary_json.empty()) st["summaryConfigMap"] = summaryConfigMapName(run_id);
    json thresholds = json::array();
    for (const auto& t : progress.thresholds)
      thresholds.push_back({{"expression", t.expression}, {"passed", t.passed}, {"value", t.value}});
    st["thresholds"] = thresholds;
    st["endpoints"] = endpointsFromSummary(progress.summary_json);
    st["delivery"] = deliveryFromSummary(progress.summary_json);
    setCondition(st, Condition::kRunning, false, "RunEnded", "", pass.generation, completed);
    setCondition(st, Condition::kComplete, true, reason, message, pass.generation, completed);
    setCondition(st, Condition::kThresholdsPassed, passed, reason, message, pass.generation, completed);
    if (!progress.summary_json.empty())
      setCondition(st, Condition::kTotalsComplete, !incomplete, incomplete ? "ReportsMissing" : "AllReportsCounted",
                   incomplete.value_or(""), pass.generation, completed);
    json entry{{"runId", run_id}, {"trigger", getString(st, "runReason")}, {"startTime", getString(st, "startTime")},
               {"completionTime", completed}, {"phase", st["phase"]}, {"verdict", verdict}, {"reason", reason},
               {"agents", k8s::getInt(getObject(st, "agents"), "desired")}, {"users", progress.users},
               {"params", getObject(getObject(pass.lt, "spec"), "params")}, {"totals", totalsJson(progress.totals)}};
    pushHistory(st, entry, pass.spec.history_limit);
  });
  if (!w.ok()) return w.error();
  coordinator_.forget(run_id);
  forgetRun(pass.key, run_id);
  event(pass.lt, passed ? "Normal" : "Warning", passed ? "RunSucceeded" : "RunFailed",
        "run " + run_id + " " + verdict + (message.empty() ? "" : ": " + message));
  return afterRun(pass);
}

Result<ReconcileResult> Reconciler::failRun(Pass& pass, const std::string& reason, const std::string& message) {
  const auto run_id = getString(pass.status, "runId");
  coordinator_.abortRun(run_id, message);
  coordinator_.forget(run_id);
  forgetRun(pass.key, run_id);
  if (auto s = deleteRunPods(pass.ns, run_id, true); !s.ok()) return s.error();
  const auto completed = now();
  auto w = writeStatus(pass, [&](json& st) {
    st["phase"] = kFailed;
    st["verdict"] = "Aborted";
    st["reason"] = reason;
    st["message"] = message;
    st["completionTime"] = completed;
    setCondition(st, Condition::kRunning, false, reason, message, pass.generation, completed);
    setCondition(st, Condition::kComplete, true, reason, message, pass.generation, completed);
    setCondition(st, Condition::kThresholdsPassed, false, reason, message, pass.generation, completed);
    json entry{{"runId", run_id}, {"trigger", getString(st, "runReason")}, {"startTime", getString(st, "startTime")},
               {"completionTime", completed}, {"phase", kFailed}, {"verdict", "Aborted"}, {"reason", reason},
               {"agents", k8s::getInt(getObject(st, "agents"), "desired")},
               {"params", getObject(getObject(pass.lt, "spec"), "params")}};
    pushHistory(st, entry, pass.spec.history_limit);
  });
  if (!w.ok()) return w.error();
  logger("operator")->warn("loadtest={} run={} failed: {}: {}", pass.key, run_id, reason, message);
  event(pass.lt, "Warning", reason, "run " + run_id + ": " + message);
  return afterRun(pass);
}

Result<ReconcileResult> Reconciler::afterRun(Pass& pass) {
  const auto run_id = getString(pass.status, "runId");
  if (run_id.empty() || !pass.spec.ttl_seconds_after_finished || (pass.status.contains("cleanedUp") && pass.status["cleanedUp"] == true))
    return ReconcileResult{};
  auto completed = parseRfc3339(getString(pass.status, "completionTime"));
  if (!completed) return ReconcileResult{};
  auto due = *completed + std::chrono::seconds(*pass.spec.ttl_seconds_after_finished);
  if (pass.now < due) return ReconcileResult{duration_cast<milliseconds>(due - pass.now) + milliseconds(100)};
  if (auto s = deleteRunPods(pass.ns, run_id, false); !s.ok()) return s.error();
  auto removed = client_.remove(k8s::resources::kSecrets, pass.ns, tokenSecretName(run_id));
  if (!removed.ok() && !removed.error().isNotFound()) return removed.error().toError();
  removed = client_.remove(k8s::resources::kConfigMaps, pass.ns, scenarioSnapshotName(run_id));
  if (!removed.ok() && !removed.error().isNotFound()) return removed.error().toError();
  auto w = writeStatus(pass, [&](json& st) { st["cleanedUp"] = true; });
  if (!w.ok()) return w.error();
  event(pass.lt, "Normal", "CleanedUp",
        "run " + run_id + ": agent pods and token deleted " + std::to_string(*pass.spec.ttl_seconds_after_finished) +
            "s after the run ended (ttlSecondsAfterFinished)");
  return ReconcileResult{};
}

}  // namespace herd::controller
