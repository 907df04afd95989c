#include "agent/k8srun/loadtest_run.h"

#include <fstream>
#include <sstream>

#include "common/core/clock.h"
#include "common/k8s/loadtest_api.h"
#include "common/report/compress.h"
#include "common/scenario/yaml_json.h"

namespace herd::k8srun {

namespace {

using k8s::getInt;
using k8s::getObject;
using k8s::getString;

double numberOr0(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number() ? obj[key].get<double>() : 0.0;
}

// The progress line's numbers from status.totals and status.users.
report::SecondSample sampleOf(const json& status, std::chrono::system_clock::time_point now) {
  const json& totals = getObject(status, "totals");
  const json& latency = getObject(totals, "latency");
  report::SecondSample s;
  if (auto start = parseRfc3339(getString(status, "startTime")))
    s.elapsed_seconds = std::max(0.0, std::chrono::duration<double>(now - *start).count());
  s.users = getInt(status, "users");
  s.requests = static_cast<uint64_t>(numberOr0(totals, "rps") + 0.5);  // the line shows a rate
  s.total_requests = static_cast<uint64_t>(getInt(totals, "requests"));
  s.total_failures = static_cast<uint64_t>(getInt(totals, "failures"));
  s.p50_ms = numberOr0(latency, "p50");
  s.p95_ms = numberOr0(latency, "p95");
  s.p99_ms = numberOr0(latency, "p99");
  s.generator_busy_percent = -1;  // the status does not say
  return s;
}

bool anyThresholdFailed(const json& status) {
  const json& thresholds = status.is_object() && status.contains("thresholds") ? status["thresholds"] : json();
  if (!thresholds.is_array()) return false;
  for (const auto& t : thresholds)
    if (t.is_object() && t.contains("passed") && t["passed"] == false) return true;
  return false;
}

// A finished run's outcome. A run refused before it started (no run id: the
// scenario does not compile, the guardrails refuse it) is invalid input.
Outcome outcomeOf(const RunView& v, const json& status) {
  if (v.phase == "Succeeded") return Outcome::kPassed;
  if (v.phase != "Failed") return Outcome::kRunning;
  if (v.run_id.empty()) return Outcome::kInvalid;
  if (v.verdict == "Failed") return Outcome::kThresholdFailed;
  // Aborted by an abortOnFail threshold (the coordinator's), or by the operator (agents, timeouts).
  if (v.reason == "RunAborted" && anyThresholdFailed(status)) return Outcome::kThresholdFailed;
  return Outcome::kCouldNotRun;
}

}  // namespace

Result<json> readManifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the file", path};
  std::ostringstream text;
  text << in.rdbuf();
  auto doc = scenario::yamlDocumentToJson(text.str(), path, scenario::YamlScalars::kTyped);
  if (!doc) return doc.error();
  if (!doc->is_object()) return Error{"expected a LoadTest manifest (a mapping)", path};
  return doc;
}

Result<json> prepareManifest(json manifest, const std::string& ns, const std::string& default_ns,
                             const std::string& trigger) {
  const auto& r = k8s::loadtest::kResource;
  if (getString(manifest, "kind") != r.kind || getString(manifest, "apiVersion") != r.apiVersion())
    return Error{"expected apiVersion " + r.apiVersion() + ", kind " + r.kind + "; got " +
                     getString(manifest, "apiVersion") + ", " + getString(manifest, "kind"),
                 "kind"};
  if (!manifest["metadata"].is_object()) return Error{"missing", "metadata"};
  json& meta = manifest["metadata"];
  if (getString(meta, "name").empty()) return Error{"missing", "metadata.name"};
  const auto own = getString(meta, "namespace");
  if (!ns.empty() && !own.empty() && own != ns)
    return Error{"the manifest says namespace " + own + " and -n says " + ns, "metadata.namespace"};
  meta["namespace"] = !ns.empty() ? ns : !own.empty() ? own : default_ns;
  if (!meta["annotations"].is_object()) meta["annotations"] = json::object();
  meta["annotations"][k8s::loadtest::kAnnotationRun] = trigger;
  // Read-only fields a `kubectl get -o yaml` copy carries; apply refuses some of them.
  for (const char* key : {"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"})
    meta.erase(key);
  manifest.erase("status");
  return manifest;
}

RunView viewRun(const json& loadtest, const std::string& trigger, std::chrono::system_clock::time_point now) {
  const json& status = getObject(loadtest, "status");
  RunView v;
  v.ours = !trigger.empty() && getString(status, "runTrigger") == trigger;
  v.phase = getString(status, "phase");
  v.verdict = getString(status, "verdict");
  v.reason = getString(status, "reason");
  v.message = getString(status, "message");
  v.run_id = getString(status, "runId");
  v.summary_config_map = getString(status, "summaryConfigMap");
  v.sample = sampleOf(status, now);
  v.target_users = getInt(getObject(status, "plan"), "users");
  v.outcome = v.ours ? outcomeOf(v, status) : Outcome::kRunning;
  return v;
}

Result<FinishedRun> findRun(const json& loadtest, const std::string& run_id) {
  const json& status = getObject(loadtest, "status");
  const auto current = getString(status, "runId");
  const auto phase = getString(status, "phase");
  const bool current_done = phase == "Succeeded" || phase == "Failed";
  if (!current.empty() && current_done && (run_id.empty() || run_id == current))
    return FinishedRun{current, getString(status, "summaryConfigMap"), getString(status, "verdict")};
  const json& history = status.contains("history") ? status["history"] : json();
  if (history.is_array()) {
    for (const auto& entry : history) {
      const auto id = getString(entry, "runId");
      if (id.empty() || (!run_id.empty() && id != run_id)) continue;
      return FinishedRun{id, k8s::loadtest::summaryConfigMapName(id), getString(entry, "verdict")};
    }
  }
  if (run_id.empty()) return Error{"no finished run yet", "status.history"};
  return Error{"no run " + run_id + " in the status or its history (historyLimit keeps the newest)", "--run"};
}

json reportRunInfo(const json& loadtest) {
  const json& spec = getObject(loadtest, "spec");
  const json& status = getObject(loadtest, "status");
  const json& load = getObject(spec, "load");
  json params = getObject(spec, "params");
  return json{{"scenarioFile", "LoadTest " + k8s::namespaceOf(loadtest) + "/" + k8s::nameOf(loadtest)},
              {"target", getString(spec, "target")},
              {"users", getInt(getObject(status, "plan"), "users", getInt(load, "users"))},
              {"spawnRate", numberOr0(load, "spawnRate")},
              {"durationSeconds", 0},
              {"params", params},
              {"note", getString(getObject(status, "plan"), "duration")}};
}

k8s::ApiResult<json> applyLoadTest(k8s::Client& client, const json& manifest) {
  return client.apply(k8s::loadtest::kResource, manifest, true, {}, kFieldManager);
}

k8s::ApiResult<json> getLoadTest(k8s::Client& client, const std::string& ns, const std::string& name) {
  return client.get(k8s::loadtest::kResource, ns, name);
}

k8s::ApiResult<KeptResults> fetchResults(k8s::Client& client, const std::string& ns, const std::string& name) {
  auto cm = client.get(k8s::resources::kConfigMaps, ns, name);
  if (!cm.ok()) return cm.error();
  const auto where = "configmap/" + name;
  const json& data = getObject(*cm, "data");
  if (!data.contains(k8s::loadtest::kSummaryKey) || !data[k8s::loadtest::kSummaryKey].is_string())
    return k8s::ApiError{0, "", std::string("no ") + k8s::loadtest::kSummaryKey + " key", where};
  KeptResults out;
  out.summary_json = data[k8s::loadtest::kSummaryKey].get<std::string>();
  out.report_omitted = getString(getObject(getObject(*cm, "metadata"), "annotations"),
                                 k8s::loadtest::kAnnotationReportOmitted);
  const auto packed = getString(getObject(*cm, "binaryData"), k8s::loadtest::kReportKey);
  if (packed.empty()) return out;
  auto gz = report::base64Decode(packed);
  auto html = gz ? report::gunzip(*gz) : Result<std::string>(gz.error());
  if (!html) return k8s::ApiError{0, "", html.error().message, where + " " + k8s::loadtest::kReportKey};
  out.report_html = std::move(*html);
  return out;
}

k8s::ApiStatus requestStop(k8s::Client& client, const std::string& ns, const std::string& name,
                           const std::string& run_id) {
  json patch{{"metadata", {{"annotations", {{k8s::loadtest::kAnnotationStop, run_id}}}}}};
  auto patched = client.patch(k8s::loadtest::kResource, ns, name, patch);
  if (!patched.ok()) return patched.error();
  return Ok{};
}

}  // namespace herd::k8srun
