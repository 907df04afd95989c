#pragma once
// The reconciler's RunCoordinator (operator/controller/coordinator.h) backed by
// the real coordinator (common/coordinator): one Coordinator per run, all runs
// behind one gRPC listener (a Hub routing by the run id in each agent's Hello).
// Calls are keyed by run id and idempotent: startRun() for a known run does
// nothing, so the reconciler may repeat it on every pass; after an operator
// restart the same run id and token build a new coordinator that adopts the
// agents still running (they reconnect with their assignment).
#include <chrono>
#include <memory>
#include <string>

#include "common/core/result.h"
#include "operator/controller/coordinator.h"

namespace herd::operator_coordinator {

struct LiveCoordinatorOptions {
  std::string listen = "0.0.0.0:7070";  // HOST:PORT; port 0 picks a free one
  // host:port agents dial; empty: listen's host with the port actually bound.
  std::string advertise;
  // How long after start-up, and after each holdUnknownRuns(), a Hello for a
  // run this process does not hold yet is kept instead of refused.
  std::chrono::seconds hold_unknown_runs{std::chrono::minutes(2)};
};

class LiveRunCoordinator : public controller::RunCoordinator {
 public:
  // Agents of runs this process does not hold yet are held, not refused, for
  // the next hold_unknown_runs (as right after start-up): call it whenever this
  // process becomes leader, when the agents of the runs it takes over redial.
  virtual void holdUnknownRuns() = 0;
};

// Starts the listener; an Error when the address cannot be bound.
Result<std::unique_ptr<LiveRunCoordinator>> startLiveCoordinator(const LiveCoordinatorOptions& options);

}  // namespace herd::operator_coordinator
