#pragma once
// Retry backoff: exponential with full jitter (AWS Architecture Blog, "Exponential
// Backoff and Jitter"): the wait before retry n (n = 1 after the first failed
// attempt) is uniform in [0, min(max, base * 2^(n-1))]. Spreading retries over the
// whole window is what keeps a fleet of clients from retrying in lockstep.
#include <algorithm>
#include <cmath>

#include "common/core/clock.h"
#include "common/scenario/plan.h"
#include "common/stats/error_kind.h"

namespace herd::runtime {

// The upper bound of the wait before retry `retry` (1-based).
inline Nanos backoffCeiling(const scenario::RetryPolicy& policy, int retry) {
  const double ceiling = static_cast<double>(policy.base.count()) * std::ldexp(1.0, std::clamp(retry - 1, 0, 62));
  return Nanos(static_cast<int64_t>(std::min(ceiling, static_cast<double>(policy.max.count()))));
}

// `unit` is a uniform random number in [0, 1) from the worker's RNG (tests inject it).
inline Nanos backoffDelay(const scenario::RetryPolicy& policy, int retry, double unit) {
  return Nanos(static_cast<int64_t>(unit * static_cast<double>(backoffCeiling(policy, retry).count())));
}

// Whether a failed attempt is one the policy retries.
inline bool shouldRetry(const scenario::RetryPolicy& policy, stats::ErrorKind error, int status) {
  using P = scenario::RetryPolicy;
  switch (error) {
    case stats::ErrorKind::kConnect: return (policy.on & P::kConnect) != 0;
    case stats::ErrorKind::kTimeout: return (policy.on & P::kTimeout) != 0;
    case stats::ErrorKind::kNone:
    case stats::ErrorKind::kStatus:
    case stats::ErrorKind::kCheck:
      return (status >= 500 && status <= 599 && (policy.on & P::k5xx) != 0) ||
             (status == 429 && (policy.on & P::k429) != 0);
    default: return false;
  }
}

}  // namespace herd::runtime
