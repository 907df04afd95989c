#include "agent/runtime/process_split.h"

#include <algorithm>

#include "common/coordinator/user_split.h"

namespace herd::runtime {

std::vector<v1::Assignment> splitAssignment(const v1::Assignment& assignment, size_t processes) {
  processes = std::max<size_t>(processes, 1);
  const uint32_t shards = std::max<uint32_t>(assignment.shard_count(), 1);
  const uint32_t shard = std::min(assignment.shard_index(), shards - 1);
  std::vector<v1::Assignment> out(processes);
  for (size_t c = 0; c < processes; ++c) {
    out[c].set_generation(assignment.generation());
    out[c].set_total_users(assignment.total_users());
    out[c].set_shard_index(shard + shards * static_cast<uint32_t>(c));
    out[c].set_shard_count(shards * static_cast<uint32_t>(processes));
  }
  for (const auto& range : assignment.ranges()) {
    const auto pieces = coordinator::splitRanges({{range.first(), range.count()}}, processes);
    for (size_t c = 0; c < processes; ++c) {
      for (const auto& piece : pieces[c]) {
        auto& r = *out[c].add_ranges();
        r.set_first(piece.first);
        r.set_count(piece.count);
      }
    }
  }
  return out;
}

}  // namespace herd::runtime
