// spec.baseline: which run a run's relative thresholds ("p95 < baseline * 1.10")
// compare with, and that run's numbers. They are read from what the baseline run
// stored when it ended (its summary ConfigMap, else its history entry), never
// from a live process; the choice is kept in status.baseline when the run
// starts, so an operator that takes the run over reads the same run.
#include "common/report/baseline.h"
#include "operator/controller/builders.h"
#include "operator/controller/reconciler_steps.h"

namespace herd::controller {

namespace {

json historyOf(const json& loadtest) {
  const json& status = getObject(loadtest, "status");
  return status.contains("history") && status["history"].is_array() ? status["history"] : json::array();
}

// The summary.json a run's ConfigMap keeps; null when it holds none that parses.
json storedSummary(const json& config_map) {
  const auto text = getString(getObject(config_map, "data"), "summary.json");
  json summary = json::parse(text, nullptr, false);
  return summary.is_object() ? summary : json();
}

}  // namespace

Result<Reconciler::ResolvedBaseline> Reconciler::resolveBaseline(Pass& pass, const scenario::CompiledRun& run,
                                                                 const std::optional<StatusBaseline>& pinned) {
  ResolvedBaseline out;
  if (!pass.spec.baseline && !report::needsBaseline(run.thresholds)) return out;
  if (pinned && pinned->run_id.empty()) {  // none was found when the run started
    out.status = *pinned;
    return out;
  }
  const BaselineRef ref = pass.spec.baseline.value_or(BaselineRef{});
  StatusBaseline st{pinned ? pinned->load_test : ref.load_test.empty() ? pass.name : ref.load_test, "", "", ""};
  const std::string want = pinned ? pinned->run_id : ref.run;
  const std::string whose = "LoadTest " + pass.ns + "/" + st.load_test;
  json history = pass.status.history;
  if (st.load_test != pass.name) {
    auto other = client_.get(kLoadTests, pass.ns, st.load_test);
    if (!other.ok() && !other.error().isNotFound()) return other.error().toError();
    history = other.ok() ? historyOf(*other) : json::array();
    if (!other.ok() && !pinned) {
      st.message = whose + " not found";
      out.status = st;
      return out;
    }
  }
  const json* entry = findBaselineEntry(history, want);
  if (!entry && !pinned) {
    st.message = want == kLatestPassing ? "no passing run in the history of " + whose + " yet"
                                        : "run " + want + " is not in the history of " + whose;
    out.status = st;
    return out;
  }
  const auto run_id = entry ? getString(*entry, "runId") : want;
  const auto cm_name = summaryConfigMapName(run_id);
  auto cm = client_.get(k8s::resources::kConfigMaps, pass.ns, cm_name);
  if (!cm.ok() && !cm.error().isNotFound()) return cm.error().toError();
  json summary = cm.ok() ? storedSummary(*cm) : json();
  if (summary.is_object()) {
    st.source = "configmap/" + cm_name;
    out.baseline = report::Baseline{run_id, st.source, std::move(summary)};
  } else if (entry) {
    st.source = "history";
    out.baseline = report::Baseline{run_id, st.source, historyBaselineResults(*entry)};
  } else {
    st.message = "run " + run_id + " of " + whose + " kept neither its summary nor its history entry";
    out.status = st;
    return out;
  }
  st.run_id = run_id;
  out.status = st;
  return out;
}

Result<std::optional<StatusBaseline>> Reconciler::applyBaseline(Pass& pass, scenario::CompiledRun& run,
                                                                const std::optional<StatusBaseline>& pinned) {
  auto resolved = resolveBaseline(pass, run, pinned);
  if (!resolved.ok()) return resolved.error();
  report::applyBaseline(run.thresholds, resolved->baseline, resolved->status ? resolved->status->message : "");
  return resolved->status;
}

}  // namespace herd::controller
