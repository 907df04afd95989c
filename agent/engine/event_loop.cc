#include "agent/engine/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/core/logging.h"

namespace herd::engine {
namespace {

// Events fetched per epoll_wait(); more simply wait for the next iteration.
constexpr int kMaxEvents = 512;

uint64_t packEvent(int fd, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | static_cast<uint32_t>(fd);
}

[[noreturn]] void fatal(const char* what) {
  logger("engine")->critical("{} failed: {}", what, std::strerror(errno));
  std::abort();
}

}  // namespace

// Drains the eventfd and runs posted functions.
class EventLoop::Waker final : public IoWatcher {
 public:
  explicit Waker(EventLoop& loop) : loop_(loop) {}
  void onIo(uint32_t) override { loop_.runPosted(); }

 private:
  EventLoop& loop_;
};

Timer::Timer(std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {}

Timer::~Timer() {
  if (loop_ != nullptr) loop_->disarm(*this);
}

EventLoop::EventLoop()
    : waker_(std::make_unique<Waker>(*this)),
      now_(MonoClock::now()),
      events_(kMaxEvents),
      scratch_(std::make_unique<char[]>(kScratchSize)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fatal("epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) fatal("eventfd");
  if (!watch(wake_fd_, EPOLLIN, waker_.get())) fatal("epoll_ctl(eventfd)");
}

EventLoop::~EventLoop() {
  // Timers outliving the loop must not reach back into it.
  for (Timer* timer : heap_) {
    timer->loop_ = nullptr;
    timer->heap_index_ = Timer::kNotInHeap;
  }
  close(wake_fd_);
  close(epoll_fd_);
}

void EventLoop::run() {
  while (!stop_requested_.load(std::memory_order_acquire)) {
    const int ready = epoll_wait(epoll_fd_, events_.data(), kMaxEvents, nextTimeoutMs());
    now_ = MonoClock::now();
    if (ready < 0 && errno != EINTR) fatal("epoll_wait");
    for (int i = 0; i < ready; ++i) dispatch(events_[static_cast<size_t>(i)]);
    fireDueTimers();
  }
  stop_requested_.store(false, std::memory_order_relaxed);
}

void EventLoop::stop() {
  stop_requested_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  // A full counter (never in practice) still wakes the loop, so a failed write is fine.
  [[maybe_unused]] auto written = write(wake_fd_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> fn) {
  bool was_empty;
  {
    std::lock_guard lock(posted_mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(fn));
  }
  // One wake-up per batch: later posts find the queue non-empty and the loop
  // already signalled.
  if (was_empty) {
    const uint64_t one = 1;
    [[maybe_unused]] auto written = write(wake_fd_, &one, sizeof one);
  }
}

void EventLoop::runPosted() {
  uint64_t count;
  [[maybe_unused]] auto got = read(wake_fd_, &count, sizeof count);
  {
    std::lock_guard lock(posted_mutex_);
    running_.swap(posted_);
  }
  // Functions posted while these run land in posted_ and wake the next iteration.
  for (auto& fn : running_) fn();
  running_.clear();
}

int EventLoop::nextTimeoutMs() const {
  if (heap_.empty()) return -1;
  const auto wait = heap_.front()->deadline_ - MonoClock::now();
  if (wait <= Nanos::zero()) return 0;
  // Round up: waking a little early would spin until the deadline.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

EventLoop::Slot* EventLoop::slot(int fd) {
  if (fd < 0) return nullptr;
  const auto index = static_cast<size_t>(fd);
  if (index >= slots_.size()) slots_.resize(std::max(index + 1, slots_.size() * 2));
  return &slots_[index];
}

bool EventLoop::watch(int fd, uint32_t events, IoWatcher* watcher) {
  Slot* entry = slot(fd);
  if (entry == nullptr) {
    errno = EBADF;
    return false;
  }
  ++entry->generation;
  epoll_event event{};
  event.events = events;
  event.data.u64 = packEvent(fd, entry->generation);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return false;
  entry->watcher = watcher;
  return true;
}

bool EventLoop::modify(int fd, uint32_t events, IoWatcher* watcher) {
  Slot* entry = slot(fd);
  if (entry == nullptr || entry->watcher == nullptr) {
    errno = ENOENT;
    return false;
  }
  epoll_event event{};
  event.events = events;
  event.data.u64 = packEvent(fd, entry->generation);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0) return false;
  entry->watcher = watcher;
  return true;
}

void EventLoop::unwatch(int fd) {
  Slot* entry = slot(fd);
  if (entry == nullptr || entry->watcher == nullptr) return;
  entry->watcher = nullptr;
  ++entry->generation;  // drops events of this registration still in the batch
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::dispatch(const epoll_event& event) {
  const auto fd = static_cast<size_t>(event.data.u64 & 0xffffffffU);
  const auto generation = static_cast<uint32_t>(event.data.u64 >> 32);
  if (fd >= slots_.size()) return;
  const Slot& entry = slots_[fd];
  if (entry.watcher == nullptr || entry.generation != generation) return;
  entry.watcher->onIo(event.events);
}

void EventLoop::fireDueTimers() {
  now_ = MonoClock::now();
  // Timers armed from here on (by callbacks) wait for the next iteration.
  const uint64_t limit = next_sequence_;
  while (!heap_.empty()) {
    Timer* timer = heap_.front();
    if (timer->deadline_ > now_ || timer->sequence_ >= limit) break;
    heapRemove(0);
    timer->loop_ = nullptr;
    // The callback may destroy the timer: nothing touches it afterwards.
    timer->on_fire_();
  }
}

void EventLoop::arm(Timer& timer, MonoTime deadline) {
  if (timer.loop_ != nullptr) timer.loop_->disarm(timer);
  timer.deadline_ = deadline;
  timer.sequence_ = next_sequence_++;
  timer.loop_ = this;
  heap_.push_back(&timer);
  timer.heap_index_ = static_cast<uint32_t>(heap_.size() - 1);
  siftUp(heap_.size() - 1);
}

void EventLoop::disarm(Timer& timer) {
  if (timer.loop_ != this || timer.heap_index_ == Timer::kNotInHeap) return;
  heapRemove(timer.heap_index_);
  timer.loop_ = nullptr;
}

bool EventLoop::earlier(const Timer* a, const Timer* b) {
  if (a->deadline_ != b->deadline_) return a->deadline_ < b->deadline_;
  return a->sequence_ < b->sequence_;
}

void EventLoop::heapPlace(Timer* timer, size_t index) {
  heap_[index] = timer;
  timer->heap_index_ = static_cast<uint32_t>(index);
}

void EventLoop::siftUp(size_t index) {
  Timer* moving = heap_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    if (!earlier(moving, heap_[parent])) break;
    heapPlace(heap_[parent], index);
    index = parent;
  }
  heapPlace(moving, index);
}

void EventLoop::siftDown(size_t index) {
  Timer* moving = heap_[index];
  const size_t size = heap_.size();
  while (true) {
    size_t child = 2 * index + 1;
    if (child >= size) break;
    if (child + 1 < size && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], moving)) break;
    heapPlace(heap_[child], index);
    index = child;
  }
  heapPlace(moving, index);
}

void EventLoop::heapRemove(size_t index) {
  Timer* removed = heap_[index];
  Timer* last = heap_.back();
  heap_.pop_back();
  removed->heap_index_ = Timer::kNotInHeap;
  if (removed == last) return;
  heapPlace(last, index);
  // The moved element may belong above or below its new place.
  if (index > 0 && earlier(last, heap_[(index - 1) / 2])) {
    siftUp(index);
  } else {
    siftDown(index);
  }
}

}  // namespace herd::engine
