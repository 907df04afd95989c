#pragma once
// summary.json, version 1 (docs/design.md): built from the merged stats in one
// place for `herd run`, `herd coordinator` and the operator. Extend, don't rename.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/core/result.h"
#include "common/report/aggregate.h"
#include "common/report/threshold.h"
#include "common/scenario/plan.h"

namespace herd::report {

enum class Verdict { kPassed, kFailed, kAborted, kError };
std::string_view verdictName(Verdict verdict);

struct RunInfo {
  std::string run_id;
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point end;
  double duration_seconds = 0;  // the load phase: from the first spawn until stop
  int agents = 1;
  uint64_t fd_limit = 0;
  double saturation_percent = 90;  // generator busy above this is reported as saturated
  Verdict verdict = Verdict::kPassed;
  std::vector<ThresholdResult> thresholds;
  std::vector<stats::DeliveryStream> delivery;  // by Plan::streams index
  // Fields added to the summary's top level by the coordinator (agents, events,
  // start skew); empty for nothing.
  Json extra = Json::object();
};

Json buildSummary(const scenario::Plan& plan, const RunAggregate& aggregate, const RunInfo& info);

// The verdict the thresholds give: kAborted when one ended the run early, kFailed
// when any failed, kPassed otherwise (and when there are none).
Verdict verdictOf(const std::vector<ThresholdResult>& thresholds);
// The summary's "thresholds" array.
Json thresholdsJson(const std::vector<ThresholdResult>& results);
// One entry of it for people: "measured 9.80ms", "measured 9.80ms against 8.80ms
// (baseline 8.00ms, run shop-1)", "measured 9.80ms; skipped: no baseline run".
std::string describeThreshold(const Json& threshold);
// Its part after the measured value: "" for an absolute bound, " against 8.80ms
// (baseline 8.00ms, run shop-1)", "; skipped: no baseline run".
std::string describeBound(const Json& threshold);

Status writeFile(const std::string& path, const std::string& content);

}  // namespace herd::report
