// Pub/sub with `mode: websocket`: a publish sends its marked message as one
// text message on a socket the fiber keeps open between publishes (reopened
// when the URL changes or the server closed it); a subscribe opens a socket,
// records the markers of every message it receives and ends at its timeout
// (or when the server closes), like a `stream` subscribe. Both finish through
// Fiber::onResponse() with a response made up from the socket's outcome, so
// checks, retries, stats and the drain work as for HTTP.
#include "agent/runtime/fiber.h"
#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"

namespace herd::runtime {

namespace {

// The largest message a socket accepts (a publish's, a subscriber's or a
// conversation's): beyond it the socket fails with close code 1009.
constexpr size_t kMaxMessage = 4 << 20;

using Kind = scenario::Delivery::Kind;

}  // namespace

void Fiber::sendOnSocket(const scenario::RequestStep& step) {
  std::string path;
  scenario::renderTemplate(step.path, user_.renderContext(), path);
  wait_ = Wait::kResponse;
  steps_since_wait_ = 0;
  request_start_ = MonoClock::now();
  if (step.delivery->kind == Kind::kPublish && socket_ && socket_->isOpen() && !socket_for_steps_ &&
      path == sockets().socket_path) {
    socket_sent_mark_ = socket_->bytesSent();
    socket_received_mark_ = socket_->bytesReceived();
    publishOnSocket(step);
    return;
  }
  openSocket(step, false);
}

// A new socket for `step` (its URL and headers rendered now), open by its timeout.
void Fiber::openSocket(const scenario::RequestStep& step, bool for_steps) {
  auto& worker = user_.worker();
  const auto context = user_.renderContext();
  closeSocket();
  socket_ = std::make_unique<engine::WebSocketConnection>(worker.loop(), worker.shared().targets[step.origin], *this,
                                                          kMaxMessage);
  socket_for_steps_ = for_steps;
  auto& socket_path = sockets().socket_path;
  socket_path.clear();
  scenario::renderTemplate(step.path, context, socket_path);
  socket_sent_mark_ = socket_received_mark_ = 0;
  std::string headers;
  for (const auto& header : step.headers) {
    headers.append(header.name).append(": ");
    scenario::renderTemplate(header.value, context, headers);
    headers.append("\r\n");
  }
  socket_->open(socket_path, headers, request_start_ + step.timeout);
}

// Sends the message now and ends the step from the loop (never from inside
// the step that sent it, so a loop of publishes does not recurse).
void Fiber::publishOnSocket(const scenario::RequestStep& step) {
  std::string message = marker_;
  if (step.body) scenario::renderTemplate(*step.body, user_.renderContext(), message);
  socket_sent_ = socket_->send(engine::websocket::Opcode::kText, message);
  user_.worker().loop().arm(sockets().socket_timer, user_.worker().loop().now());
}

void Fiber::onSocketTimer() {
  if (pending_ == nullptr || wait_ != Wait::kResponse) return;
  if (pending_->socket_op != scenario::RequestStep::SocketOp::kNone) {
    endSocketAction(stats::ErrorKind::kTimeout, 0, {}, MonoClock::now());
    return;
  }
  if (pending_->delivery->kind == Kind::kPublish) {
    endSocketStep(socket_sent_ ? stats::ErrorKind::kNone : stats::ErrorKind::kReset, 0, 101);
    return;
  }
  endSocketStep(stats::ErrorKind::kTimeout, 0, 101);  // a subscribe's timeout ends it without a failure
}

void Fiber::onOpen(stats::ErrorKind error, int32_t code, int status) {
  if (pending_ == nullptr || wait_ != Wait::kResponse) return;
  if (socket_for_steps_) {
    onSocketOpened(error, code, status);
    return;
  }
  if (error == stats::ErrorKind::kNone && status != 101) {
    // A refused upgrade: 4xx/5xx count as the status, anything else is not a WebSocket server.
    endSocketStep(status >= 400 ? stats::ErrorKind::kNone : stats::ErrorKind::kProtocol, 0, status);
    return;
  }
  if (error != stats::ErrorKind::kNone) {
    endSocketStep(error, code, status);
    return;
  }
  if (pending_->delivery->kind == Kind::kPublish) {
    publishOnSocket(*pending_);
    return;
  }
  user_.worker().loop().arm(sockets().socket_timer, request_start_ + pending_->timeout);
}

void Fiber::onMessage(engine::websocket::Opcode /*opcode*/, std::string_view payload) {
  if (socket_for_steps_) {
    onSocketMessage(payload);
    return;
  }
  // A publisher's socket may carry the server's acknowledgements: not deliveries.
  if (pending_ == nullptr || pending_->delivery->kind != Kind::kSubscribe) return;
  const auto stream = static_cast<uint32_t>(pending_->delivery->stream);
  auto& receipts = user_.worker().delivery().receipts;
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  stats::scanMarkers(payload, [&](int64_t publisher, uint64_t seq, int64_t sent) {
    receipts.push_back(stats::Receipt{stream, user_.index(), publisher, seq, sent, now});
  });
}

// The server closed (or the socket broke). A subscribe waiting on it ends,
// like a stream the server ended; a publisher's socket is reopened by the next publish.
void Fiber::onClosed(stats::ErrorKind error, uint16_t /*close_code*/) {
  if (socket_for_steps_) {
    // A close step waits for exactly this; any other wait ends as a broken socket.
    if (pending_ == nullptr || wait_ != Wait::kResponse) return;
    const bool closing = pending_->socket_op == scenario::RequestStep::SocketOp::kClose;
    endSocketAction(closing || error != stats::ErrorKind::kNone ? error : stats::ErrorKind::kReset, 0, {},
                    MonoClock::now());
    return;
  }
  if (pending_ == nullptr || wait_ != Wait::kResponse || !pending_->delivery ||
      pending_->delivery->kind != Kind::kSubscribe) {
    return;
  }
  endSocketStep(error, 0, 101);
}

void Fiber::endSocketStep(stats::ErrorKind error, int32_t code, int status) {
  if (sockets_) user_.worker().loop().disarm(sockets_->socket_timer);
  engine::HttpResponse response;
  response.error = error;
  response.code = code;
  response.status = status;
  if (socket_) {
    response.bytes_sent = socket_->bytesSent() - socket_sent_mark_;
    response.bytes_received = socket_->bytesReceived() - socket_received_mark_;
  }
  const bool subscribe = pending_->delivery->kind == Kind::kSubscribe;
  if (subscribe || error != stats::ErrorKind::kNone) closeSocket();
  onResponse(response);
}

void Fiber::closeSocket() {
  if (sockets_) {
    user_.worker().loop().disarm(sockets_->socket_timer);
    sockets_->inbox.clear();
  }
  if (socket_) socket_->cancel();
}

}  // namespace herd::runtime
