#include "common/k8s/work_queue.h"

#include <thread>

#include <gtest/gtest.h>

namespace herd::k8s {
namespace {

using namespace std::chrono_literals;

class FakeClock final : public Clock {
 public:
  MonoTime now() const override { return now_; }
  void advance(Nanos d) { now_ += d; }

 private:
  MonoTime now_{};
};

TEST(WorkQueue, DeduplicatesUntilTaken) {
  WorkQueue q;
  q.add("a");
  q.add("a");
  q.add("b");
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.tryGet(), "a");
  EXPECT_EQ(q.tryGet(), "b");
  EXPECT_EQ(q.tryGet(), std::nullopt);
}

TEST(WorkQueue, KeyAddedWhileProcessingComesBackAfterDone) {
  WorkQueue q;
  q.add("a");
  auto k = q.tryGet();
  q.add("a");  // a change arrives while a worker reconciles "a"
  EXPECT_EQ(q.tryGet(), std::nullopt) << "never two workers on one key";
  q.done(*k);
  EXPECT_EQ(q.tryGet(), "a");
}

TEST(WorkQueue, BackoffDoublesAndCaps) {
  BackoffPolicy p{10ms, 100ms};
  EXPECT_EQ(backoffDelay(p, 1), 10ms);
  EXPECT_EQ(backoffDelay(p, 2), 20ms);
  EXPECT_EQ(backoffDelay(p, 4), 80ms);
  EXPECT_EQ(backoffDelay(p, 5), 100ms);
  EXPECT_EQ(backoffDelay(p, 1000), 100ms);
}

TEST(WorkQueue, RateLimitedKeyWaitsItsBackoff) {
  FakeClock clock;
  WorkQueue q(BackoffPolicy{10ms, 1s}, clock);
  q.addRateLimited("a");
  q.addRateLimited("a");  // second failure: 20 ms, but the earlier 10 ms wins
  EXPECT_EQ(q.failures("a"), 2);
  EXPECT_EQ(q.tryGet(), std::nullopt);
  clock.advance(9ms);
  EXPECT_EQ(q.tryGet(), std::nullopt);
  clock.advance(1ms);
  EXPECT_EQ(q.tryGet(), "a");
  q.done("a");
  q.forget("a");
  EXPECT_EQ(q.failures("a"), 0);
}

TEST(WorkQueue, GetBlocksUntilDelayedKeyIsReady) {
  WorkQueue q;
  auto start = MonoClock::now();
  q.addAfter("a", 30ms);
  EXPECT_EQ(q.get(), "a");
  EXPECT_GE(MonoClock::now() - start, 30ms);
}

TEST(WorkQueue, ShutDownWakesBlockedWorkers) {
  WorkQueue q;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.get(); });
  q.shutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  q.add("x");
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace herd::k8s
