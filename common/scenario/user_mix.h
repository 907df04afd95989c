#pragma once
// Which class each user of a run belongs to. Users are numbered 0..N-1 across the
// whole run (all workers of all agents), and the class of user i depends only on
// the plan and N, so any process can compute it and a ramp-up spawns a proportional
// mix at every moment (not all browsers first, then all buyers).
#include <cstdint>
#include <vector>

#include "common/scenario/plan.h"

namespace herd::scenario {

// How many users of each class a run of `total_users` has: fixed `count`s first (in
// class order, as far as users remain), the rest split by weight with the largest
// remainder method, so the sum is exactly total_users.
std::vector<int64_t> classTotals(const scenario::Plan& plan, int64_t total_users);

// The class index of every user 0..N-1: smooth weighted round-robin over the totals,
// which interleaves classes evenly and gives each exactly its total.
std::vector<uint16_t> assignClasses(const scenario::Plan& plan, int64_t total_users);

}  // namespace herd::scenario
