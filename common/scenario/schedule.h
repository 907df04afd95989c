#pragma once
// When users start and stop (closed model) and when iterations arrive (open
// model), computed from the plan's load alone — so every worker, and later every
// agent, derives the same schedule and takes its own share by user or arrival
// index. Times are offsets from the run's start.
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "common/core/clock.h"
#include "common/scenario/plan.h"

namespace herd::scenario {

struct UserSlot {
  static constexpr Nanos kNever = Nanos::max();
  Nanos start{};
  Nanos stop = kNever;  // a ramp down stops the newest users first
};

// The closed model: one slot per global user index, in start order. With
// users/spawnRate, user i starts at i / spawnRate. With stages, the number of
// users follows the stages' piecewise-linear target: a user starts when the
// target reaches its count and stops when the target falls below it; a later
// rise starts new users (new indexes), so indexes stay unique.
std::vector<UserSlot> closedSchedule(const scenario::Load& load);

// The open model: arrival k (from 0) comes when the integral of the rate reaches
// k, so a constant rate R gives arrivals at k / R, and T seconds hold exactly
// ceil(R·T) of them. After the last stage its rate holds until the run ends.
class ArrivalSchedule {
 public:
  explicit ArrivalSchedule(const scenario::Load& load);
  // The time of arrival k, or nullopt when it falls at or after the run's end.
  std::optional<Nanos> at(int64_t k) const;

 private:
  struct Segment {
    double start_s = 0;   // seconds from the run's start
    double length_s = 0;  // infinite for the hold after the last stage
    double rate0 = 0, rate1 = 0;
    double arrivals_before = 0;  // the rate's integral up to start_s
  };
  std::vector<Segment> segments_;
  double end_s_ = 0;
};

}  // namespace herd::scenario
