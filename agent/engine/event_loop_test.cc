#include "agent/engine/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "common/core/random.h"

namespace herd::engine {
namespace {

using std::chrono::milliseconds;

// Stops the loop if a test would otherwise hang; `fired` tells the test it did.
class Guard {
 public:
  explicit Guard(EventLoop& loop, milliseconds after = milliseconds(5000))
      : timer_([this, &loop] {
          fired_ = true;
          loop.stop();
        }) {
    loop.arm(timer_, MonoClock::now() + after);
  }
  bool fired() const { return fired_; }

 private:
  bool fired_ = false;
  Timer timer_;
};

TEST(EventLoop, TimersFireInDeadlineOrderWithTiesInArmingOrder) {
  EventLoop loop;
  std::vector<int> order;
  const MonoTime base = MonoClock::now();
  Timer t30([&] { order.push_back(30); });
  Timer t10([&] { order.push_back(10); });
  Timer t20a([&] { order.push_back(20); });
  Timer t20b([&] { order.push_back(21); });
  Timer t0([&] { order.push_back(0); });
  Timer last([&] { loop.stop(); });
  loop.arm(t30, base + milliseconds(30));
  loop.arm(t20a, base + milliseconds(20));
  loop.arm(t10, base + milliseconds(10));
  loop.arm(t20b, base + milliseconds(20));
  loop.arm(t0, base - milliseconds(5));  // already due
  loop.arm(last, base + milliseconds(40));
  Guard guard(loop);
  loop.run();
  EXPECT_FALSE(guard.fired());
  EXPECT_EQ(order, (std::vector<int>{0, 10, 20, 21, 30}));
  EXPECT_GE(MonoClock::now() - base, milliseconds(40));
}

TEST(EventLoop, TimerFiresNotBeforeItsDeadline) {
  EventLoop loop;
  MonoTime fired_at;
  const MonoTime deadline = MonoClock::now() + milliseconds(50);
  Timer timer([&] {
    fired_at = MonoClock::now();
    loop.stop();
  });
  loop.arm(timer, deadline);
  Guard guard(loop);
  loop.run();
  EXPECT_GE(fired_at, deadline);
  EXPECT_LT(fired_at - deadline, milliseconds(50));
  EXPECT_FALSE(timer.armed());
}

TEST(EventLoop, DisarmAndRearm) {
  EventLoop loop;
  int fired = 0;
  Timer timer([&] { ++fired; });
  Timer never([&] { ADD_FAILURE() << "a disarmed timer fired"; });
  loop.disarm(timer);  // not armed: no-op
  loop.arm(never, MonoClock::now());
  EXPECT_TRUE(never.armed());
  loop.disarm(never);
  EXPECT_FALSE(never.armed());
  loop.arm(timer, MonoClock::now() + std::chrono::hours(1));
  const MonoTime soon = MonoClock::now() + milliseconds(5);
  loop.arm(timer, soon);  // re-arming moves it
  EXPECT_EQ(timer.deadline(), soon);
  EXPECT_EQ(loop.armedTimers(), 1u);
  Timer stop([&] { loop.stop(); });
  loop.arm(stop, MonoClock::now() + milliseconds(20));
  loop.run();
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(loop.armedTimers(), 0u);
}

TEST(EventLoop, CallbackMayRearmItself) {
  EventLoop loop;
  int fired = 0;
  Timer* self = nullptr;
  Timer timer([&] {
    if (++fired == 5) {
      loop.stop();
      return;
    }
    loop.arm(*self, loop.now() + milliseconds(1));
  });
  self = &timer;
  loop.arm(timer, loop.now());
  Guard guard(loop);
  loop.run();
  EXPECT_FALSE(guard.fired());
  EXPECT_EQ(fired, 5);
}

TEST(EventLoop, ADueRearmDoesNotStarveIo) {
  EventLoop loop;
  bool posted_ran = false;
  int rounds = 0;
  Timer* self = nullptr;
  Timer spinner([&] {
    ++rounds;
    if (posted_ran || rounds > 1000000) {
      loop.stop();
      return;
    }
    loop.arm(*self, loop.now());  // due again at once
  });
  self = &spinner;
  loop.arm(spinner, loop.now());
  loop.post([&] { posted_ran = true; });
  loop.run();
  EXPECT_TRUE(posted_ran);
  EXPECT_LT(rounds, 10);
}

TEST(EventLoop, DestroyingAnArmedTimerDisarmsIt) {
  EventLoop loop;
  auto doomed = std::make_unique<Timer>([] { ADD_FAILURE() << "a destroyed timer fired"; });
  loop.arm(*doomed, MonoClock::now() + milliseconds(5));
  // Another timer's callback destroys it first (the documented way).
  Timer killer([&] { doomed.reset(); });
  loop.arm(killer, MonoClock::now());
  Timer stop([&] { loop.stop(); });
  loop.arm(stop, MonoClock::now() + milliseconds(20));
  EXPECT_EQ(loop.armedTimers(), 3u);
  loop.run();
  EXPECT_EQ(doomed, nullptr);
  EXPECT_EQ(loop.armedTimers(), 0u);
}

TEST(EventLoop, CallbackMayDestroyTheOwnerOfItsOwnTimer) {
  struct Owner {
    explicit Owner(std::unique_ptr<Owner>& slot) : timer([&slot] { slot.reset(); }) {}
    Timer timer;
  };
  EventLoop loop;
  std::unique_ptr<Owner> owner;
  owner = std::make_unique<Owner>(owner);
  loop.arm(owner->timer, loop.now());
  Timer stop([&] { loop.stop(); });
  loop.arm(stop, MonoClock::now() + milliseconds(5));
  loop.run();
  EXPECT_EQ(owner, nullptr);  // ASan checks nothing touched it afterwards
}

TEST(EventLoop, TimerMayOutliveItsLoop) {
  Timer timer([] {});
  {
    EventLoop loop;
    loop.arm(timer, MonoClock::now() + std::chrono::hours(1));
  }
  EXPECT_FALSE(timer.armed());
}

TEST(EventLoop, ManyTimersFireExactlyOnceInOrder) {
  EventLoop loop;
  Rng rng(42);
  constexpr int kCount = 5000;
  const MonoTime base = MonoClock::now() - std::chrono::seconds(10);
  std::vector<std::pair<MonoTime, int>> fired;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < kCount; ++i) {
    timers.push_back(std::make_unique<Timer>(
        [&fired, &timers, i] { fired.emplace_back(timers[static_cast<size_t>(i)]->deadline(), i); }));
    loop.arm(*timers.back(), base + milliseconds(rng.between(0, 5000)));
  }
  std::vector<bool> expected(kCount, true);
  for (int i = 0; i < kCount; ++i) {
    if (rng.between(0, 2) == 0) {
      loop.disarm(*timers[static_cast<size_t>(i)]);
      expected[static_cast<size_t>(i)] = false;
    } else if (rng.between(0, 3) == 0) {
      loop.arm(*timers[static_cast<size_t>(i)], base + milliseconds(rng.between(0, 5000)));
    }
  }
  Timer stop([&] { loop.stop(); });
  loop.arm(stop, MonoClock::now());
  loop.run();
  const auto expected_count = std::count(expected.begin(), expected.end(), true);
  ASSERT_EQ(static_cast<long>(fired.size()), expected_count);
  EXPECT_TRUE(
      std::is_sorted(fired.begin(), fired.end(), [](const auto& a, const auto& b) { return a.first < b.first; }));
  for (const auto& [deadline, index] : fired) EXPECT_TRUE(expected[static_cast<size_t>(index)]);
}

TEST(EventLoop, PostFromAnotherThreadRunsOnTheLoopThread) {
  EventLoop loop;
  constexpr int kPosts = 1000;
  int ran = 0;  // touched only on the loop thread
  bool wrong_thread = false;
  const std::thread::id loop_thread = std::this_thread::get_id();  // run() is called here
  std::thread poster([&] {
    for (int i = 0; i < kPosts; ++i) {
      loop.post([&] {
        wrong_thread = wrong_thread || std::this_thread::get_id() != loop_thread;
        if (++ran == kPosts) loop.stop();
      });
    }
  });
  Guard guard(loop);
  loop.run();
  poster.join();
  EXPECT_FALSE(guard.fired());
  EXPECT_EQ(ran, kPosts);
  EXPECT_FALSE(wrong_thread);
}

TEST(EventLoop, StopFromAnotherThreadWakesAnIdleLoop) {
  EventLoop loop;  // no timers: epoll_wait would block forever
  std::atomic<bool> running{false};
  loop.post([&] { running = true; });
  std::thread stopper([&] {
    for (int i = 0; i < 5000 && !running; ++i) std::this_thread::sleep_for(milliseconds(1));
    loop.stop();
  });
  const MonoTime start = MonoClock::now();
  loop.run();
  stopper.join();
  EXPECT_TRUE(running);
  EXPECT_LT(MonoClock::now() - start, milliseconds(5000));
}

TEST(EventLoop, StopBeforeRunEndsTheNextRunOnly) {
  EventLoop loop;
  loop.stop();
  loop.run();  // returns at once
  bool fired = false;
  Timer timer([&] {
    fired = true;
    loop.stop();
  });
  loop.arm(timer, MonoClock::now() + milliseconds(5));
  loop.run();  // runs until the timer stops it
  EXPECT_TRUE(fired);
}

TEST(EventLoop, NowIsRefreshedEachIteration) {
  EventLoop loop;
  const MonoTime before = loop.now();
  MonoTime seen;
  Timer timer([&] {
    seen = loop.now();
    loop.stop();
  });
  loop.arm(timer, MonoClock::now() + milliseconds(10));
  loop.run();
  EXPECT_GE(seen - before, milliseconds(10));
}

TEST(EventLoop, ScratchIsLoopOwned) {
  EventLoop loop;
  EXPECT_EQ(loop.scratch().size(), EventLoop::kScratchSize);
  EXPECT_EQ(loop.scratch().data(), loop.scratch().data());
}

// A pipe whose read end is watched; counts events.
class PipeWatcher final : public IoWatcher {
 public:
  explicit PipeWatcher(std::function<void()> on_event = {}) : on_event_(std::move(on_event)) {
    EXPECT_EQ(pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0);
  }
  ~PipeWatcher() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  void onIo(uint32_t events) override {
    ++events_;
    last_ = events;
    if (on_event_) on_event_();
  }
  int readFd() const { return fds_[0]; }
  void closeRead() {
    close(fds_[0]);
    fds_[0] = -1;
  }
  void poke() { EXPECT_EQ(write(fds_[1], "x", 1), 1); }
  int events() const { return events_; }
  uint32_t last() const { return last_; }

 private:
  int fds_[2] = {-1, -1};
  int events_ = 0;
  uint32_t last_ = 0;
  std::function<void()> on_event_;
};

TEST(EventLoop, WatchDeliversEventsUntilUnwatched) {
  EventLoop loop;
  PipeWatcher pipe([&] { loop.stop(); });
  ASSERT_TRUE(loop.watch(pipe.readFd(), EPOLLIN, &pipe));
  pipe.poke();
  Guard guard(loop);
  loop.run();
  EXPECT_EQ(pipe.events(), 1);
  EXPECT_TRUE(pipe.last() & EPOLLIN);

  loop.unwatch(pipe.readFd());
  pipe.poke();
  Timer stop([&] { loop.stop(); });
  loop.arm(stop, MonoClock::now() + milliseconds(20));
  loop.run();
  EXPECT_EQ(pipe.events(), 1);
}

TEST(EventLoop, EventsOfAWatcherUnwatchedInTheSameBatchAreDropped) {
  EventLoop loop;
  PipeWatcher* a_ptr = nullptr;
  PipeWatcher* b_ptr = nullptr;
  // Whichever runs first unwatches the other, whose event is already fetched.
  PipeWatcher a([&] { loop.unwatch(b_ptr->readFd()); });
  PipeWatcher b([&] { loop.unwatch(a_ptr->readFd()); });
  a_ptr = &a;
  b_ptr = &b;
  // Edge-triggered: the survivor, never drained, reports once.
  ASSERT_TRUE(loop.watch(a.readFd(), EPOLLIN | EPOLLET, &a));
  ASSERT_TRUE(loop.watch(b.readFd(), EPOLLIN | EPOLLET, &b));
  a.poke();
  b.poke();
  Timer stop([&] { loop.stop(); });
  loop.arm(stop, MonoClock::now() + milliseconds(20));
  loop.run();
  EXPECT_EQ(a.events() + b.events(), 1);
}

TEST(EventLoop, AStaleEventIsNotDeliveredToTheNextWatcherOfTheSameFd) {
  EventLoop loop;
  PipeWatcher* pipes[2] = {nullptr, nullptr};
  std::unique_ptr<PipeWatcher> replacement;
  int old_fd = -1;
  // Whichever runs first closes the other (whose event is already fetched) and
  // watches a new pipe, which gets the closed fd's number.
  auto replaceOther = [&](int self) {
    if (replacement) return;
    PipeWatcher* other = pipes[1 - self];
    old_fd = other->readFd();
    loop.unwatch(old_fd);
    other->closeRead();
    replacement = std::make_unique<PipeWatcher>();
    ASSERT_TRUE(loop.watch(replacement->readFd(), EPOLLIN | EPOLLET, replacement.get()));
  };
  PipeWatcher a([&] { replaceOther(0); });
  PipeWatcher b([&] { replaceOther(1); });
  pipes[0] = &a;
  pipes[1] = &b;
  ASSERT_TRUE(loop.watch(a.readFd(), EPOLLIN | EPOLLET, &a));
  ASSERT_TRUE(loop.watch(b.readFd(), EPOLLIN | EPOLLET, &b));
  a.poke();
  b.poke();
  Timer stop([&] { loop.stop(); });
  loop.arm(stop, MonoClock::now() + milliseconds(20));
  loop.run();
  ASSERT_NE(replacement, nullptr);
  EXPECT_EQ(replacement->readFd(), old_fd);  // the number was reused: the case under test
  EXPECT_EQ(a.events() + b.events(), 1);
  EXPECT_EQ(replacement->events(), 0);
}

TEST(EventLoop, ModifyChangesTheWatcher) {
  EventLoop loop;
  PipeWatcher first;
  PipeWatcher second([&] { loop.stop(); });
  ASSERT_TRUE(loop.watch(first.readFd(), EPOLLIN, &first));
  ASSERT_TRUE(loop.modify(first.readFd(), EPOLLIN, &second));
  first.poke();
  Guard guard(loop);
  loop.run();
  EXPECT_EQ(first.events(), 0);
  EXPECT_EQ(second.events(), 1);
  loop.unwatch(first.readFd());
  EXPECT_FALSE(loop.modify(first.readFd(), EPOLLIN, &second));
}

}  // namespace
}  // namespace herd::engine
