#include "agent/runtime/feeder.h"

#include <gtest/gtest.h>

#include <set>

namespace herd::runtime {
namespace {

scenario::Plan planWithRows(int rows, scenario::DataSource::Pick pick, int64_t shard_index = 0,
                            int64_t shard_count = 1) {
  scenario::Plan plan;
  scenario::DataSource source;
  source.name = "accounts";
  source.pick = pick;
  source.columns = {"name"};
  for (int i = 0; i < rows; ++i) source.rows.push_back({"row" + std::to_string(i)});
  plan.data.push_back(source);
  plan.shard_index = shard_index;
  plan.shard_count = shard_count;
  return plan;
}

TEST(Feeders, UniqueRowsAreDisjointAcrossAgentsAndWorkersAndCoverAll) {
  constexpr int kRows = 101;
  constexpr int kAgents = 3;
  constexpr int kWorkers = 4;
  std::set<std::string> seen;
  Rng rng(1);
  for (int agent = 0; agent < kAgents; ++agent) {
    const auto plan = planWithRows(kRows, scenario::DataSource::Pick::kUnique, agent, kAgents);
    for (int worker = 0; worker < kWorkers; ++worker) {
      Feeders feeders(plan, worker, kWorkers);
      while (const auto* row = feeders.next(0, rng)) {
        ASSERT_TRUE(seen.insert((*row)[0]).second) << "row handed out twice: " << (*row)[0];
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
}

TEST(Feeders, CycleGoesRoundAndRandomStaysInRange) {
  const auto plan = planWithRows(3, scenario::DataSource::Pick::kCycle);
  Feeders feeders(plan, 0, 1);
  Rng rng(1);
  std::vector<std::string> got;
  for (int i = 0; i < 7; ++i) got.push_back((*feeders.next(0, rng))[0]);
  EXPECT_EQ(got, (std::vector<std::string>{"row0", "row1", "row2", "row0", "row1", "row2", "row0"}));
  const auto random_plan = planWithRows(5, scenario::DataSource::Pick::kRandom);
  Feeders random(random_plan, 0, 1);
  std::set<std::string> picked;
  for (int i = 0; i < 200; ++i) picked.insert((*random.next(0, rng))[0]);
  EXPECT_EQ(picked.size(), 5u);
}

}  // namespace
}  // namespace herd::runtime
