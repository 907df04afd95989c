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

std::vector<UserRange> uncoveredUsers(int64_t total, std::vector<UserRange> covered) {
  std::sort(covered.begin(), covered.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<UserRange> out;
  int64_t next = 0;
  for (const auto& r : covered) {
    if (r.first > next) out.push_back({next, std::min(r.first, total) - next});
    next = std::max(next, r.end());
  }
  if (next < total) out.push_back({next, total - next});
  return out;
}

namespace {

// Moves `count` users off the end of `ranges` into `into`.
void cutTail(std::vector<UserRange>& ranges, int64_t count, std::vector<UserRange>& into) {
  while (count > 0 && !ranges.empty()) {
    auto& last = ranges.back();
    const int64_t take = std::min(count, last.count);
    into.push_back({last.end() - take, take});
    last.count -= take;
    count -= take;
    if (last.count == 0) ranges.pop_back();
  }
}

// Moves the first `count` users of `pool` (sorted) to the end of `ranges`.
void takeFront(std::vector<UserRange>& pool, int64_t count, std::vector<UserRange>& ranges) {
  size_t used = 0;
  for (; count > 0 && used < pool.size(); ++used) {
    auto& piece = pool[used];
    const int64_t take = std::min(count, piece.count);
    if (!ranges.empty() && ranges.back().end() == piece.first) ranges.back().count += take;
    else ranges.push_back({piece.first, take});
    piece.first += take;
    piece.count -= take;
    count -= take;
    if (piece.count > 0) break;
  }
  pool.erase(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(used));
}

}  // namespace

std::vector<std::vector<UserRange>> resplitUsers(int64_t total, const std::vector<std::vector<UserRange>>& held) {
  std::vector<std::vector<UserRange>> out(held.size());
  if (held.empty()) return out;
  const auto n = static_cast<int64_t>(held.size());
  std::vector<UserRange> all;
  for (const auto& ranges : held) all.insert(all.end(), ranges.begin(), ranges.end());
  auto pool = uncoveredUsers(total, all);
  for (int64_t k = 0; k < n; ++k) {
    auto& mine = out[static_cast<size_t>(k)];
    // Only users of this run (a coordinator may shrink the total on a resend).
    for (const auto& r : held[static_cast<size_t>(k)]) {
      const int64_t first = std::max<int64_t>(r.first, 0), end = std::min(r.end(), total);
      if (end > first) mine.push_back({first, end - first});
    }
    const int64_t share = total / n + (k < total % n ? 1 : 0);
    if (userCount(mine) > share) cutTail(mine, userCount(mine) - share, pool);
  }
  std::sort(pool.begin(), pool.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (int64_t k = 0; k < n; ++k) {
    auto& mine = out[static_cast<size_t>(k)];
    const int64_t share = total / n + (k < total % n ? 1 : 0);
    if (userCount(mine) < share) takeFront(pool, share - userCount(mine), mine);
  }
  return out;
}

}  // namespace herd::coordinator
