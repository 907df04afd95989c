#pragma once
// One event loop per worker thread: epoll for sockets, an indexed min-heap for
// timers, an eventfd for the rare cross-thread message.
//
// Why epoll by hand (no asio, no libuv): the hot path of a load generator is
// "write a request, wait, read a response" tens of thousands of times a second
// per core. A hand-written loop lets us keep that to one send(), one recv() and a
// share of one epoll_wait() per request, with no allocation (timers are
// intrusive, I/O callbacks are a virtual call on an object the caller owns), no
// locks and no atomics. asio's handlers, strands and per-operation allocations
// cost exactly what we are trying to beat wrk on.
//
// Threading: a loop, its watchers and its timers belong to the thread that calls
// run(). Only stop() and post() may be called from other threads.
//
// Edge- vs level-triggered: the loop passes the caller's epoll flags through
// unchanged, so both work. HttpConnection registers each socket once with
// EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET and never modifies it: that saves an
// epoll_ctl() per request (level-triggered would need EPOLLOUT toggled around
// every partial write). With EPOLLOUT always armed, Linux reports write-space
// only after a write hit a full buffer, so there are no spurious wake-ups. The
// price of edge-triggering is that a watcher must read until EAGAIN (or until it
// needs no more data), which the HTTP client does anyway.
//
// Stale events: an event for a watcher that was unwatched earlier in the same
// batch (its object may be gone, its fd reused) is dropped: each watch() gets a
// generation number that travels in the epoll event and must still match.
//
// Timer rules: due timers fire in deadline order (ties in arming order) after
// the I/O events of an iteration. A timer is disarmed before its callback runs.
// A callback may arm or disarm any timer, itself included, and may destroy any
// object that owns a timer (a Timer's destructor disarms it), including the
// object owning the firing timer, as long as it then touches nothing it
// captured. A timer re-armed for a time already due fires in the next
// iteration, after I/O, so a callback cannot starve the loop.
#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/core/clock.h"

namespace herd::engine {

class EventLoop;

class IoWatcher {
 public:
  // `epoll_events` is the EPOLL* mask epoll reported.
  virtual void onIo(uint32_t epoll_events) = 0;

 protected:
  ~IoWatcher() = default;
};

// A deadline owned by the caller. Arming never allocates: the loop's heap holds
// a pointer, and the timer knows its heap position so disarm() is O(log n).
// Neither copyable nor movable (the heap points at it).
class Timer {
 public:
  explicit Timer(std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return loop_ != nullptr; }
  MonoTime deadline() const { return deadline_; }  // meaningful while armed

 private:
  friend class EventLoop;
  static constexpr uint32_t kNotInHeap = UINT32_MAX;

  std::function<void()> on_fire_;
  MonoTime deadline_{};
  uint64_t sequence_ = 0;      // arming order, breaks deadline ties
  EventLoop* loop_ = nullptr;  // set while armed
  uint32_t heap_index_ = kNotInHeap;
};

class EventLoop {
 public:
  // Size of the loop-owned read buffer returned by scratch().
  static constexpr size_t kScratchSize = 64 * 1024;

  EventLoop();  // aborts the process if epoll or eventfd cannot be created
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(). A stop() that happens before run() makes run() return at
  // once; each stop() ends one run().
  void run();
  // Thread-safe.
  void stop();
  // Thread-safe: runs `fn` on the loop thread in a later iteration. Meant for
  // control messages (about once a second), not for requests: it takes a mutex
  // and may allocate. Functions still queued when the loop is destroyed are
  // dropped without running.
  void post(std::function<void()> fn);

  // Arms (or re-arms, moving it) `timer` for `deadline`. O(log n).
  void arm(Timer& timer, MonoTime deadline);
  // No-op when the timer is not armed. O(log n).
  void disarm(Timer& timer);
  size_t armedTimers() const { return heap_.size(); }

  // Registers `fd` (not owned) with the EPOLL* flags in `events`, which the loop
  // passes to epoll as given (add EPOLLET for edge-triggered). The watcher must
  // stay alive until unwatch(fd). Return false with errno set if epoll refused.
  bool watch(int fd, uint32_t events, IoWatcher* watcher);
  bool modify(int fd, uint32_t events, IoWatcher* watcher);
  // Forgets `fd`; events already fetched for it are dropped. Call before close().
  void unwatch(int fd);

  // A loop-owned buffer for reads. Its contents are valid until control returns
  // to the loop or the next call that may read into it (never keep views).
  std::span<char> scratch() { return {scratch_.get(), kScratchSize}; }

  // Time of the current iteration, refreshed after epoll_wait() and before
  // timers fire. Use it for deadlines; measure latency with MonoClock::now().
  MonoTime now() const { return now_; }

 private:
  struct Slot {
    IoWatcher* watcher = nullptr;
    uint32_t generation = 0;
  };
  class Waker;

  int nextTimeoutMs() const;
  void dispatch(const epoll_event& event);
  void fireDueTimers();
  void runPosted();
  Slot* slot(int fd);

  // Heap helpers; the heap is ordered by (deadline, sequence).
  static bool earlier(const Timer* a, const Timer* b);
  void heapPlace(Timer* timer, size_t index);
  void siftUp(size_t index);
  void siftDown(size_t index);
  void heapRemove(size_t index);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::unique_ptr<Waker> waker_;
  std::atomic<bool> stop_requested_{false};
  MonoTime now_;
  uint64_t next_sequence_ = 0;
  std::vector<Timer*> heap_;
  std::vector<Slot> slots_;  // by fd
  std::vector<epoll_event> events_;
  std::unique_ptr<char[]> scratch_;

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;   // guarded by posted_mutex_
  std::vector<std::function<void()>> running_;  // loop thread only
};

}  // namespace herd::engine
