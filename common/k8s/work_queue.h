#pragma once
// A work queue of object keys for level-triggered reconcilers, with the
// guarantees client-go's workqueue gives controllers:
//  - de-duplication: a key added many times before a worker takes it is
//    processed once (reconcile reads the latest state, so once is enough);
//  - no concurrent processing of one key: a key added while a worker holds it
//    is queued again only when that worker calls done();
//  - per-key exponential backoff for failures (addRateLimited), reset by forget().
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/core/clock.h"

namespace herd::k8s {

struct BackoffPolicy {
  std::chrono::milliseconds base{5};
  std::chrono::milliseconds max{std::chrono::seconds(300)};
};

// base * 2^(failures-1), capped at max; failures counts from 1.
std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, int failures);

class WorkQueue {
 public:
  explicit WorkQueue(BackoffPolicy policy = {}, const Clock& clock = defaultClock());

  void add(const std::string& key);
  // Adds the key once `delay` has passed; an earlier pending time for the same key wins.
  void addAfter(const std::string& key, Nanos delay);
  // Adds the key after its next backoff delay and counts one more failure.
  void addRateLimited(const std::string& key);
  // Clears the key's failure count (call after a successful reconcile).
  void forget(const std::string& key);
  int failures(const std::string& key) const;

  // Blocks until a key is ready or the queue shuts down (nullopt). The caller
  // owns the key until it calls done(key).
  std::optional<std::string> get();
  // Non-blocking get, for tests that drive time with a fake clock.
  std::optional<std::string> tryGet();
  void done(const std::string& key);

  // Wakes every get() with nullopt; later adds are ignored.
  void shutDown();
  bool shuttingDown() const;
  size_t size() const;  // keys ready now

 private:
  static const Clock& defaultClock();
  void addLocked(const std::string& key);
  // Moves waiting keys whose time has come to the queue; returns the next wake-up.
  std::optional<MonoTime> promoteReadyLocked();
  std::optional<std::string> popLocked();

  const BackoffPolicy policy_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued or to be queued when done
  std::set<std::string> processing_;  // held by a worker
  std::map<std::string, MonoTime> waiting_;
  std::map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace herd::k8s
