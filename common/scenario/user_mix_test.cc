#include "common/scenario/user_mix.h"

#include <gtest/gtest.h>

#include <numeric>

namespace herd::scenario {
namespace {

scenario::Plan planWith(std::vector<std::pair<double, std::optional<int64_t>>> classes) {
  scenario::Plan plan;
  for (size_t i = 0; i < classes.size(); ++i) {
    scenario::UserClass c;
    c.name = "c" + std::to_string(i);
    c.weight = classes[i].first;
    c.count = classes[i].second;
    plan.classes.push_back(c);
  }
  return plan;
}

TEST(UserMix, WeightsSplitExactlyByLargestRemainder) {
  const auto plan = planWith({{3, {}}, {1, {}}});
  EXPECT_EQ(classTotals(plan, 100), (std::vector<int64_t>{75, 25}));
  EXPECT_EQ(classTotals(plan, 10), (std::vector<int64_t>{8, 2}));  // 7.5 rounds up, 2.5 down: ties to the first
  EXPECT_EQ(classTotals(plan, 1), (std::vector<int64_t>{1, 0}));
}

TEST(UserMix, FixedCountsComeFirstThenWeights) {
  const auto plan = planWith({{1, {}}, {0, int64_t{2}}, {1, {}}});
  EXPECT_EQ(classTotals(plan, 10), (std::vector<int64_t>{4, 2, 4}));
  EXPECT_EQ(classTotals(plan, 1), (std::vector<int64_t>{0, 1, 0}));  // counts win when users are scarce
}

TEST(UserMix, AssignmentMatchesTotalsAndInterleaves) {
  const auto plan = planWith({{3, {}}, {1, {}}});
  const auto classes = assignClasses(plan, 1000);
  ASSERT_EQ(classes.size(), 1000u);
  EXPECT_EQ(std::count(classes.begin(), classes.end(), 1), 250);
  // Any prefix of a ramp-up holds the configured mix within one user.
  for (size_t prefix = 4; prefix <= classes.size(); prefix += 4) {
    const auto ones = std::count(classes.begin(), classes.begin() + static_cast<long>(prefix), 1);
    EXPECT_NEAR(static_cast<double>(ones), static_cast<double>(prefix) / 4, 1.0) << prefix;
  }
}

TEST(UserMix, DeterministicForTheSameInput) {
  const auto plan = planWith({{2, {}}, {5, {}}, {0, int64_t{3}}});
  EXPECT_EQ(assignClasses(plan, 77), assignClasses(plan, 77));
  const auto totals = classTotals(plan, 77);
  EXPECT_EQ(std::accumulate(totals.begin(), totals.end(), int64_t{0}), 77);
}

}  // namespace
}  // namespace herd::scenario
