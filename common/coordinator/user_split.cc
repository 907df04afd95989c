#include "common/coordinator/user_split.h"

#include <algorithm>

namespace herd::coordinator {

std::vector<std::vector<UserRange>> splitUsers(int64_t total, size_t agents) {
  return splitRanges({UserRange{0, total}}, agents);
}

std::vector<std::vector<UserRange>> splitRanges(const std::vector<UserRange>& ranges, size_t receivers) {
  std::vector<std::vector<UserRange>> out(receivers);
  if (receivers == 0) return out;
  const int64_t total = userCount(ranges);
  const auto n = static_cast<int64_t>(receivers);
  size_t source = 0;
  int64_t offset = 0;  // users of ranges[source] already handed out
  for (int64_t k = 0; k < n; ++k) {
    int64_t want = total / n + (k < total % n ? 1 : 0);
    while (want > 0 && source < ranges.size()) {
      const auto& range = ranges[source];
      const int64_t take = std::min(want, range.count - offset);
      if (take > 0) {
        auto& mine = out[static_cast<size_t>(k)];
        // Adjacent pieces merge so an agent's ranges stay few.
        if (!mine.empty() && mine.back().end() == range.first + offset) mine.back().count += take;
        else mine.push_back({range.first + offset, take});
      }
      offset += take;
      want -= take;
      if (offset >= range.count) {
        ++source;
        offset = 0;
      }
    }
  }
  return out;
}

int64_t userCount(const std::vector<UserRange>& ranges) {
  int64_t sum = 0;
  for (const auto& r : ranges) sum += r.count;
  return sum;
}

}  // namespace herd::coordinator
