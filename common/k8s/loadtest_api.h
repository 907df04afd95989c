#pragma once
// The names of herd's LoadTest API (crds/loadtest.yaml) that both its writers
// share: the operator, which reconciles LoadTests, and `herd k8s`, which applies
// and follows them from outside the cluster.
#include <cstddef>
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
// The run's self-contained report.html, gzipped, in the same ConfigMap's binaryData.
inline constexpr const char* kReportKey = "report.html.gz";
// A ConfigMap holds at most 1 MiB (data and binaryData together, base64 counted).
// With the summary, the report must fit in this budget (64 KiB left for the
// metadata); above it the report is left out and this annotation says why, and
// `herd k8s report` builds the page from the summary alone (no charts over time).
inline constexpr size_t kConfigMapBudget = 1024 * 1024 - 64 * 1024;
inline constexpr const char* kAnnotationReportOmitted = "herd.dev/report-omitted";

}  // namespace herd::k8s::loadtest
