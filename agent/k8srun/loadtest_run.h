#pragma once
// One run of a LoadTest, driven from outside the cluster (`herd k8s run`): the
// manifest applied server-side with a fresh herd.dev/run value, the run that
// value started recognised in the status, and its results read back from the
// summary ConfigMap the operator keeps after the pods are gone. The reading of
// a status is pure (unit-tested); the calls are thin.
#include <chrono>
#include <cstdint>
#include <string>

#include "common/core/json.h"

#include "common/core/result.h"
#include "common/k8s/client.h"
#include "common/report/aggregate.h"

namespace herd::k8srun {

using json = Json;

// Field manager of the applies `herd k8s run` makes.
inline constexpr const char* kFieldManager = "herd-cli";

// How a run ended, as herd's exit codes say it (docs/design.md).
enum class Outcome { kRunning, kPassed, kThresholdFailed, kInvalid, kCouldNotRun };

// FILE: one LoadTest, YAML or JSON. Errors name the file.
Result<json> readManifest(const std::string& path);

// The manifest to apply: kind checked, namespace set (`ns`, else the
// manifest's, else `default_ns`), `trigger` as its herd.dev/run annotation.
Result<json> prepareManifest(json manifest, const std::string& ns, const std::string& default_ns,
                             const std::string& trigger);

// What a LoadTest's status says about the run `trigger` started.
struct RunView {
  bool ours = false;  // status.runTrigger is our trigger: the run (or its refusal) is ours
  Outcome outcome = Outcome::kRunning;
  std::string phase, verdict, reason, message, run_id, summary_config_map;
  report::SecondSample sample;  // for the progress line (cpu unknown: negative)
  int64_t target_users = 0;
};
RunView viewRun(const json& loadtest, const std::string& trigger, std::chrono::system_clock::time_point now);

// The finished run `run_id` (empty: the newest) from a LoadTest's status and
// history: where its summary is kept.
struct FinishedRun {
  std::string run_id, summary_config_map, verdict;
};
Result<FinishedRun> findRun(const json& loadtest, const std::string& run_id);

// The run's parameters for the report page (target, users, params) from the LoadTest.
json reportRunInfo(const json& loadtest);

// The calls.
k8s::ApiResult<json> applyLoadTest(k8s::Client& client, const json& manifest);
k8s::ApiResult<json> getLoadTest(k8s::Client& client, const std::string& ns, const std::string& name);
// What the operator kept of a finished run in ConfigMap `name`: summary.json,
// and report.html when it fit (else why not, from herd.dev/report-omitted).
struct KeptResults {
  std::string summary_json;
  std::string report_html;  // empty: not kept
  std::string report_omitted;
};
k8s::ApiResult<KeptResults> fetchResults(k8s::Client& client, const std::string& ns, const std::string& name);
// Asks the operator to stop run `run_id` (the herd.dev/stop annotation).
k8s::ApiStatus requestStop(k8s::Client& client, const std::string& ns, const std::string& name,
                           const std::string& run_id);

}  // namespace herd::k8srun
