#pragma once
// How an agent's assignment is divided among its worker processes (`herd run
// --processes N`, `herd agent --processes N`): a pure function, so the split is
// deterministic and testable alone.
//
// Every assigned range is split on its own into N contiguous pieces (the first
// count % N pieces one user more), and process c runs piece c of each range. An
// unchanged range therefore gives every process the same pieces in the next
// generation: a rebalance that adds or removes one range never restarts the
// users of the others. Users keep their global indexes, so each user spawns at
// the run's own schedule (start + slot of user i) and the spawn rate of the
// whole run is unchanged by the split.
//
// The open model's arrivals and `unique` data rows are dealt by shard: agent a
// of S takes arrival k when k ≡ a (mod S). Its process c of N becomes shard
// a + S·c of S·N, which takes exactly the arrivals k ≡ a (mod S) with
// ⌊k / S⌋ ≡ c (mod N): the agent's arrivals, dealt round-robin to its processes,
// so each process sends 1/N of the agent's open-model rate.
#include <cstddef>
#include <vector>

#include "herd/v1/agent.pb.h"

namespace herd::runtime {

// `processes` ≥ 1 assignments, with the generation and total of `assignment`.
std::vector<v1::Assignment> splitAssignment(const v1::Assignment& assignment, size_t processes);

}  // namespace herd::runtime
