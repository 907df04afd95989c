#include "common/coordinator/connection.h"

#include <utility>

namespace herd::coordinator {

void Connection::push(v1::CoordinatorMessage message) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    queue_.push_back(std::move(message));
  }
  ready_.notify_one();
  wake();
}

void Connection::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
  wake();
}

void Connection::onReady(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  hook_ = std::move(hook);
}

void Connection::wake() {
  std::function<void()> hook;
  {
    std::lock_guard lock(mutex_);
    hook = hook_;
  }
  if (hook) hook();
}

void Connection::readAfter(MonoTime when) {
  std::lock_guard lock(mutex_);
  read_after_ = when;
}

MonoTime Connection::takeReadAfter() {
  std::lock_guard lock(mutex_);
  return std::exchange(read_after_, MonoTime{});
}

bool Connection::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<v1::CoordinatorMessage> Connection::pop(Nanos timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [this] { return closed_ || !queue_.empty(); });
  if (queue_.empty()) return std::nullopt;
  auto message = std::move(queue_.front());
  queue_.pop_front();
  return message;
}

}  // namespace herd::coordinator
