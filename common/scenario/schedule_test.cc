#include "common/scenario/schedule.h"

#include <gtest/gtest.h>

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;
using scenario::Load;
using scenario::Stage;

TEST(ClosedSchedule, SpawnRateSpacesUsers) {
  Load load;
  load.users = 4;
  load.spawn_rate = 2;
  load.duration = 10s;
  const auto slots = closedSchedule(load);
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[0].start, 0ms);
  EXPECT_EQ(slots[3].start, 1500ms);
  EXPECT_EQ(slots[3].stop, UserSlot::kNever);
}

TEST(ClosedSchedule, StagesRampUpHoldDownAndUpAgain) {
  Load load;
  load.stages = {Stage{10s, 10}, Stage{5s, 10}, Stage{5s, 5}, Stage{0s, 7}};
  load.duration = 30s;
  const auto slots = closedSchedule(load);
  ASSERT_EQ(slots.size(), 12u);  // 10 on the way up, 2 more on the final jump
  for (int i = 0; i < 10; ++i) EXPECT_EQ(slots[i].start, std::chrono::seconds(i + 1)) << i;
  // Down from 10 to 5 over 5 s: the newest users stop first, one a second.
  EXPECT_EQ(slots[9].stop, 15s);
  EXPECT_EQ(slots[8].stop, 16s);
  EXPECT_EQ(slots[5].stop, 19s);
  EXPECT_EQ(slots[4].stop, UserSlot::kNever);
  // The jump to 7 at 20 s starts two new users (new indexes).
  EXPECT_EQ(slots[10].start, 20s);
  EXPECT_EQ(slots[11].start, 20s);
}

Load openLoad(double start_rate, std::vector<Stage> stages, Nanos duration) {
  Load load;
  load.model = Load::Model::kOpen;
  load.start_rate = start_rate;
  load.stages = std::move(stages);
  load.duration = duration;
  return load;
}

TEST(ArrivalSchedule, ConstantRateGivesExactlyRateTimesDuration) {
  const ArrivalSchedule schedule(openLoad(200, {Stage{3s, 200}}, 3s));
  EXPECT_EQ(schedule.at(0), 0ms);
  EXPECT_EQ(schedule.at(1), 5ms);
  EXPECT_EQ(schedule.at(599), 2995ms);
  EXPECT_EQ(schedule.at(600), std::nullopt);
}

TEST(ArrivalSchedule, RampingRateFollowsTheIntegral) {
  // 500 arrivals in the ramp, then 1000.
  const ArrivalSchedule schedule(openLoad(0, {Stage{10s, 100}, Stage{10s, 100}}, 20s));
  // N(t) = 5 t² during the ramp: arrival 500 at t = 10 s, arrival 125 at 5 s.
  EXPECT_EQ(schedule.at(125), 5s);
  EXPECT_EQ(schedule.at(500), 10s);
  EXPECT_EQ(schedule.at(1499), 19990ms);
  EXPECT_EQ(schedule.at(1500), std::nullopt);
  // Monotonic everywhere.
  Nanos previous{-1};
  for (int64_t k = 0; k < 1500; ++k) {
    const auto t = schedule.at(k);
    ASSERT_TRUE(t.has_value()) << k;
    ASSERT_GT(*t, previous) << k;
    previous = *t;
  }
}

TEST(ArrivalSchedule, DurationBeyondStagesHoldsTheLastRate) {
  // --duration longer than the stages.
  const ArrivalSchedule schedule(openLoad(10, {Stage{1s, 10}}, 3s));
  EXPECT_EQ(schedule.at(29), 2900ms);
  EXPECT_EQ(schedule.at(30), std::nullopt);
}

}  // namespace
}  // namespace herd::scenario
