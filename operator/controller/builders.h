#pragma once
// Pure builders: the objects the reconciler wants to exist, computed from the
// LoadTest and the run, plus the small status edits it makes. No I/O, so all of
// it is unit-tested without a cluster (builders_test.cc); reconciler.cc only
// applies what these return.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "operator/controller/agent_sizing.h"
#include "operator/controller/coordinator.h"
#include "operator/controller/loadtest.h"
#include "operator/controller/loadtest_status.h"

namespace herd::controller {

// What the operator adds to every agent pod, from its flags.
struct AgentSettings {
  std::string image = "herd:latest";                  // --agent-image; spec.agentTemplate.image wins
  std::vector<std::string> command{"herd", "agent"};  // --agent-command (tests)
  std::string coordinator;                            // --coordinator-advertise host:port
  // --agent-metrics-port: agents serve Prometheus metrics on this port (a
  // container port named "metrics", prometheus.io/* annotations); 0: they do not.
  uint16_t metrics_port = 0;
  // --coordinator-tls-ca: the PEM bundle agents trust for the coordinator's
  // certificate. It travels in each run's token Secret (key ca.crt), since a
  // pod mounts Secrets of its own namespace only; empty: agents dial plaintext.
  std::string coordinator_ca;
  // --coordinator-tls-server-name: the name agents expect in that certificate
  // (default: the host of `coordinator`, the Service's DNS name).
  std::string coordinator_server_name;
};

inline constexpr const char* kTokenMountPath = "/var/run/herd/token";
inline constexpr const char* kTokenKey = "token";
inline constexpr const char* kCaKey = "ca.crt";

// A run id: the LoadTest's name (shortened so it stays a valid label value
// with room for suffixes) plus 6 hex digits of `random`.
std::string makeRunId(const std::string& loadtest_name, uint64_t random);
std::string tokenSecretName(const std::string& run_id);
std::string summaryConfigMapName(const std::string& run_id);
// The copy of a ConfigMap scenario's text taken when its run started.
std::string scenarioSnapshotName(const std::string& run_id);
std::string agentPodName(const std::string& run_id, int index);
// The label selector of a run's agent pods ("herd.dev/run=ID").
std::string runSelector(const std::string& run_id);

// The owner reference that ties a child to its LoadTest: deleting the LoadTest
// deletes the child (kube-controller-manager's garbage collector).
Json ownerReference(const Json& loadtest);

// The run's token and, with TLS, the coordinator's CA bundle (`ca_pem`).
Json buildTokenSecret(const Json& loadtest, const std::string& run_id, const std::string& token,
                      const std::string& ca_pem = "");
// The run's summary.json and, when both fit in k8s::loadtest::kConfigMapBudget,
// its gzipped report.html (binaryData); otherwise the report is left out and the
// annotation herd.dev/report-omitted says how large it was.
Json buildSummaryConfigMap(const Json& loadtest, const std::string& run_id, const std::string& summary_json,
                           const std::string& report_gz = "");
// The scenario text a run started with (key scenario.yaml) and where it came from
// (annotation herd.dev/scenario-source): a restarted operator carries the run on
// from this copy, whatever happened to the ConfigMap since.
Json buildScenarioSnapshot(const Json& loadtest, const std::string& run_id, const std::string& source_name,
                           const std::string& text);
// Agent pod `index` of the run: the spec's template (image, resources,
// placement, env, labels, annotations) under herd's labels, the token volume,
// and a restricted security context the template cannot weaken. Resources and
// terminationGracePeriodSeconds the template leaves out follow `sizing`.
Json buildAgentPod(const Json& loadtest, const LoadTestSpec& spec, const std::string& run_id, int index,
                   const AgentSettings& settings, const AgentSizing& sizing = {});

// How an agent pod is doing, as far as the run cares.
struct PodHealth {
  // kImagePulling: the kubelet cannot pull the image yet (ErrImagePull,
  // ImagePullBackOff) and keeps retrying; a registry may come back, so this is
  // not a crash: the reconciler waits up to spec.timeouts.agentsReady.
  enum class State { kPending, kReady, kUnschedulable, kImagePulling, kCrashed, kSucceeded, kTerminating };
  State state = State::kPending;
  std::string message;  // for kUnschedulable / kImagePulling / kCrashed: what the pod's status says
};
PodHealth classifyPod(const Json& pod);
int agentIndexOf(const Json& pod);  // -1 when the label is missing or odd
// The agent id the pod's `herd agent` says in its Hello: NAME/UID, so a pod
// recreated under the same name (a replacement, a scale down and up again) is
// a different agent to the coordinator.
std::string agentIdOf(const Json& pod);

// Sets conditions[type] in `status`; lastTransitionTime changes only when the
// condition's status does. Returns true when the condition's status changed.
bool setCondition(Json& status, const std::string& type, bool value, const std::string& reason,
                  const std::string& message, int64_t generation, const std::string& now);
// The same with a condition type of the status (loadtest_status.h).
inline bool setCondition(Json& status, Condition type, bool value, const std::string& reason,
                         const std::string& message, int64_t generation, const std::string& now) {
  return setCondition(status, std::string(conditionName(type)), value, reason, message, generation, now);
}
std::optional<bool> conditionStatus(const Json& status, const std::string& type);

StatusTotals statusTotals(const RunTotals& totals);
Json totalsJson(const RunTotals& totals);  // statusTotals as the status writes them
// From a run's summary.json (docs/design.md): the status's `endpoints` (the 10 with
// the most requests: name, method, requests, failures, rps, p95 ms) and
// `delivery` (at most 20 streams). Empty arrays when the text is not a summary.
Json endpointsFromSummary(const std::string& summary_json);
Json deliveryFromSummary(const std::string& summary_json);
// What a summary says is missing from its totals (summary.json's missingTotals:
// which agents, which seconds, about how many requests), for people; nullopt
// when the totals are complete or the text is not a summary.
std::optional<std::string> incompleteTotals(const std::string& summary_json);
// Prepends a finished run to status.history, keeping at most `limit` entries.
void pushHistory(Json& status, Json entry, int limit);
// The same on the history array itself (null reads as empty).
void pushHistoryEntry(Json& history, Json entry, int limit);
// The entry of `history` (newest first) a baseline names: the newest Passed run
// for latestPassing, else the run with that id. nullptr when there is none.
const Json* findBaselineEntry(const Json& history, const std::string& run);
// What a history entry keeps of its run (totals, thresholds) in summary.json's
// shape, for report::baselineValue when the run's summary ConfigMap is gone.
Json historyBaselineResults(const Json& entry);
// A run's thresholds as its history entry keeps them.
Json historyThresholds(const std::vector<StatusThreshold>& thresholds);
// The regression rule: compares this run's totals with the newest passing run
// in `history`. A message when the run regressed beyond the spec's margins.
std::optional<std::string> regression(const Json& history, const RunTotals& totals, const LoadTestSpec& spec);

}  // namespace herd::controller
