#include "agent/engine/http2_exchange.h"

#include <cassert>
#include <cerrno>

#include "agent/engine/http2_session.h"

namespace herd::engine {

using stats::ErrorKind;

Http2Pool::Http2Pool(EventLoop& loop, const ConnectionTarget& target, uint32_t streams_per_connection)
    : loop_(loop), target_(target), streams_per_connection_(streams_per_connection < 1 ? 1 : streams_per_connection) {}

Http2Pool::~Http2Pool() = default;

// First fit: fills each connection up to its limit before opening another, so
// U users with S streams per connection use ceil(U / S) connections.
void Http2Pool::place(Http2Exchange& exchange) {
  for (auto& session : sessions_) {
    if (session->hasRoom(streams_per_connection_)) {
      session->start(exchange);
      return;
    }
  }
  for (auto& session : sessions_) {
    if (session->closed()) {
      session->start(exchange);
      return;
    }
  }
  sessions_.push_back(std::make_unique<Http2Session>(loop_, target_, *this));
  sessions_.back()->start(exchange);
}

uint32_t Http2Pool::connects() const {
  uint32_t total = 0;
  for (const auto& session : sessions_) total += session->connects();
  return total;
}

Http2Exchange::Http2Exchange(Http2Pool& pool, HttpClient& client)
    : pool_(pool), client_(client), timer_([this] { onTimer(); }) {}

Http2Exchange::~Http2Exchange() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  cancel();
}

void Http2Exchange::send(std::string_view request_bytes, MonoTime deadline, bool expect_no_body, bool capture_body,
                         bool capture_headers, bool stream_body) {
  assert(!busy_ && "one request at a time per exchange");
  busy_ = true;
  in_send_ = true;
  retried_ = false;
  no_body_ = expect_no_body;
  capture_body_ = capture_body;
  capture_headers_ = capture_headers;
  stream_body_ = stream_body;
  deadline_ = deadline;
  bytes_sent_ = 0;
  request_.assign(request_bytes);
  resetOutcome();
  if (pool_.http1()) {
    sendHttp1();
  } else if (!splitHttp1Request(request_, split_)) {
    finish(ErrorKind::kProtocol, 0);
  } else {
    pool_.loop().arm(timer_, deadline);
    pool_.place(*this);
  }
  in_send_ = false;
}

void Http2Exchange::resetOutcome() {
  error_ = ErrorKind::kNone;
  code_ = 0;
  retryable_ = false;
  fall_back_ = false;
  replace_ = false;
  status_ = 0;
  bytes_received_ = 0;
  body_.clear();
  headers_.clear();
}

void Http2Exchange::cancel() {
  if (http1_) http1_->cancel();
  if (session_ != nullptr) session_->cancel(*this);
  busy_ = false;
  deferred_ = false;
  pool_.loop().disarm(timer_);
}

// The session is done with this exchange: fall back to HTTP/1.1, send again
// (a refused stream), or deliver.
void Http2Exchange::sessionDone() {
  if (fall_back_) {
    sendHttp1();
    return;
  }
  if (replace_) {
    replace_ = false;
    placeAgain();
    return;
  }
  if (retryable_ && !retried_) {
    retried_ = true;
    ++retries_;
    resetOutcome();
    placeAgain();
    return;
  }
  finish(error_, code_);
}

// Another connection of the pool, or HTTP/1.1 if meanwhile the server said
// it has no h2.
void Http2Exchange::placeAgain() {
  if (pool_.http1()) {
    sendHttp1();
  } else {
    pool_.place(*this);
  }
}

void Http2Exchange::sendHttp1() {
  pool_.loop().disarm(timer_);  // the connection keeps the deadline
  if (!http1_) {
    HttpClient& self = *this;  // a private base: converted here, where it is accessible
    http1_ = std::make_unique<HttpConnection>(pool_.loop(), pool_.target(), self);
  }
  http1_->send(request_, deadline_, no_body_, capture_body_, capture_headers_, stream_body_);
}

void Http2Exchange::onResponse(const HttpResponse& response) {
  busy_ = false;
  client_.onResponse(response);  // may destroy this exchange, and with it http1_, which allows that
}

void Http2Exchange::onBodyData(std::string_view data) { client_.onBodyData(data); }

void Http2Exchange::finish(ErrorKind kind, int32_t code) {
  error_ = kind;
  code_ = code;
  if (in_send_) {
    deferred_ = true;
    pool_.loop().arm(timer_, pool_.loop().now());  // already due: fires in this or the next round
    return;
  }
  pool_.loop().disarm(timer_);
  deliver();
}

void Http2Exchange::onTimer() {
  if (deferred_) {
    deferred_ = false;
    deliver();
    return;
  }
  // The deadline passed: a connection still being set up is a connect failure.
  const bool connecting = session_ != nullptr && session_->connecting();
  if (session_ != nullptr) session_->cancel(*this);
  if (connecting) {
    finish(ErrorKind::kConnect, ETIMEDOUT);
  } else {
    finish(ErrorKind::kTimeout, 0);
  }
}

void Http2Exchange::deliver() {
  HttpResponse response;
  response.error = error_;
  response.code = code_;
  response.status = status_;
  response.bytes_received = bytes_received_;
  response.bytes_sent = bytes_sent_;
  response.http_version = 2;
  if (error_ == ErrorKind::kNone) {
    if (capture_body_) response.body = body_;
    response.headers = headers_;
  }
  busy_ = false;
  bool destroyed = false;
  destroyed_ = &destroyed;
  client_.onResponse(response);
  if (destroyed) return;
  destroyed_ = nullptr;
}

}  // namespace herd::engine
