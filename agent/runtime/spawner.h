#pragma once
// A worker's share of the load shape. Closed model: it starts the users whose
// slots it owns (global index = worker index + k · worker count) at their start
// times and stops them at their stop times (a ramp down). Open model: it takes
// arrivals the same way, round-robin by arrival index, and starts each as one
// iteration on an idle user, a new user while there are fewer than its share of
// maxUsers, or else queues it; a queued arrival's wait counts into the latency
// of its requests (the intended send time, not the actual one).
#include <cstdint>
#include <deque>
#include <queue>
#include <utility>
#include <vector>

#include "agent/engine/event_loop.h"
#include "common/core/clock.h"

namespace herd::runtime {

class VirtualUser;
class Worker;

class Spawner {
 public:
  Spawner(Worker& worker, size_t index, size_t count);
  void start();  // on the worker thread, once
  void stop();   // no more users or arrivals
  // Open model: `user` finished its iteration and waits for the next arrival.
  void userIdle(VirtualUser& user);

 private:
  void spawnDue();
  void stopDue();
  void arriveDue();
  void dispatch(MonoTime intended);

  Worker& worker_;
  const size_t index_;
  const size_t count_;
  bool stopped_ = false;
  int64_t next_slot_;      // closed: the next global slot this worker starts
  int64_t next_arrival_;   // open: the next global arrival index this worker takes
  int64_t max_users_ = 0;  // open: this worker's share of maxUsers
  int64_t users_ = 0;      // open: users this worker created
  std::vector<VirtualUser*> idle_;
  std::deque<MonoTime> queued_;  // intended start times of arrivals waiting for a user
  // Closed: (stop time, user) for users a ramp down will stop, earliest first.
  using PendingStop = std::pair<MonoTime, VirtualUser*>;
  std::priority_queue<PendingStop, std::vector<PendingStop>, std::greater<>> stops_;
  engine::Timer spawn_timer_;
  engine::Timer stop_timer_;
};

}  // namespace herd::runtime
