#pragma once
// The names of herd's LoadTest API (crds/loadtest.yaml) that both its writers
// share: the operator, which reconciles LoadTests, and `herd k8s`, which applies
// and follows them from outside the cluster.
#include <string>

#include "common/k8s/resource.h"

namespace herd::k8s::loadtest {

inline const Resource kResource{"herd.dev", "v1alpha1", "loadtests", "LoadTest", true};

// Changing this annotation's value on a LoadTest starts a new run.
inline constexpr const char* kAnnotationRun = "herd.dev/run";
// Set to the live run's id, it asks the operator to stop that run: its users stop,
// in-flight requests finish, and the run ends with a verdict on what it measured.
inline constexpr const char* kAnnotationStop = "herd.dev/stop";
// A finished run's summary.json is kept under this key of ConfigMap RUN-summary,
// in the LoadTest's namespace, after the run's pods are gone.
inline constexpr const char* kSummaryKey = "summary.json";
inline std::string summaryConfigMapName(const std::string& run_id) { return run_id + "-summary"; }

}  // namespace herd::k8s::loadtest
