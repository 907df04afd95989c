#include "agent/runtime/spawner.h"

#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"
#include "common/scenario/schedule.h"

namespace herd::runtime {

Spawner::Spawner(Worker& worker, size_t index, size_t count)
    : worker_(worker),
      index_(index),
      count_(count),
      next_slot_(static_cast<int64_t>(index)),
      next_arrival_(worker.shared().arrival_shard + worker.shared().arrival_shards * static_cast<int64_t>(index)),
      spawn_timer_([this] { worker_.shared().arrivals ? arriveDue() : spawnDue(); }),
      stop_timer_([this] { stopDue(); }) {
  const int64_t max = worker.shared().max_users;
  const auto n = static_cast<int64_t>(count);
  max_users_ = max / n + (static_cast<int64_t>(index) < max % n ? 1 : 0);
}

void Spawner::start() { worker_.loop().arm(spawn_timer_, worker_.shared().start); }

void Spawner::stop() {
  stopped_ = true;
  worker_.loop().disarm(spawn_timer_);
  worker_.loop().disarm(stop_timer_);
  queued_.clear();
}

// Starts every user whose time has come (catching up if the loop was late), then
// sleeps until the next one.
void Spawner::spawnDue() {
  const auto& shared = worker_.shared();
  const auto now = worker_.loop().now();
  while (!stopped_ && next_slot_ < static_cast<int64_t>(shared.slots.size())) {
    const auto& slot = shared.slots[static_cast<size_t>(next_slot_)];
    const auto due = shared.start + slot.start;
    if (due > now) {
      worker_.loop().arm(spawn_timer_, due);
      return;
    }
    VirtualUser& user = worker_.addUser(next_slot_);
    next_slot_ += static_cast<int64_t>(count_);
    if (slot.stop != scenario::UserSlot::kNever) {
      stops_.emplace(shared.start + slot.stop, &user);
      if (!stop_timer_.armed() || stops_.top().first < stop_timer_.deadline()) {
        worker_.loop().arm(stop_timer_, stops_.top().first);
      }
    }
    user.begin();
  }
}

void Spawner::stopDue() {
  const auto now = worker_.loop().now();
  while (!stopped_ && !stops_.empty()) {
    const auto [when, user] = stops_.top();
    if (when > now) {
      worker_.loop().arm(stop_timer_, when);
      return;
    }
    stops_.pop();
    if (!user->done()) user->stop();
  }
}

void Spawner::arriveDue() {
  const auto& shared = worker_.shared();
  const auto now = worker_.loop().now();
  while (!stopped_) {
    const auto offset = shared.arrivals->at(next_arrival_);
    if (!offset) return;  // the schedule ends with the run
    const auto due = shared.start + *offset;
    if (due > now) {
      worker_.loop().arm(spawn_timer_, due);
      return;
    }
    next_arrival_ += shared.arrival_shards * static_cast<int64_t>(count_);
    dispatch(due);
  }
}

void Spawner::dispatch(MonoTime intended) {
  if (!idle_.empty()) {
    VirtualUser* user = idle_.back();
    idle_.pop_back();
    user->arrive(intended);
    return;
  }
  if (users_ < max_users_) {
    const int64_t global = static_cast<int64_t>(index_) + users_ * static_cast<int64_t>(count_);
    ++users_;
    VirtualUser& user = worker_.addUser(global);
    user.arrive(intended);
    user.begin();
    return;
  }
  queued_.push_back(intended);
}

void Spawner::userIdle(VirtualUser& user) {
  if (stopped_) return;
  if (!queued_.empty()) {
    const auto intended = queued_.front();
    queued_.pop_front();
    user.arrive(intended);
    return;
  }
  idle_.push_back(&user);
}

}  // namespace herd::runtime
