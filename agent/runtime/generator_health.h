#pragma once
// Keeping the load generator honest about itself: enough file descriptors for
// the run, and a check that the target answers before any load is sent.
#include <cstdint>
#include <vector>

#include "agent/engine/http_connection.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::runtime {

struct FdLimit {
  uint64_t soft = 0;  // after raising
  uint64_t hard = 0;
};

// Raises the open-files soft limit to the hard limit and returns both.
FdLimit raiseFdLimit();

// Each user holds one connection per origin it talks to; the rest is the
// process's own (event loops, logs, stdio).
uint64_t socketsNeeded(const scenario::Plan& plan);
constexpr uint64_t kReservedFds = 64;

// Connects once to each origin (bounded by `timeout`), so an unreachable target
// is reported before the run instead of as a wall of connect errors.
Status probeTargets(const scenario::Plan& plan, const std::vector<engine::ConnectionTarget>& targets, Nanos timeout);

}  // namespace herd::runtime
