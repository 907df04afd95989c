#include "common/k8s/work_queue.h"

#include <algorithm>

namespace herd::k8s {

std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, int failures) {
  if (failures <= 1) return std::min(policy.base, policy.max);
  // Double step by step and stop at max: shifting by `failures` would overflow
  // after ~60 failures, which a key failing every 5 minutes reaches in hours.
  auto delay = policy.base;
  for (int i = 1; i < failures && delay < policy.max; ++i) delay *= 2;
  return std::min(delay, policy.max);
}

const Clock& WorkQueue::defaultClock() {
  static const SystemClock clock;
  return clock;
}

WorkQueue::WorkQueue(BackoffPolicy policy, const Clock& clock) : policy_(policy), clock_(clock) {}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  waiting_.erase(key);                 // ready now beats ready later
  if (processing_.count(key)) return;  // done() queues it
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::addAfter(const std::string& key, Nanos delay) {
  if (delay <= Nanos::zero()) return add(key);
  std::lock_guard lock(mu_);
  if (shutting_down_ || dirty_.count(key)) return;
  MonoTime when = clock_.now() + delay;
  auto [it, inserted] = waiting_.emplace(key, when);
  if (!inserted && when < it->second) it->second = when;
  cv_.notify_all();  // a sleeping get() may need to wake earlier
}

void WorkQueue::addRateLimited(const std::string& key) {
  int n;
  {
    std::lock_guard lock(mu_);
    n = ++failures_[key];
  }
  addAfter(key, backoffDelay(policy_, n));
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<MonoTime> WorkQueue::promoteReadyLocked() {
  const MonoTime now = clock_.now();
  std::optional<MonoTime> next;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second <= now) {
      std::string key = it->first;
      it = waiting_.erase(it);
      addLocked(key);
    } else {
      if (!next || it->second < *next) next = it->second;
      ++it;
    }
  }
  return next;
}

std::optional<std::string> WorkQueue::popLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    auto next = promoteReadyLocked();
    if (auto key = popLocked()) return key;
    if (next) {
      cv_.wait_for(lock, *next - clock_.now());
    } else {
      cv_.wait(lock);
    }
  }
}

std::optional<std::string> WorkQueue::tryGet() {
  std::lock_guard lock(mu_);
  if (shutting_down_) return std::nullopt;
  promoteReadyLocked();
  return popLocked();
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) && !shutting_down_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::size() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace herd::k8s
