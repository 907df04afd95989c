// The end of a run: finished (the coordinator's verdict, the regression rule, the
// summary), failed (aborted by the operator), and what comes after (the TTL).
#include <set>

#include "common/core/logging.h"
#include "operator/controller/reconciler_steps.h"

namespace herd::controller {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

// How a finished run went, before it is written.
struct Outcome {
  std::string verdict, reason, message;
  std::optional<std::string> incomplete;  // what the totals miss, when they do
  bool passed() const { return verdict == "Passed"; }
};

// The coordinator's verdict, turned Failed when the run regressed against the
// history; known losses are said in the message whatever the verdict.
Outcome judge(const RunProgress& progress, const LoadTestStatus& status, const LoadTestSpec& spec) {
  Outcome out{toString(progress.verdict),
              progress.verdict == RunProgress::Verdict::kPassed   ? "ThresholdsPassed"
              : progress.verdict == RunProgress::Verdict::kFailed ? "ThresholdsFailed"
                                                                  : "RunAborted",
              progress.message, incompleteTotals(progress.summary_json)};
  if (progress.verdict == RunProgress::Verdict::kPassed) {
    if (auto worse = regression(status.history.is_null() ? json::array() : status.history, progress.totals, spec)) {
      out.verdict = "Failed";
      out.reason = "Regression";
      out.message = *worse;
    }
  }
  if (out.incomplete) out.message += (out.message.empty() ? "" : "; ") + ("totals incomplete: " + *out.incomplete);
  return out;
}

// The ended run as status.history keeps it.
json historyEntry(const LoadTestStatus& st, const json& loadtest) {
  return {{"runId", st.run_id},
          {"trigger", st.run_reason},
          {"startTime", st.start_time},
          {"completionTime", st.completion_time},
          {"phase", phaseName(st.phase)},
          {"verdict", st.verdict},
          {"reason", st.reason},
          {"agents", st.desiredAgents()},
          {"params", getObject(getObject(loadtest, "spec"), "params")}};
}

// The run's end in the status, as the coordinator reported it.
void recordFinished(LoadTestStatus& st, const RunProgress& progress, const Outcome& outcome, int64_t generation,
                    const std::string& completed) {
  st.phase = outcome.passed() ? Phase::kSucceeded : Phase::kFailed;
  st.verdict = outcome.verdict;
  st.reason = outcome.reason;
  st.message = outcome.message;
  st.completion_time = completed;
  st.users = progress.users;
  st.totals = statusTotals(progress.totals);
  st.latency_histogram = progress.latency;
  if (!st.agents)
    st.agents = LoadTestStatus::Agents{};  // not emplace(): clang 14 finds the nested type not constructible
  st.agents->connected = 0;
  if (!progress.summary_json.empty()) st.summary_config_map = summaryConfigMapName(st.run_id);
  st.thresholds.emplace();
  for (const auto& t : progress.thresholds) st.thresholds->push_back(t);
  st.endpoints = endpointsFromSummary(progress.summary_json);
  st.delivery = deliveryFromSummary(progress.summary_json);
  st.setCondition(Condition::kRunning, false, "RunEnded", "", generation, completed);
  st.setCondition(Condition::kComplete, true, outcome.reason, outcome.message, generation, completed);
  st.setCondition(Condition::kThresholdsPassed, outcome.passed(), outcome.reason, outcome.message, generation,
                  completed);
  if (!progress.summary_json.empty())
    st.setCondition(Condition::kTotalsComplete, !outcome.incomplete,
                    outcome.incomplete ? "ReportsMissing" : "AllReportsCounted", outcome.incomplete.value_or(""),
                    generation, completed);
}

// The run's end in the status when the operator ends it (verdict Aborted).
void recordFailed(LoadTestStatus& st, const std::string& reason, const std::string& message, int64_t generation,
                  const std::string& completed) {
  st.phase = Phase::kFailed;
  st.verdict = "Aborted";
  st.reason = reason;
  st.message = message;
  st.completion_time = completed;
  st.setCondition(Condition::kRunning, false, reason, message, generation, completed);
  st.setCondition(Condition::kComplete, true, reason, message, generation, completed);
  st.setCondition(Condition::kThresholdsPassed, false, reason, message, generation, completed);
}

// Results are kept while the history names their run: the summary ConfigMaps of
// runs historyLimit has dropped go. A failure is logged; the next run's end retries.
void pruneSummaries(k8s::Client& client, const std::string& ns, const std::string& name, const LoadTestStatus& st) {
  std::set<std::string> keep{st.run_id};
  if (st.history.is_array())
    for (const auto& entry : st.history) keep.insert(getString(entry, "runId"));
  k8s::ListOptions opts;
  opts.label_selector = std::string(kLabelLoadTest) + "=" + name;
  auto listed = client.listAll(k8s::resources::kConfigMaps, ns, opts);
  if (!listed.ok()) return;
  for (const auto& cm : (*listed)["items"]) {
    const auto run = getString(getObject(getObject(cm, "metadata"), "labels"), kLabelRun);
    if (run.empty() || keep.count(run) || k8s::nameOf(cm) != k8s::loadtest::summaryConfigMapName(run)) continue;
    auto removed = client.remove(k8s::resources::kConfigMaps, ns, k8s::nameOf(cm));
    if (!removed.ok() && !removed.error().isNotFound())
      logger("operator")
          ->warn("loadtest={}/{} summary {} not deleted: {}", ns, name, k8s::nameOf(cm), removed.error().describe());
  }
}

}  // namespace

Result<ReconcileResult> Reconciler::finishRun(Pass& pass, const RunProgress& progress) {
  const auto run_id = pass.status.run_id;
  const auto outcome = judge(progress, pass.status, pass.spec);
  if (!progress.summary_json.empty()) {
    auto cm = client_.create(k8s::resources::kConfigMaps, pass.ns,
                             buildSummaryConfigMap(pass.lt, run_id, progress.summary_json, progress.report_gz));
    if (!cm.ok() && !cm.error().isAlreadyExists()) return cm.error().toError();
  }
  const auto completed = now();
  auto w = writeStatus(pass, [&](LoadTestStatus& st) {
    recordFinished(st, progress, outcome, pass.generation, completed);
    json entry = historyEntry(st, pass.lt);
    entry["users"] = progress.users;
    entry["totals"] = totalsJson(progress.totals);
    entry["thresholds"] = historyThresholds(progress.thresholds);
    if (st.baseline) entry["baseline"] = {{"loadTest", st.baseline->load_test}, {"runId", st.baseline->run_id}};
    pushHistoryEntry(st.history, std::move(entry), pass.spec.history_limit);
  });
  if (!w.ok()) return w.error();
  pruneSummaries(client_, pass.ns, pass.name, pass.status);
  coordinator_.forget(run_id);
  forgetRun(pass.key, run_id);
  event(pass.lt, outcome.passed() ? "Normal" : "Warning", outcome.passed() ? "RunSucceeded" : "RunFailed",
        "run " + run_id + " " + outcome.verdict + (outcome.message.empty() ? "" : ": " + outcome.message));
  return afterRun(pass);
}

Result<ReconcileResult> Reconciler::failRun(Pass& pass, const std::string& reason, const std::string& message) {
  const auto run_id = pass.status.run_id;
  coordinator_.abortRun(run_id, message);
  coordinator_.forget(run_id);
  forgetRun(pass.key, run_id);
  if (auto s = deleteRunPods(pass.ns, run_id, true); !s.ok()) return s.error();
  const auto completed = now();
  auto w = writeStatus(pass, [&](LoadTestStatus& st) {
    recordFailed(st, reason, message, pass.generation, completed);
    pushHistoryEntry(st.history, historyEntry(st, pass.lt), pass.spec.history_limit);
  });
  if (!w.ok()) return w.error();
  pruneSummaries(client_, pass.ns, pass.name, pass.status);
  logger("operator")->warn("loadtest={} run={} failed: {}: {}", pass.key, run_id, reason, message);
  event(pass.lt, "Warning", reason, "run " + run_id + ": " + message);
  return afterRun(pass);
}

// spec.ttlSecondsAfterFinished: the run's pods, token and scenario copy go once it is due.
Result<ReconcileResult> Reconciler::afterRun(Pass& pass) {
  const auto run_id = pass.status.run_id;
  if (run_id.empty() || !pass.spec.ttl_seconds_after_finished || pass.status.cleanedUp()) return ReconcileResult{};
  auto completed = parseRfc3339(pass.status.completion_time);
  if (!completed) return ReconcileResult{};
  auto due = *completed + std::chrono::seconds(*pass.spec.ttl_seconds_after_finished);
  if (pass.now < due) return ReconcileResult{duration_cast<milliseconds>(due - pass.now) + milliseconds(100)};
  if (auto s = deleteRunPods(pass.ns, run_id, false); !s.ok()) return s.error();
  for (const auto& [resource, name] : {std::pair{k8s::resources::kSecrets, tokenSecretName(run_id)},
                                       std::pair{k8s::resources::kConfigMaps, scenarioSnapshotName(run_id)}}) {
    auto removed = client_.remove(resource, pass.ns, name);
    if (!removed.ok() && !removed.error().isNotFound()) return removed.error().toError();
  }
  auto w = writeStatus(pass, [&](LoadTestStatus& st) { st.cleaned_up = true; });
  if (!w.ok()) return w.error();
  event(pass.lt, "Normal", "CleanedUp",
        "run " + run_id + ": agent pods and token deleted " + std::to_string(*pass.spec.ttl_seconds_after_finished) +
            "s after the run ended (ttlSecondsAfterFinished)");
  return ReconcileResult{};
}

}  // namespace herd::controller
