#include "operator/controller/builders.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/report/compress.h"

namespace herd::controller {

using json = Json;
using k8s::getObject;
using k8s::getString;

std::string makeRunId(const std::string& loadtest_name, uint64_t random) {
  // Label values are at most 63 characters; keep 7 for "-xxxxxx".
  std::string base = loadtest_name.substr(0, 56);
  while (!base.empty() && (base.back() == '-' || base.back() == '.')) base.pop_back();
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06llx", static_cast<unsigned long long>(random & 0xffffff));
  return base + "-" + suffix;
}

std::string tokenSecretName(const std::string& run_id) { return run_id + "-token"; }
std::string summaryConfigMapName(const std::string& run_id) { return k8s::loadtest::summaryConfigMapName(run_id); }
std::string scenarioSnapshotName(const std::string& run_id) { return run_id + "-scenario"; }
std::string agentPodName(const std::string& run_id, int index) { return run_id + "-agent-" + std::to_string(index); }
std::string runSelector(const std::string& run_id) { return std::string(kLabelRun) + "=" + run_id; }

json ownerReference(const json& loadtest) {
  return {{"apiVersion", kLoadTests.apiVersion()},   {"kind", kLoadTests.kind}, {"name", k8s::nameOf(loadtest)},
          {"uid", k8s::metaString(loadtest, "uid")}, {"controller", true},      {"blockOwnerDeletion", true}};
}

namespace {

json childMetadata(const json& loadtest, const std::string& name, const std::string& run_id) {
  return {
      {"name", name},
      {"namespace", k8s::namespaceOf(loadtest)},
      {"labels", {{kLabelManagedBy, kManagedByValue}, {kLabelLoadTest, k8s::nameOf(loadtest)}, {kLabelRun, run_id}}},
      {"ownerReferences", json::array({ownerReference(loadtest)})}};
}

// Copies string→string entries of a template map (labels, annotations, nodeSelector).
json stringMap(const json& from) {
  json out = json::object();
  if (!from.is_object()) return out;
  for (auto& [k, v] : from.items())
    if (v.is_string()) out[k] = v;
  return out;
}

json restrictedContainerSecurity() {
  return {{"runAsNonRoot", true},
          {"readOnlyRootFilesystem", true},
          {"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", json::array({"ALL"})}}},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

json agentEnv(const json& loadtest, const std::string& run_id, int index, const json& tmpl) {
  json env = json::array();
  // The template's variables first; herd's own come last so they win (the
  // container runtime uses the last of duplicate names).
  if (tmpl.contains("env") && tmpl["env"].is_array())
    for (const auto& e : tmpl["env"])
      if (e.is_object() && !getString(e, "name").empty()) env.push_back(e);
  env.push_back({{"name", "HERD_RUN_ID"}, {"value", run_id}});
  env.push_back({{"name", "HERD_AGENT_INDEX"}, {"value", std::to_string(index)}});
  env.push_back({{"name", "HERD_LOADTEST"}, {"value", k8s::keyOf(loadtest)}});
  env.push_back({{"name", "HERD_POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}});
  env.push_back({{"name", "HERD_POD_UID"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.uid"}}}}}});
  return env;
}

}  // namespace

json buildTokenSecret(const json& loadtest, const std::string& run_id, const std::string& token,
                      const std::string& ca_pem) {
  json data{{kTokenKey, token}};
  if (!ca_pem.empty()) data[kCaKey] = ca_pem;
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "Opaque"},
          {"metadata", childMetadata(loadtest, tokenSecretName(run_id), run_id)},
          {"stringData", data}};
}

json buildSummaryConfigMap(const json& loadtest, const std::string& run_id, const std::string& summary_json,
                           const std::string& report_gz) {
  json cm{{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", childMetadata(loadtest, summaryConfigMapName(run_id), run_id)},
          {"data", {{k8s::loadtest::kSummaryKey, summary_json}}}};
  if (report_gz.empty()) return cm;
  auto encoded = report::base64Encode(report_gz);
  if (summary_json.size() + encoded.size() <= k8s::loadtest::kConfigMapBudget) {
    cm["binaryData"] = {{k8s::loadtest::kReportKey, std::move(encoded)}};
  } else {
    cm["metadata"]["annotations"][k8s::loadtest::kAnnotationReportOmitted] =
        "report.html is " + std::to_string(report_gz.size()) + " bytes gzipped (" + std::to_string(encoded.size()) +
        " in base64); with the summary that is above the ConfigMap budget of " +
        std::to_string(k8s::loadtest::kConfigMapBudget) + " bytes";
  }
  return cm;
}

json buildScenarioSnapshot(const json& loadtest, const std::string& run_id, const std::string& source_name,
                           const std::string& text) {
  json meta = childMetadata(loadtest, scenarioSnapshotName(run_id), run_id);
  meta["annotations"] = {{"herd.dev/scenario-source", source_name}};
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", meta}, {"data", {{"scenario.yaml", text}}}};
}

json buildAgentPod(const json& loadtest, const LoadTestSpec& spec, const std::string& run_id, int index,
                   const AgentSettings& settings, const AgentSizing& sizing) {
  const json& tmpl = spec.agent_template;
  json meta = childMetadata(loadtest, agentPodName(run_id, index), run_id);
  json labels = stringMap(getObject(tmpl, "labels"));
  labels.update(meta["labels"]);  // herd's labels win: the run's selector depends on them
  labels[kLabelAgentIndex] = std::to_string(index);
  labels["app.kubernetes.io/name"] = "herd";
  labels["app.kubernetes.io/component"] = "agent";
  meta["labels"] = labels;
  json annotations = stringMap(getObject(tmpl, "annotations"));
  if (settings.metrics_port != 0) {
    // Annotation-based discovery; the template's own prometheus.io/* values win.
    annotations.emplace("prometheus.io/scrape", "true");
    annotations.emplace("prometheus.io/port", std::to_string(settings.metrics_port));
    annotations.emplace("prometheus.io/path", "/metrics");
  }
  if (!annotations.empty()) meta["annotations"] = annotations;

  // --run-id: the operator's coordinator serves every run on one listener.
  json args = json::array({"--coordinator", settings.coordinator, "--run-id", run_id, "--token-file",
                           std::string(kTokenMountPath) + "/" + kTokenKey,
                           // agentIdOf(pod): the reconciler names the agents it scales away.
                           "--agent-id", "$(HERD_POD_NAME)/$(HERD_POD_UID)"});
  if (!settings.coordinator_ca.empty()) {
    // The CA came with the token (buildTokenSecret); the server name is checked.
    args.push_back("--tls-ca");
    args.push_back(std::string(kTokenMountPath) + "/" + kCaKey);
    if (!settings.coordinator_server_name.empty()) {
      args.push_back("--tls-server-name");
      args.push_back(settings.coordinator_server_name);
    }
  }
  if (settings.metrics_port != 0) {
    args.push_back("--metrics-listen");
    args.push_back(":" + std::to_string(settings.metrics_port));
  }
  json container{{"name", "agent"},
                 {"image", getString(tmpl, "image", settings.image)},
                 {"command", settings.command},
                 {"args", args},
                 {"env", agentEnv(loadtest, run_id, index, tmpl)},
                 {"securityContext", restrictedContainerSecurity()},
                 {"volumeMounts", json::array({{{"name", "token"}, {"mountPath", kTokenMountPath}, {"readOnly", true}},
                                               {{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
  if (settings.metrics_port != 0) {
    container["ports"] = json::array(
        {{{"name", "metrics"}, {"containerPort", settings.metrics_port}, {"protocol", "TCP"}}});
  }
  if (!getString(tmpl, "imagePullPolicy").empty()) container["imagePullPolicy"] = tmpl["imagePullPolicy"];
  container["resources"] = agentResources(sizing, getObject(tmpl, "resources"));

  const json& grace = tmpl.contains("terminationGracePeriodSeconds") ? tmpl["terminationGracePeriodSeconds"] : json();
  json pod_spec{
      {"restartPolicy", "Never"},  // a crashed agent is a lost agent: the policy decides
      // SIGTERM (a scale down, a replaced pod) lets the agent deliver its last report.
      {"terminationGracePeriodSeconds", grace.is_number_integer() ? grace : json(agentTerminationGraceSeconds(sizing))},
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", 65532},
        {"runAsGroup", 65532},
        {"fsGroup", 65532},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", json::array({container})},
      {"volumes",
       json::array({{{"name", "token"}, {"secret", {{"secretName", tokenSecretName(run_id)}, {"defaultMode", 0440}}}},
                    {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}}})}};
  json node_selector = stringMap(getObject(tmpl, "nodeSelector"));
  if (!node_selector.empty()) pod_spec["nodeSelector"] = node_selector;
  if (tmpl.contains("tolerations") && tmpl["tolerations"].is_array()) pod_spec["tolerations"] = tmpl["tolerations"];
  if (tmpl.contains("affinity") && tmpl["affinity"].is_object()) pod_spec["affinity"] = tmpl["affinity"];
  for (const char* k : {"serviceAccountName", "priorityClassName"})
    if (!getString(tmpl, k).empty()) pod_spec[k] = tmpl[k];
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", pod_spec}};
}

PodHealth classifyPod(const json& pod) {
  if (!k8s::metaString(pod, "deletionTimestamp").empty()) return {PodHealth::State::kTerminating, {}};
  const json& status = getObject(pod, "status");
  auto phase = getString(status, "phase");
  if (phase == "Succeeded") return {PodHealth::State::kSucceeded, {}};
  if (status.contains("containerStatuses") && status["containerStatuses"].is_array()) {
    for (const auto& cs : status["containerStatuses"]) {
      const json& state = getObject(cs, "state");
      const json& waiting = getObject(state, "waiting");
      auto reason = getString(waiting, "reason");
      if (reason == "ImagePullBackOff" || reason == "ErrImagePull")
        return {PodHealth::State::kImagePulling, reason + ": " + getString(waiting, "message")};
      if (reason == "CrashLoopBackOff" || reason == "CreateContainerConfigError" || reason == "InvalidImageName")
        return {PodHealth::State::kCrashed, reason + ": " + getString(waiting, "message")};
      const json& term = getObject(state, "terminated");
      if (!term.empty() && k8s::getInt(term, "exitCode") != 0)
        return {PodHealth::State::kCrashed,
                "exited with code " + std::to_string(k8s::getInt(term, "exitCode")) +
                    (getString(term, "reason").empty() ? "" : " (" + getString(term, "reason") + ")")};
    }
  }
  if (phase == "Failed")
    return {PodHealth::State::kCrashed, getString(status, "reason", "Failed") + ": " + getString(status, "message")};
  if (status.contains("conditions") && status["conditions"].is_array()) {
    for (const auto& c : status["conditions"]) {
      auto type = getString(c, "type");
      if (type == "PodScheduled" && getString(c, "status") == "False" && getString(c, "reason") == "Unschedulable")
        return {PodHealth::State::kUnschedulable, getString(c, "message")};
      if (type == "Ready" && getString(c, "status") == "True") return {PodHealth::State::kReady, {}};
    }
  }
  return {PodHealth::State::kPending, {}};
}

std::string agentIdOf(const json& pod) { return k8s::nameOf(pod) + "/" + k8s::metaString(pod, "uid"); }

int agentIndexOf(const json& pod) {
  auto v = getString(getObject(getObject(pod, "metadata"), "labels"), kLabelAgentIndex);
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(v);
}

bool setCondition(json& status, const std::string& type, bool value, const std::string& reason,
                  const std::string& message, int64_t generation, const std::string& now) {
  auto typed = LoadTestStatus::fromJson(status);
  const bool changed = typed.setCondition(type, value, reason, message, generation, now);
  status["conditions"] = typed.toJson()["conditions"];
  return changed;
}

std::optional<bool> conditionStatus(const json& status, const std::string& type) {
  for (const auto& c : LoadTestStatus::fromJson(status).conditions)
    if (c.type == type) return c.status == "True";
  return std::nullopt;
}

StatusTotals statusTotals(const RunTotals& t) {
  const double pct = t.requests > 0 ? 100.0 * static_cast<double>(t.failures) / static_cast<double>(t.requests) : 0.0;
  return {t.requests, t.failures, t.rps, pct, t.p50_ms, t.p95_ms, t.p99_ms};
}

json totalsJson(const RunTotals& t) { return toJson(statusTotals(t)); }

namespace {
json summaryArray(const std::string& summary_json, const char* key) {
  json summary = json::parse(summary_json, nullptr, /*allow_exceptions=*/false);
  if (!summary.is_object() || !summary.contains(key) || !summary[key].is_array()) return json::array();
  return summary[key];
}

double numberOr0(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key)) return 0;
  const json& value = obj.at(key);
  return value.is_number() ? value.get<double>() : 0;
}
}  // namespace

json endpointsFromSummary(const std::string& summary_json) {
  json all = summaryArray(summary_json, "endpoints");
  std::vector<json> rows;
  for (const auto& e : all) {
    if (!e.is_object()) continue;
    rows.push_back({{"name", getString(e, "name")},
                    {"method", getString(e, "method")},
                    {"requests", static_cast<int64_t>(numberOr0(e, "requests"))},
                    {"failures", static_cast<int64_t>(numberOr0(e, "failures"))},
                    {"rps", numberOr0(e, "rps")},
                    {"p95", numberOr0(getObject(e, "latency"), "p95")}});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    return a["requests"].get<int64_t>() > b["requests"].get<int64_t>();
  });
  if (rows.size() > 10) rows.resize(10);
  return json(rows);
}

json deliveryFromSummary(const std::string& summary_json) {
  json all = summaryArray(summary_json, "delivery");
  json out = json::array();
  for (const auto& d : all)
    if (d.is_object() && out.size() < 20) out.push_back(d);
  return out;
}

void pushHistory(json& status, json entry, int limit) {
  json history = status.contains("history") ? status["history"] : json();
  pushHistoryEntry(history, std::move(entry), limit);
  status["history"] = std::move(history);
}

void pushHistoryEntry(json& history, json entry, int limit) {
  json next = json::array({std::move(entry)});
  if (history.is_array())
    for (const auto& e : history) next.push_back(e);
  while (static_cast<int>(next.size()) > limit) next.erase(next.size() - 1);
  history = std::move(next);
}

const json* findBaselineEntry(const json& history, const std::string& run) {
  if (!history.is_array()) return nullptr;
  for (const auto& e : history) {
    if (run == kLatestPassing ? getString(e, "verdict") == "Passed" : getString(e, "runId") == run) return &e;
  }
  return nullptr;
}

json historyBaselineResults(const json& entry) {
  return {{"runId", getString(entry, "runId")},
          {"totals", getObject(entry, "totals")},
          {"thresholds",
           entry.contains("thresholds") && entry["thresholds"].is_array() ? entry["thresholds"] : json::array()}};
}

json historyThresholds(const std::vector<StatusThreshold>& thresholds) {
  json out = json::array();
  for (const auto& t : thresholds) out.push_back(toJson(t));
  return out;
}

std::optional<std::string> regression(const json& history, const RunTotals& totals, const LoadTestSpec& spec) {
  if (!history.is_array()) return std::nullopt;
  for (const auto& e : history) {
    if (getString(e, "verdict") != "Passed") continue;
    const json& prev = getObject(e, "totals");
    double prev_p95 = numberOr0(getObject(prev, "latency"), "p95");
    double prev_rps = numberOr0(prev, "rps");
    char buf[256];
    if (spec.max_p95_increase_percent && prev_p95 > 0 &&
        totals.p95_ms > prev_p95 * (1 + *spec.max_p95_increase_percent / 100)) {
      std::snprintf(buf, sizeof buf, "p95 %.2fms is %.1f%% above run %s's %.2fms (allowed %.1f%%)", totals.p95_ms,
                    100 * (totals.p95_ms / prev_p95 - 1), getString(e, "runId").c_str(), prev_p95,
                    *spec.max_p95_increase_percent);
      return std::string(buf);
    }
    if (spec.max_rps_decrease_percent && prev_rps > 0 &&
        totals.rps < prev_rps * (1 - *spec.max_rps_decrease_percent / 100)) {
      std::snprintf(buf, sizeof buf, "%.1f requests/s is %.1f%% below run %s's %.1f (allowed %.1f%%)", totals.rps,
                    100 * (1 - totals.rps / prev_rps), getString(e, "runId").c_str(), prev_rps,
                    *spec.max_rps_decrease_percent);
      return std::string(buf);
    }
    return std::nullopt;  // only the newest passing run is the baseline
  }
  return std::nullopt;
}

std::optional<std::string> incompleteTotals(const std::string& summary_json) {
  const json summary = json::parse(summary_json, nullptr, false);
  // Only an explicit false says something is missing: a summary without the field
  // predates it. (Compared as json, not read with value<bool>(), whose inlined
  // type check GCC 12 flags as a possible null dereference at -O2.)
  if (!summary.is_object() || !summary.contains("totalsComplete") || summary.at("totalsComplete") != json(false))
    return std::nullopt;
  const json& missing = getObject(summary, "missingTotals");
  std::string out = "no reports from";
  const char* sep = " ";
  if (missing.contains("agents") && missing["agents"].is_array()) {
    for (const auto& a : missing["agents"]) {
      if (!a.is_object()) continue;
      char seconds[64];
      std::snprintf(seconds, sizeof seconds, "%.0fs-%.0fs", numberOr0(a, "fromSecond"),
                    std::ceil(numberOr0(a, "toSecond")));
      const auto who = getString(a, "agent", "users whose agents did not come back");
      out += sep + who + " " + seconds + " (" + getString(a, "reason") + ")";
      sep = ", ";
    }
  }
  if (missing.contains("estimatedRequests") && missing["estimatedRequests"].is_number_integer())
    out += "; about " + std::to_string(missing["estimatedRequests"].get<int64_t>()) + " requests missing";
  return out + "; thresholds judged on what was counted";
}

}  // namespace herd::controller
