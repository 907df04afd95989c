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

// Raises the open-files soft limit to the hard limit and returns both. When
// `wanted` is over the hard limit and the process may raise that (root, or
// CAP_SYS_RESOURCE in its user namespace, as in most containers), the hard
// limit goes up too, as far as `wanted` and the kernel's fs.nr_open allow: one
// process then holds what would otherwise take several (SessionOptions::processes).
FdLimit raiseFdLimit(uint64_t wanted = 0);

// Each user holds one connection per origin it talks to; the rest is the
// process's own (event loops, logs, stdio).
uint64_t socketsNeeded(const scenario::Plan& plan);
constexpr uint64_t kReservedFds = 64;

// The connections one user may hold: the most distinct origins the steps of any
// one user class name (a class written in C++, or with `parallel` branches,
// which open connections of their own, counts every origin of the plan). A
// scenario whose classes each talk to one of eight origins needs one socket per
// user, not eight.
uint64_t socketsPerUser(const scenario::Plan& plan);
// The sockets each of `processes` worker processes needs for its share of
// `users` (the largest share, ⌈users / processes⌉) plus its own reserve.
uint64_t socketsPerProcess(int64_t users, uint64_t sockets_per_user, size_t processes);
// The fewest processes whose shares fit `fd_limit` open files each: 1 when one
// process holds every user. The rule `herd run` and `herd agent` use when
// --processes is not given.
size_t processesFor(int64_t users, uint64_t sockets_per_user, uint64_t fd_limit);

// Connects once to each origin (bounded by `timeout`), so an unreachable target
// is reported before the run instead of as a wall of connect errors.
Status probeTargets(const scenario::Plan& plan, const std::vector<engine::ConnectionTarget>& targets, Nanos timeout);

}  // namespace herd::runtime
