#include "common/scenario/schedule.h"

#include <cmath>

namespace herd::scenario {

namespace {

Nanos seconds(double s) { return Nanos(static_cast<int64_t>(std::llround(s * 1e9))); }

}  // namespace

std::vector<UserSlot> closedSchedule(const scenario::Load& load) {
  std::vector<UserSlot> slots;
  if (load.stages.empty()) {
    const double interval = 1e9 / load.spawn_rate;
    for (int64_t i = 0; i < load.users; ++i) {
      slots.push_back(UserSlot{Nanos(static_cast<int64_t>(static_cast<double>(i) * interval))});
    }
    return slots;
  }
  std::vector<size_t> active;  // slot indexes, oldest first
  double t = 0;                // seconds
  double users = 0;
  for (const auto& stage : load.stages) {
    const double length = std::chrono::duration<double>(stage.duration).count();
    const double target = stage.target;
    auto at = [&](double level) {  // when the ramp crosses `level`
      return length <= 0 || target == users ? t : t + length * (level - users) / (target - users);
    };
    for (int64_t k = static_cast<int64_t>(std::floor(users)) + 1; static_cast<double>(k) <= target; ++k) {
      active.push_back(slots.size());
      slots.push_back(UserSlot{seconds(at(static_cast<double>(k)))});
    }
    for (int64_t k = static_cast<int64_t>(std::floor(users)); static_cast<double>(k) > target && !active.empty(); --k) {
      slots[active.back()].stop = seconds(at(static_cast<double>(k)));
      active.pop_back();
    }
    t += length;
    users = target;
  }
  return slots;
}

ArrivalSchedule::ArrivalSchedule(const scenario::Load& load)
    : end_s_(std::chrono::duration<double>(load.duration).count()) {
  double t = 0;
  double rate = load.start_rate;
  double arrivals = 0;
  for (const auto& stage : load.stages) {
    const double length = std::chrono::duration<double>(stage.duration).count();
    if (length <= 0) {
      rate = stage.target;
      continue;
    }
    segments_.push_back(Segment{t, length, rate, stage.target, arrivals});
    arrivals += length * (rate + stage.target) / 2;
    t += length;
    rate = stage.target;
  }
  segments_.push_back(Segment{t, std::numeric_limits<double>::infinity(), rate, rate, arrivals});
}

std::optional<Nanos> ArrivalSchedule::at(int64_t k) const {
  const double target = static_cast<double>(k);
  for (const auto& segment : segments_) {
    const double inside = target - segment.arrivals_before;  // arrivals still to come in this segment
    if (inside < 0) break;
    const double slope = std::isinf(segment.length_s) ? 0 : (segment.rate1 - segment.rate0) / segment.length_s;
    // Solve rate0·τ + slope·τ²/2 = inside for the smallest τ >= 0, in the form that
    // stays exact when the slope is 0.
    const double b = segment.rate0;
    const double discriminant = b * b + 2 * slope * inside;
    if (discriminant < 0) continue;
    const double denominator = b + std::sqrt(discriminant);
    if (denominator <= 0) {
      if (inside == 0)
        return seconds(segment.start_s) < seconds(end_s_) ? std::optional(seconds(segment.start_s)) : std::nullopt;
      continue;
    }
    const double tau = 2 * inside / denominator;
    if (tau > segment.length_s) continue;
    const double when = segment.start_s + tau;
    if (when >= end_s_) return std::nullopt;
    return seconds(when);
  }
  return std::nullopt;
}

}  // namespace herd::scenario
