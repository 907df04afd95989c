// A `websocket:` step and the steps inside it. Opening is one wait (its
// endpoint, method WS, gets the handshake's latency); the block then runs with
// the socket open: `send` writes a message and goes on at once; `receive`
// takes the next message (one that came while nobody waited is kept, in
// order, so a push is never missed) or waits up to its timeout; `ping` waits
// for the pong; `close` for the server's close. A receive's latency counts
// from the last send or receive, so a request/response exchange measures the
// server's answer time. Checks and captures read the message as a body.
#include "agent/runtime/fiber.h"
#include "agent/runtime/response_checks.h"
#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"

namespace herd::runtime {

namespace {

using SocketOp = scenario::RequestStep::SocketOp;

// Messages kept for a later receive; past this the oldest is dropped (a
// scenario that never receives must not grow without end).
constexpr size_t kMaxInbox = 1024;

uint64_t nanosSince(MonoTime from, MonoTime to) { return to > from ? static_cast<uint64_t>((to - from).count()) : 0; }

}  // namespace

bool Fiber::socketStep(const scenario::RequestStep& step) {
  const bool open = socket_ && socket_for_steps_ && socket_->isOpen();
  const auto waitFor = [&] {
    pending_ = &step;
    wait_ = Wait::kResponse;
    steps_since_wait_ = 0;
    request_start_ = MonoClock::now();
  };
  switch (step.socket_op) {
    case SocketOp::kNone: return false;
    case SocketOp::kOpen:
      waitFor();
      openSocket(step, true);
      return true;
    case SocketOp::kSend:
    case SocketOp::kSendBinary: return socketSend(step);
    case SocketOp::kReceive: return socketReceive(step);
    case SocketOp::kPing:
      if (!open) break;
      waitFor();
      socket_->ping("herd");
      user_.worker().loop().arm(sockets().socket_timer, user_.worker().loop().now() + step.timeout);
      return true;
    case SocketOp::kClose:
      if (!open) return false;  // the server closed it already
      waitFor();
      socket_->close(engine::websocket::kCloseNormal, user_.worker().loop().now() + step.timeout);
      return true;
  }
  recordSocketAction(step, stats::ErrorKind::kReset, 0, {}, MonoClock::now());  // no socket to act on
  return false;
}

bool Fiber::socketSend(const scenario::RequestStep& step) {
  const auto now = MonoClock::now();
  if (!socket_ || !socket_for_steps_ || !socket_->isOpen()) {
    recordSocketAction(step, stats::ErrorKind::kReset, 0, {}, now);
    return false;
  }
  auto& message = user_.worker().scratch();
  message.clear();
  if (step.body) scenario::renderTemplate(*step.body, user_.renderContext(), message);
  const auto opcode = step.socket_op == SocketOp::kSendBinary ? engine::websocket::Opcode::kBinary
                                                              : engine::websocket::Opcode::kText;
  socket_->send(opcode, message);
  request_start_ = now;
  recordSocketAction(step, stats::ErrorKind::kNone, 0, message, now);
  exchange_from_ = now;
  return false;
}

bool Fiber::socketReceive(const scenario::RequestStep& step) {
  auto& inbox = sockets().inbox;
  if (!inbox.empty()) {
    const auto [at, message] = std::move(inbox.front());
    inbox.pop_front();
    recordSocketAction(step, stats::ErrorKind::kNone, 0, message, at);
    return false;
  }
  if (!socket_ || !socket_for_steps_ || !socket_->isOpen()) {
    recordSocketAction(step, stats::ErrorKind::kReset, 0, {}, MonoClock::now());
    return false;
  }
  pending_ = &step;
  wait_ = Wait::kResponse;
  steps_since_wait_ = 0;
  request_start_ = MonoClock::now();
  user_.worker().loop().arm(sockets().socket_timer, user_.worker().loop().now() + step.timeout);
  return true;
}

void Fiber::onSocketOpened(stats::ErrorKind error, int32_t code, int status) {
  const auto& step = *pending_;
  if (error == stats::ErrorKind::kNone && status != 101) {
    error = status >= 400 ? stats::ErrorKind::kStatus : stats::ErrorKind::kProtocol;
    code = status;
  }
  const auto now = MonoClock::now();
  user_.worker().recorder().recordRequest(step.endpoint, nanosSince(request_start_, now) + lateness_.count(),
                                          socket_->bytesReceived(), socket_->bytesSent(), error, code);
  wait_ = Wait::kNone;
  pending_ = nullptr;
  if (error == stats::ErrorKind::kNone) {
    exchange_from_ = now;
    frames_.push_back(Frame{&step.socket_steps->steps});
  } else {
    closeSocket();  // its steps are skipped: there is no socket for them
  }
  run();
}

void Fiber::onSocketMessage(std::string_view payload) {
  const auto now = MonoClock::now();
  if (pending_ != nullptr && wait_ == Wait::kResponse && pending_->socket_op == SocketOp::kReceive) {
    endSocketAction(stats::ErrorKind::kNone, 0, payload, now);
    return;
  }
  auto& inbox = sockets().inbox;
  if (inbox.size() >= kMaxInbox) inbox.pop_front();
  inbox.emplace_back(now, std::string(payload));
}

void Fiber::onPong(std::string_view /*payload*/) {
  if (socket_for_steps_ && pending_ != nullptr && wait_ == Wait::kResponse && pending_->socket_op == SocketOp::kPing) {
    endSocketAction(stats::ErrorKind::kNone, 0, {}, MonoClock::now());
  }
}

void Fiber::endSocketAction(stats::ErrorKind error, int32_t code, std::string_view message, MonoTime at) {
  const auto& step = *pending_;
  if (sockets_) user_.worker().loop().disarm(sockets_->socket_timer);
  wait_ = Wait::kNone;
  pending_ = nullptr;
  recordSocketAction(step, error, code, message, at);
  if (step.socket_op == SocketOp::kClose) closeSocket();
  run();
}

// One message's (or ping's, or close's) stats, checks and captures.
void Fiber::recordSocketAction(const scenario::RequestStep& step, stats::ErrorKind error, int32_t code,
                               std::string_view message, MonoTime at) {
  auto& worker = user_.worker();
  Outcome outcome{error, code};
  uint64_t latency = 0;
  uint64_t received = 0;
  uint64_t sent = 0;
  switch (step.socket_op) {
    case SocketOp::kSend:
    case SocketOp::kSendBinary: sent = message.size(); break;
    case SocketOp::kReceive:
      latency = nanosSince(exchange_from_, at);
      received = message.size();
      if (error == stats::ErrorKind::kNone) {
        exchange_from_ = at;
        engine::HttpResponse response;
        response.status = 101;
        response.body = message;
        response.bytes_received = received;
        ResponseContext context{worker.reader(),
                                user_.renderContext(),
                                user_.variables(),
                                nullptr,
                                worker.shared().targets[step.origin].origin.host,
                                worker.scratch()};
        outcome = inspectResponse(step, response, context);
      }
      break;
    default: latency = nanosSince(request_start_, at); break;
  }
  worker.recorder().recordRequest(step.endpoint, latency, received, sent, outcome.error, outcome.code);
}

}  // namespace herd::runtime
