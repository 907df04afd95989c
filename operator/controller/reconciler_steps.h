#pragma once
// What reconciler.cc (reading the LoadTest, validation, schedules) and
// reconciler_run.cc (starting a run and driving it to its end) share; not part of the
// controller's interface.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/core/result.h"
#include "common/k8s/client.h"
#include "common/report/baseline.h"
#include "common/scenario/compiler.h"
#include "operator/controller/loadtest.h"
#include "operator/controller/loadtest_status.h"
#include "operator/controller/reconciler.h"

namespace herd::controller {

using k8s::getObject;
using k8s::getString;

inline std::string annotation(const Json& obj, const char* key) {
  return getString(getObject(getObject(obj, "metadata"), "annotations"), key);
}

// The items of a List response (an empty array when odd).
inline Json items(const Json& list) {
  auto it = list.is_object() ? list.find("items") : list.end();
  return list.is_object() && it != list.end() && it->is_array() ? *it : Json::array();
}

// The scenario text and the name errors point at.
struct ScenarioSource {
  std::string text;
  std::string name;
};

// The inline scenario, or the one in the referenced ConfigMap.
Result<ScenarioSource> readScenario(k8s::Client& client, const std::string& ns, const std::string& name,
                                    const LoadTestSpec& spec);

// The run definition (common/scenario/run.h) of the scenario with the spec's
// overrides, or the compiler's error (where = source:line:col, or the spec field).
Result<scenario::CompiledRun> compileLoadTest(const ScenarioSource& source, const LoadTestSpec& spec);

// A run as compiled once when it started: every later pass drives it from this, so
// an edit of the scenario's ConfigMap applies to the next run only.
struct StartedRun {
  std::shared_ptr<const scenario::CompiledRun> compiled;
  ScenarioSource source;
  std::string sha256;                        // of source.text
  std::optional<StatusBaseline> baseline{};  // status.baseline, when the run has one
};

// spec.baseline resolved: what status.baseline says, and the baseline run's stored
// numbers when there is one.
struct Reconciler::ResolvedBaseline {
  std::optional<StatusBaseline> status;
  std::optional<report::Baseline> baseline;
};

// status.plan: what the run was started from (users, duration, the scenario's
// SHA-256 and source).
LoadTestStatus::Plan planStatus(const StartedRun& run);
// The Validated condition's message for a run that started.
std::string pinnedMessage(const StartedRun& run);

// What startRun learns before the run has an id, and the id and agent count it gives it.
struct RunStart {
  std::string hash, trigger, why;  // runDefinitionHash, the herd.dev/run annotation, why it starts
  std::string run_id;
  int desired = 0;
};

// One reconcile pass over one LoadTest: what it read, and the time it runs at.
struct Reconciler::Pass {
  std::string key, ns, name;
  Json lt;
  LoadTestSpec spec;
  LoadTestStatus status;  // as read; as written after each writeStatus
  std::chrono::system_clock::time_point now;
  int64_t generation = 0;
};

// What one pass finds about a live run, step by step (driveRun).
struct Reconciler::Drive {
  Phase phase = Phase::kNone;           // as the pass found it
  int desired = 1;                      // agents the run has (after a refused scale: the count it keeps)
  std::optional<RunProgress> progress;  // the coordinator's view, none while it does not know the run
  Json pods = Json::array();
  std::string scale_refused;
  int ready = 0;
  std::string problem_reason, problem;  // the first agent that cannot be scheduled
  std::vector<std::string> crashed;     // "POD why"
  std::string image_problem;            // the first agent whose image the kubelet cannot pull (it retries)
  std::vector<std::string> lost;        // agent pods lost so far (status.lostAgents)
  bool degraded = false;
  std::string degraded_message;
};

}  // namespace herd::controller
