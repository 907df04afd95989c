// The WebSocket of a C++ user (herd::User::wsConnect and the calls after it),
// over the engine's WebSocketConnection, counted the way a YAML websocket
// step and the steps inside it are (agent/runtime/websocket_steps.cc): the
// handshake's latency for the connect, the message's bytes for a send, the
// time since the last send or receive for a receive, the close handshake's.
#include <fmt/format.h>

#include <stdexcept>

#include "agent/runtime/code_user.h"
#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"

namespace herd::runtime {

namespace {

using Op = herd::SocketCall::Op;

// The largest message the socket accepts (beyond: close code 1009), and the
// messages kept for a later receive (beyond: the oldest is dropped), as for
// YAML sockets.
constexpr size_t kMaxMessage = 4 << 20;
constexpr size_t kMaxInbox = 1024;

Nanos since(MonoTime from, MonoTime to) { return to > from ? to - from : Nanos(0); }

}  // namespace

bool CodeUser::startSocket(const herd::SocketCall& call, herd::SocketResult& into, std::coroutine_handle<> awaiter) {
  flush();
  // Throws into the coroutine (await_suspend): nothing is started.
  const size_t endpoint = endpointIndex(call.endpoint);
  last_endpoint_ = endpoint;
  const auto now = MonoClock::now();
  const bool open = socket_ && socket_->isOpen();
  switch (call.op) {
    case Op::kSend:
    case Op::kSendBinary:
      if (!open) {
        recordSocket(endpoint, Nanos(0), 0, 0, stats::ErrorKind::kReset, 0, into);
        return false;
      }
      socket_->send(call.op == Op::kSend ? engine::websocket::Opcode::kText : engine::websocket::Opcode::kBinary,
                    call.text);
      recordSocket(endpoint, Nanos(0), 0, call.text.size(), stats::ErrorKind::kNone, 0, into);
      exchange_from_ = now;
      return false;
    case Op::kReceive:
      if (!inbox_.empty()) {
        const auto [at, message] = std::move(inbox_.front());
        inbox_.pop_front();
        recordSocket(endpoint, since(exchange_from_, at), message.size(), 0, stats::ErrorKind::kNone, 0, into);
        into.message = message;
        exchange_from_ = at;
        return false;
      }
      if (!open) {
        recordSocket(endpoint, Nanos(0), 0, 0, stats::ErrorKind::kReset, 0, into);
        return false;
      }
      break;
    case Op::kConnect:
      if (call.text.empty() || call.text[0] != '/' || call.text.find_first_of(" \r\n") != std::string::npos) {
        throw std::invalid_argument("WebSocket path must start with '/' and hold no space or line break: " + call.text);
      }
      break;
    case Op::kClose:
      if (!open) return false;  // the server closed it already: nothing to count
      break;
  }
  if (endAtWait()) return true;
  quick_iterations_ = 0;
  auto& worker = owner_.worker();
  socket_op_ = call.op;
  socket_endpoint_ = endpoint;
  socket_into_ = &into;
  awaiter_ = awaiter;
  wait_ = Wait::kSocket;
  request_start_ = now;
  switch (call.op) {
    case Op::kConnect: {
      const size_t origin = originIndex(call.origin);
      if (socket_) socket_->cancel();
      inbox_.clear();
      socket_ = std::make_unique<engine::WebSocketConnection>(worker.loop(), worker.shared().targets[origin], *this,
                                                              kMaxMessage);
      socket_->open(call.text, {}, now + call.timeout);
      break;
    }
    case Op::kReceive: worker.loop().arm(timer_, worker.loop().now() + call.timeout); break;
    case Op::kClose: socket_->close(engine::websocket::kCloseNormal, now + call.timeout); break;
    case Op::kSend:
    case Op::kSendBinary: break;
  }
  return true;
}

void CodeUser::recordSocket(size_t endpoint, Nanos latency, uint64_t received, uint64_t sent, stats::ErrorKind error,
                            int32_t code, herd::SocketResult& into) {
  record_ = Record{endpoint, static_cast<uint64_t>(latency.count()), received, sent, error, code, 0, 1};
  into.error = error == stats::ErrorKind::kNone ? std::string() : stats::errorMessage(error, code);
}

void CodeUser::socketDone() {
  wait_ = Wait::kNone;
  socket_into_ = nullptr;
  if (stop_requested_ && phase_ != Phase::kOnStop) {
    // Stopping: the call is counted, the coroutine does not go on.
    endCoroutine();
    phaseEnded();
    return;
  }
  resume(std::exchange(awaiter_, {}));
}

void CodeUser::onOpen(stats::ErrorKind error, int32_t code, int status) {
  if (wait_ != Wait::kSocket || socket_op_ != Op::kConnect) return;
  if (error == stats::ErrorKind::kNone && status != 101) {
    error = status >= 400 ? stats::ErrorKind::kStatus : stats::ErrorKind::kProtocol;
    code = status;
  }
  const auto now = MonoClock::now();
  recordSocket(socket_endpoint_, since(request_start_, now) + lateness_, socket_->bytesReceived(), socket_->bytesSent(),
               error, code, *socket_into_);
  if (error == stats::ErrorKind::kNone) {
    exchange_from_ = now;
  } else {
    socket_->cancel();
  }
  socketDone();
}

void CodeUser::onMessage(engine::websocket::Opcode /*opcode*/, std::string_view payload) {
  const auto now = MonoClock::now();
  if (wait_ == Wait::kSocket && socket_op_ == Op::kReceive) {
    owner_.worker().loop().disarm(timer_);
    recordSocket(socket_endpoint_, since(exchange_from_, now), payload.size(), 0, stats::ErrorKind::kNone, 0,
                 *socket_into_);
    socket_into_->message.assign(payload);
    exchange_from_ = now;
    socketDone();
    return;
  }
  if (inbox_.size() >= kMaxInbox) inbox_.pop_front();
  inbox_.emplace_back(now, std::string(payload));
}

// The close handshake ended (a wsClose waits for exactly this), or the server
// closed or the socket broke: a receive waiting on it fails as a reset.
void CodeUser::onClosed(stats::ErrorKind error, uint16_t /*close_code*/) {
  if (wait_ != Wait::kSocket || socket_op_ == Op::kConnect) return;
  const auto now = MonoClock::now();
  const bool closing = socket_op_ == Op::kClose;
  if (!closing) owner_.worker().loop().disarm(timer_);
  recordSocket(socket_endpoint_, closing ? since(request_start_, now) : since(exchange_from_, now), 0, 0,
               closing || error != stats::ErrorKind::kNone ? error : stats::ErrorKind::kReset, 0, *socket_into_);
  socketDone();
}

void CodeUser::onSocketTimeout() {
  recordSocket(socket_endpoint_, since(exchange_from_, MonoClock::now()), 0, 0, stats::ErrorKind::kTimeout, 0,
               *socket_into_);
  socketDone();
}

}  // namespace herd::runtime
