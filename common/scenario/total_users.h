#pragma once
#include <cstdint>

#include "common/scenario/plan.h"

namespace herd::scenario {

// The users a run numbers 0..N-1: the closed model's schedule slots (stages may
// start more users over the run than are alive at once), the open model's
// maxUsers. The coordinator splits exactly this many.
int64_t totalUsers(const Plan& plan);

}  // namespace herd::scenario
