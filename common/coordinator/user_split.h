#pragma once
// How a run's users are divided among agents: pure functions, so the split is
// deterministic (same agents, same users → same ranges) and testable alone.
// Users are numbered 0..N-1 across the run; an agent owns contiguous blocks of
// those numbers, so `user.index` is unique across agents and the class of user i
// (common/scenario/user_mix.h) does not depend on which agent runs it.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace herd::coordinator {

struct UserRange {
  int64_t first = 0;
  int64_t count = 0;
  int64_t end() const { return first + count; }
  bool operator==(const UserRange&) const = default;
};

// `total` users over `agents` agents: agent k gets one contiguous block, the
// first total % agents agents one user more; the blocks tile 0..total-1 exactly.
std::vector<std::vector<UserRange>> splitUsers(int64_t total, size_t agents);

// Hands the users in `ranges` (a lost agent's) to `receivers` agents: the same
// rule as splitUsers over the concatenation of the ranges, so the sum is exact
// and no user index is given twice.
std::vector<std::vector<UserRange>> splitRanges(const std::vector<UserRange>& ranges, size_t receivers);

int64_t userCount(const std::vector<UserRange>& ranges);

// The users of 0..total-1 that no range in `covered` holds, in order.
std::vector<UserRange> uncoveredUsers(int64_t total, std::vector<UserRange> covered);

// A new split of `total` users over agents that already hold `held` (disjoint
// ranges, one list per agent; an empty list for an agent that just joined):
// agent k ends with total / n users, the first total % n one more, and keeps as
// much of what it runs as it can (an agent over its share gives away the end of
// its ranges; agents under it take the lowest free users). Every user of
// 0..total-1 is in exactly one result; users held by nobody are handed out too.
std::vector<std::vector<UserRange>> resplitUsers(int64_t total, const std::vector<std::vector<UserRange>>& held);

}  // namespace herd::coordinator
