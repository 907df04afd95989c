#pragma once
// One agent's stream as the coordinator sees it, whatever carries it (a gRPC
// stream, or a direct call inside `herd run`): the coordinator pushes messages
// into the connection's outbox under its own lock and never blocks on the
// network; the transport's writer pops them and sends.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "common/core/clock.h"
#include "herd/v1/agent.pb.h"

namespace herd::coordinator {

class Connection {
 public:
  explicit Connection(std::string peer) : peer_(std::move(peer)) {}

  const std::string& peer() const { return peer_; }

  // Thread-safe. Ignored once the connection is closed.
  void push(v1::CoordinatorMessage message);
  // Thread-safe: no more messages; pop() drains what is queued, then ends.
  void close();
  bool closed() const;

  // The next message, waiting up to `timeout`; nullopt on timeout or when the
  // connection is closed and drained (check closed()).
  std::optional<v1::CoordinatorMessage> pop(Nanos timeout);

  // For a transport without a thread of its own per stream (the gRPC
  // reactor): called after each push() and at close(), outside the
  // connection's lock, from the pushing thread; it then pops what is ready.
  // It must not push() or close().
  void onReady(std::function<void()> hook);

  // The coordinator expects nothing from the agent before `when` (its next
  // report): a transport may leave the stream unread until then. Reading a
  // message that is already there costs gRPC less than waiting for it, which
  // answers each message with a flow-control update (a write per report).
  // Thread-safe; takeReadAfter() returns it once and forgets it.
  void readAfter(MonoTime when);
  MonoTime takeReadAfter();

 private:
  void wake();

  const std::string peer_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<v1::CoordinatorMessage> queue_;
  bool closed_ = false;
  MonoTime read_after_{};
  std::function<void()> hook_;
};

}  // namespace herd::coordinator
