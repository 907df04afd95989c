#pragma once
// Thresholds judged against merged stats: "http.latency{name:login} p95 < 500ms",
// "http.failures rate < 1%". The expression is parsed with the scenario
// (common/scenario/threshold_expression.h), so `herd validate` reports bad ones.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/plan.h"
#include "common/scenario/threshold_expression.h"
#include "common/stats/delivery.h"
#include "common/stats/recorder.h"

namespace herd::report {

// The parsed expression lives with the scenario (common/scenario/threshold_expression.h);
// judging it against the stats is this folder's part.
using Threshold = scenario::Threshold;

struct ThresholdResult {
  std::string expression;
  bool passed = false;
  double value = 0;   // the measured value, in the bound's unit
  std::string shown;  // the value for people, with its unit: "1.68ms", "0.20%", "812.0/s"
  bool abort_on_fail = false;
  // This threshold ended the run early; `value` is then what it measured at that
  // moment (over the run so far), not at the end.
  bool aborted_run = false;
  double aborted_at_seconds = 0;  // since the run's start
  double bound = 0;               // what `value` was compared with, in its unit
  // A relative bound ("p95 < baseline * 1.10"): the baseline run's value of the
  // same measure (bound = baseline * factor) and that run's id.
  std::optional<double> baseline{};
  std::string baseline_run{};
  std::string shown_baseline{}, shown_bound{};  // as `shown`, for people
  // A relative bound with no baseline value (no baseline run, or it lacks the
  // measure): not judged, so it passes; `skipped_why` says why (reason NoBaseline).
  bool skipped = false;
  std::string skipped_why{};
};

Result<Threshold> parseThreshold(std::string_view expression);
// A value in the threshold's unit for people: "1.68ms", "0.20%", "812.0/s", "42".
std::string shownValue(const Threshold& threshold, double value);
Result<std::vector<Threshold>> parseThresholds(const std::vector<std::string>& expressions);
// The scenario's list, with abortOnFail and delay carried over.
Result<std::vector<Threshold>> parseThresholds(const std::vector<scenario::ThresholdSpec>& specs);

ThresholdResult evaluate(const Threshold& threshold, const scenario::Plan& plan, const stats::Recorder& stats,
                         double duration_seconds);
// `delivery`: pub/sub results (by Plan::streams index) for the delivery.* metrics —
// delivery.latency (p.., mean, min, max in ms), delivery.lost and
// delivery.duplicates (count, or rate: lost per owed delivery, duplicates per
// delivered message), filtered by {stream:NAME}. They exist only once the run
// ended, so while it goes (evaluateLive) delivery thresholds read zeros.
ThresholdResult evaluate(const Threshold& threshold, const scenario::Plan& plan, const stats::Recorder& stats,
                         double duration_seconds, const std::vector<stats::DeliveryStream>& delivery);
std::vector<ThresholdResult> evaluateAll(const std::vector<Threshold>& thresholds, const scenario::Plan& plan,
                                         const stats::Recorder& stats, double duration_seconds,
                                         const std::vector<stats::DeliveryStream>& delivery = {});

// The check made once a second while the run goes, over the run so far: every
// threshold's current state, and the first abortOnFail threshold that fails once
// its delay has passed (the run stops when there is one).
struct LiveThresholds {
  std::vector<ThresholdResult> results;
  std::optional<size_t> abort;  // index into results
};
LiveThresholds evaluateLive(const std::vector<Threshold>& thresholds, const scenario::Plan& plan,
                            const stats::Recorder& stats, double elapsed_seconds);

// The threshold that ended a run early, as evaluateLive() found it.
struct ThresholdAbort {
  size_t index = 0;  // into the thresholds
  ThresholdResult result;
};

// The end-of-run results: every threshold over the whole run, except that the one
// that aborted the run (if any) keeps the failing value it had when it did.
std::vector<ThresholdResult> finalResults(const std::vector<Threshold>& thresholds, const scenario::Plan& plan,
                                          const stats::Recorder& stats, double duration_seconds,
                                          const std::optional<ThresholdAbort>& aborted_by,
                                          const std::vector<stats::DeliveryStream>& delivery = {});

}  // namespace herd::report
