#include "common/coordinator/deadlines.h"

namespace herd::coordinator {

Deadlines::Deadlines() : thread_([this] { loop(); }) {}

Deadlines::~Deadlines() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Deadlines::at(MonoTime when, std::function<void()> fire) {
  bool earliest = false;
  {
    std::lock_guard lock(mutex_);
    earliest = due_.empty() || when < due_.begin()->first;
    due_.emplace(when, std::move(fire));
  }
  if (earliest) changed_.notify_all();
}

void Deadlines::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (due_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const auto next = due_.begin()->first;
    if (MonoClock::now() < next) {
      changed_.wait_until(lock, next);
      continue;
    }
    auto fire = std::move(due_.begin()->second);
    due_.erase(due_.begin());
    lock.unlock();  // fire() may take a stream's lock, whose owner may call at()
    fire();
    lock.lock();
  }
}

}  // namespace herd::coordinator
