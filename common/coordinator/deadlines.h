#pragma once
// One thread that runs every stream's timeouts (the first Hello, the hang-up
// after the last message) when they fall due, so that a stream waiting for
// one costs an entry in a map, not a thread of its own.
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "common/core/clock.h"

namespace herd::coordinator {

class Deadlines {
 public:
  Deadlines();
  ~Deadlines();  // drops what has not fallen due; waits for a running one
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

  // `fire` runs on the deadline thread at `when` (or later); it must not block
  // and must tolerate that what it refers to has ended meanwhile (hold a weak_ptr).
  void at(MonoTime when, std::function<void()> fire);

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<MonoTime, std::function<void()>> due_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace herd::coordinator
