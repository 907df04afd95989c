// A run's definition as the reconciler keeps it: compiled once when the run starts
// (startRun), held in memory for every later pass, and compiled again only by an
// operator that did not start the run (after a restart or a change of leader),
// from the text the run started with.
#include "common/core/crypto.h"
#include "common/core/logging.h"
#include "operator/controller/reconciler_steps.h"

namespace herd::controller {

LoadTestStatus::Plan planStatus(const StartedRun& run) {
  return {run.source.name, run.sha256, scenario::formatDuration(run.compiled->plan.load.duration),
          run.compiled->total_users};
}

std::string pinnedMessage(const StartedRun& run) {
  return "scenario " + run.source.name + " compiles (sha256 " + run.sha256.substr(0, 12) +
         "); the run keeps it: edits apply to the next run";
}

void Reconciler::remember(const std::string& run_id, std::shared_ptr<const StartedRun> run) {
  std::lock_guard lock(mu_);
  started_[run_id] = std::move(run);
}

void Reconciler::forgetRun(const std::string& key, const std::string& run_id) {
  std::lock_guard lock(mu_);
  started_.erase(run_id);
  auto it = live_runs_.find(key);
  if (it != live_runs_.end() && it->second == run_id) live_runs_.erase(it);
}

Result<std::shared_ptr<const StartedRun>> Reconciler::startedRun(Pass& pass, std::string& reason) {
  const auto& run_id = pass.status.run_id;
  {
    std::lock_guard lock(mu_);
    if (auto it = started_.find(run_id); it != started_.end()) return it->second;
  }
  auto source = startedSource(pass, reason);
  if (!source.ok()) return source.error();
  auto compiled = compileLoadTest(*source, pass.spec);
  if (!compiled.ok()) {
    reason = "InvalidScenario";
    return compiled.error();
  }
  // The baseline the run started with (status.baseline), read again from what it stored.
  auto baseline = applyBaseline(pass, *compiled, pass.status.baseline);
  if (!baseline.ok()) return baseline.error();
  auto run = std::make_shared<const StartedRun>(
      StartedRun{std::make_shared<const scenario::CompiledRun>(std::move(*compiled)), *source, sha256Hex(source->text),
                 *baseline});
  logger("operator")
      ->info("loadtest={} run={} carried on from scenario {} (sha256 {})", pass.key, run_id, run->source.name,
             run->sha256);
  remember(run_id, run);
  return run;
}

// The text the run started with: the spec's own (a change of it starts a new run),
// the copy taken at the start, or, when there is none, the ConfigMap if it still
// holds the same text.
Result<ScenarioSource> Reconciler::startedSource(Pass& pass, std::string& reason) {
  const auto& run_id = pass.status.run_id;
  reason.clear();  // an error without a reason is worth retrying
  if (pass.spec.inline_scenario) return readScenario(client_, pass.ns, pass.name, pass.spec);
  auto snapshot = client_.get(k8s::resources::kConfigMaps, pass.ns, scenarioSnapshotName(run_id));
  if (snapshot.ok()) {
    const json& data = getObject(*snapshot, "data");
    return ScenarioSource{
        getString(data, "scenario.yaml"),
        k8s::getString(getObject(getObject(*snapshot, "metadata"), "annotations"), "herd.dev/scenario-source")};
  }
  if (!snapshot.error().isNotFound()) return snapshot.error().toError();
  auto source = readScenario(client_, pass.ns, pass.name, pass.spec);
  if (!source.ok()) {
    if (source.error().where == "spec.scenario.configMapRef") reason = "ScenarioNotFound";
    return source.error();
  }
  const auto want = pass.status.plan ? pass.status.plan->scenario_sha256 : std::string();
  if (!want.empty() && sha256Hex(source->text) != want) {
    reason = "ScenarioChanged";
    return Error{"run " + run_id + " started from scenario sha256 " + want + "; " + source->name +
                     " holds another text now and no copy of the first is left",
                 "status.plan.scenarioSha256"};
  }
  return source;
}

}  // namespace herd::controller
