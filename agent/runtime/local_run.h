#pragma once
// A run on this machine: the coordinator (common/coordinator) with one agent
// session in this process; workers generate the load, the coordinator merges,
// judges, prints progress and decides when to stop.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/coordinator/coordinator.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/report/aggregate.h"
#include "common/report/summary.h"
#include "common/report/threshold.h"
#include "common/scenario/plan.h"
#include "common/scenario/run.h"

namespace herd::runtime {

struct LocalRunOptions {
  size_t workers = 0;  // 0: one per core
  // Worker processes (SessionOptions::processes); above 1 they compile `scenario`.
  size_t processes = 1;
  v1::Scenario scenario;
  bool insecure = false;  // accept any TLS certificate (self-signed test servers)
  std::string ca_file;    // extra CA for TLS verification
  Nanos probe_timeout = std::chrono::seconds(3);
  uint64_t seed = 0;      // 0: from the clock
  uint64_t fd_limit = 0;  // for the summary
  // Called once a second with the newest sample (progress output).
  std::function<void(const report::SecondSample&)> on_second;
  // Called once a second, after the second is merged: the run so far and every
  // threshold's state over it (live metrics).
  std::function<void(const report::RunAggregate&, const std::vector<report::ThresholdResult>&)> on_live;
  // Called once when an abortOnFail threshold fails and the run is being stopped.
  std::function<void(const report::ThresholdResult&)> on_abort;
  // Called once when the generator is first seen saturated.
  std::function<void(double busy_percent)> on_saturated;
  // Set from a signal handler: stop early, gracefully.
  const std::atomic<bool>* interrupted = nullptr;
};

// The same result a distributed run has: one coordinator produced it.
using LocalRunResult = coordinator::RunResult;

// Errors are the run could not be carried out (exit 3): unresolvable or
// unreachable target, TLS setup.
// The run's plan, thresholds, users and grace come from compileRun().
Result<LocalRunResult> runLocal(const scenario::CompiledRun& run, const LocalRunOptions& options);

}  // namespace herd::runtime
