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

}  // namespace
}  // namespace herd::coordinator
