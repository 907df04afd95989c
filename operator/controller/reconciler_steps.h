#pragma once
// What reconciler.cc (reading the LoadTest, validation, schedules) and
// reconciler_run.cc (starting a run and driving it to its end) share; not part of the
// controller's interface.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/core/result.h"
#include "common/scenario/compiler.h"
#include "operator/controller/loadtest.h"
#include "operator/controller/reconciler.h"
#include "operator/k8s/client.h"

namespace herd::controller {

using k8s::getObject;
using k8s::getString;

inline constexpr const char* kPending = "Pending";
inline constexpr const char* kStarting = "Starting";
inline constexpr const char* kRunning = "Running";
inline constexpr const char* kStopping = "Stopping";
inline constexpr const char* kSucceeded = "Succeeded";
inline constexpr const char* kFailed = "Failed";

inline bool isLive(const std::string& phase) {
  return phase == kPending || phase == kStarting || phase == kRunning || phase == kStopping;
}

inline std::string annotation(const nlohmann::json& obj, const char* key) {
  return getString(getObject(getObject(obj, "metadata"), "annotations"), key);
}

// The items of a List response (an empty array when odd).
inline nlohmann::json items(const nlohmann::json& list) {
  auto it = list.is_object() ? list.find("items") : list.end();
  return list.is_object() && it != list.end() && it->is_array() ? *it : nlohmann::json::array();
}

// The scenario text and the name errors point at.
struct ScenarioSource {
  std::string text;
  std::string name;
};

// The inline scenario, or the one in the referenced ConfigMap.
Result<ScenarioSource> readScenario(k8s::Client& client, const std::string& ns, const std::string& name,
                                    const LoadTestSpec& spec);

// Compiles the scenario with the spec's overrides and checks spec.thresholds:
// the plan's load (users, duration), or the compiler's error (where = source:line:col).
// `stop_grace`, when given, gets how long users may finish after a stop (as
// the coordinator computes it).
Result<scenario::Load> validate(const ScenarioSource& source, const LoadTestSpec& spec, Nanos* stop_grace = nullptr);

// One reconcile pass over one LoadTest: what it read, and the time it runs at.
struct Reconciler::Pass {
  std::string key, ns, name;
  nlohmann::json lt;
  LoadTestSpec spec;
  nlohmann::json status;
  std::chrono::system_clock::time_point now;
  int64_t generation = 0;
};

}  // namespace herd::controller
