#include "common/coordinator/user_split.h"

#include <gtest/gtest.h>

#include <set>

namespace herd::coordinator {
namespace {

TEST(UserSplit, SplitsExactlyAndContiguously) {
  const auto parts = splitUsers(100, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], (std::vector<UserRange>{{0, 34}}));
  EXPECT_EQ(parts[1], (std::vector<UserRange>{{34, 33}}));
  EXPECT_EQ(parts[2], (std::vector<UserRange>{{67, 33}}));
  EXPECT_EQ(splitUsers(2, 3)[2], std::vector<UserRange>{});
}

TEST(UserSplit, RebalanceGivesEveryUserOnce) {
  const auto lost = splitUsers(101, 4)[1];
  std::vector<UserRange> pieces{{0, 10}, {50, 7}, {90, 11}};
  const auto shares = splitRanges(pieces, 3);
  std::set<int64_t> seen;
  int64_t total = 0;
  for (const auto& share : shares) {
    total += userCount(share);
    for (const auto& r : share) {
      for (int64_t i = r.first; i < r.end(); ++i) EXPECT_TRUE(seen.insert(i).second) << i;
    }
  }
  EXPECT_EQ(total, 28);
  EXPECT_EQ(userCount(shares[0]), 10);
  EXPECT_EQ(userCount(shares[2]), 9);
  EXPECT_EQ(userCount(splitRanges(lost, 2)[0]) + userCount(splitRanges(lost, 2)[1]), userCount(lost));
}

// Every user of 0..total-1 exactly once over all shares; the shares' sizes.
std::vector<int64_t> checkTiles(int64_t total, const std::vector<std::vector<UserRange>>& shares) {
  std::vector<int> seen(static_cast<size_t>(total), 0);
  std::vector<int64_t> sizes;
  for (const auto& share : shares) {
    sizes.push_back(userCount(share));
    for (const auto& r : share) {
      for (int64_t i = r.first; i < r.end(); ++i) {
        EXPECT_TRUE(i >= 0 && i < total) << i;
        if (i >= 0 && i < total) ++seen[static_cast<size_t>(i)];
      }
    }
  }
  for (int64_t i = 0; i < total; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "user " << i;
  return sizes;
}

TEST(UserSplit, ResplitForAGrowingRunKeepsWhatItCanAndEvensOut) {
  // 2 → 3 agents: each of the two gives the end of its block to the newcomer.
  const auto two = splitUsers(100, 2);
  const auto three = resplitUsers(100, {two[0], two[1], {}});
  EXPECT_EQ(checkTiles(100, three), (std::vector<int64_t>{34, 33, 33}));
  EXPECT_EQ(three[0], (std::vector<UserRange>{{0, 34}}));
  EXPECT_EQ(three[1], (std::vector<UserRange>{{50, 33}}));
  EXPECT_EQ(three[2], (std::vector<UserRange>{{34, 16}, {83, 17}}));
}

TEST(UserSplit, ResplitForAShrinkingRunMovesOnlyTheLeaversUsers) {
  // 3 → 2: the third agent's users go to the other two; theirs stay as they are.
  const auto three = splitUsers(101, 3);
  const auto two = resplitUsers(101, {three[0], three[1]});
  EXPECT_EQ(checkTiles(101, two), (std::vector<int64_t>{51, 50}));
  EXPECT_EQ(two[0].front(), three[0].front());
  EXPECT_EQ(two[1].front(), three[1].front());
  // Users nobody holds (a lost agent's under `continue`) are handed out as well.
  EXPECT_EQ(checkTiles(10, resplitUsers(10, {{{0, 2}}, {}})), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(checkTiles(3, resplitUsers(3, {{}, {}, {}, {}})), (std::vector<int64_t>{1, 1, 1, 0}));
  EXPECT_TRUE(resplitUsers(5, {}).empty());
}

}  // namespace
}  // namespace herd::coordinator
