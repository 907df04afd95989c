#include "agent/engine/http_connection.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>

#include <openssl/ssl.h>

namespace herd::engine {
namespace {

using stats::ErrorKind;

// Registered once per socket; see the header.
constexpr uint32_t kSocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
// Events after which a read can make progress (data, end of stream or an error).
constexpr uint32_t kReadableEvents = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
// Request copies and captured bodies larger than this are freed after the
// response instead of being kept for the next one (idle memory budget).
constexpr size_t kKeptBufferCapacity = 4 * 1024;

void releaseIfLarge(std::string& buffer) {
  if (buffer.capacity() > kKeptBufferCapacity) std::string().swap(buffer);
}

}  // namespace

HttpConnection::HttpConnection(EventLoop& loop, const ConnectionTarget& target, HttpClient& client)
    : loop_(loop), target_(target), client_(client), timer_([this] { onTimer(); }) {}

HttpConnection::~HttpConnection() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  closeSocket();
  // timer_'s destructor disarms it.
}

bool HttpConnection::connected() const {
  return fd_ >= 0 && phase_ != Phase::kConnecting && phase_ != Phase::kHandshaking;
}

void HttpConnection::send(std::string_view request_bytes, MonoTime deadline, bool expect_no_body, bool capture_body,
                          bool capture_headers, bool stream_body) {
  assert(!busy_ && "one request at a time per connection");
  busy_ = true;
  in_send_ = true;
  retried_ = false;
  no_body_ = expect_no_body;
  capture_ = capture_body || stream_body;
  stream_ = stream_body;
  bytes_sent_ = 0;
  bytes_received_ = 0;
  request_.assign(request_bytes);
  body_.clear();
  headers_.clear();
  parser_.captureHeaders(capture_headers ? &headers_ : nullptr);
  loop_.arm(timer_, deadline);
  startAttempt();
  in_send_ = false;
}

void HttpConnection::cancel() {
  if (busy_) {
    busy_ = false;
    deferred_ = false;
    loop_.disarm(timer_);
  }
  closeSocket();
}

// One attempt at the request: on the idle keep-alive socket when there is one,
// else on a new connection.
void HttpConnection::startAttempt() {
  sent_ = 0;
  parser_.reset(no_body_);
  if (fd_ >= 0 && phase_ == Phase::kIdle) {
    reused_ = true;
    phase_ = Phase::kSending;
    if (writeRequest() == Progress::kDone) phase_ = Phase::kReceiving;
    return;
  }
  reused_ = false;
  connect_error_ = 0;
  addresses_left_ = static_cast<uint32_t>(target_.addresses.size());
  connectNext();
}

// Tries the remaining addresses, starting with address_index_, until a
// connect() is under way or none is left.
void HttpConnection::connectNext() {
  const auto count = static_cast<uint32_t>(target_.addresses.size());
  while (addresses_left_ > 0) {
    --addresses_left_;
    if (address_index_ >= count) address_index_ = 0;
    const ConnectAttempt attempt = startConnect(target_.addresses[address_index_]);
    if (attempt.fd >= 0) {
      fd_ = attempt.fd;
      ++connects_;
      if (!loop_.watch(fd_, kSocketEvents, this)) {
        const int error = errno;
        closeSocket();
        finish(ErrorKind::kConnect, error);
        return;
      }
      if (attempt.in_progress) {
        phase_ = Phase::kConnecting;
      } else {
        onTcpConnected();
      }
      return;
    }
    connect_error_ = attempt.error;
    if (!worthNextAddress(attempt.error)) break;
    address_index_ = (address_index_ + 1) % count;
  }
  finish(ErrorKind::kConnect, connect_error_ != 0 ? connect_error_ : EADDRNOTAVAIL);
}

void HttpConnection::onIo(uint32_t events) {
  switch (phase_) {
    case Phase::kIdle: onIdleEvent(events); return;
    case Phase::kConnecting: onConnectEvent(events); return;
    case Phase::kHandshaking: handshake(); return;
    case Phase::kSending: {
      const Progress progress = writeRequest();
      if (progress == Progress::kFinished) return;
      if (progress == Progress::kDone) phase_ = Phase::kReceiving;
      // The server may answer (or reset) before it has read the whole request.
      if ((events & kReadableEvents) != 0 || ssl_ != nullptr) readResponse();
      return;
    }
    case Phase::kReceiving:
      // TLS may need a read retried after write space appears (WANT_WRITE).
      if ((events & kReadableEvents) != 0 || ssl_ != nullptr) readResponse();
      return;
  }
}

void HttpConnection::onConnectEvent(uint32_t events) {
  const auto outcome = connectOutcome(fd_, events);
  if (!outcome) return;
  const int error = *outcome;
  if (error == 0) {
    onTcpConnected();
    return;
  }
  closeSocket();
  connect_error_ = error;
  if (!worthNextAddress(error)) {
    finish(ErrorKind::kConnect, error);
    return;
  }
  address_index_ = (address_index_ + 1) % static_cast<uint32_t>(target_.addresses.size());
  connectNext();
}

void HttpConnection::onTcpConnected() {
  if (target_.tls) {
    ssl_ = tlsNewSession(*target_.tls, fd_, target_.origin.host);
    if (ssl_ == nullptr) {
      finish(ErrorKind::kTls, 0);
      return;
    }
    phase_ = Phase::kHandshaking;
    handshake();
    return;
  }
  phase_ = Phase::kSending;
  if (writeRequest() == Progress::kDone) phase_ = Phase::kReceiving;
}

void HttpConnection::handshake() {
  const IoResult result = tlsHandshake(ssl_);
  switch (result.kind) {
    case IoResult::Kind::kOk:
      phase_ = Phase::kSending;
      if (writeRequest() == Progress::kDone) phase_ = Phase::kReceiving;
      return;
    case IoResult::Kind::kWouldBlock: return;
    case IoResult::Kind::kError: finish(ErrorKind::kReset, result.error); return;
    case IoResult::Kind::kEof:
    case IoResult::Kind::kTlsError:
      // A server that hangs up during the handshake refused it.
      finish(ErrorKind::kTls, 0);
      return;
  }
}

// Writes what is left of the request. The caller moves to kReceiving on kDone.
HttpConnection::Progress HttpConnection::writeRequest() {
  while (sent_ < request_.size()) {
    const IoResult result = writeSome(request_.data() + sent_, request_.size() - sent_);
    switch (result.kind) {
      case IoResult::Kind::kOk:
        sent_ += result.bytes;
        bytes_sent_ += result.bytes;
        break;
      case IoResult::Kind::kWouldBlock: return Progress::kBlocked;  // EPOLLOUT (edge-triggered) calls us again
      case IoResult::Kind::kEof:
      case IoResult::Kind::kError: failAttempt(ErrorKind::kReset, result.error); return Progress::kFinished;
      case IoResult::Kind::kTlsError: finish(ErrorKind::kTls, 0); return Progress::kFinished;
    }
  }
  return Progress::kDone;
}

// Reads and parses until EAGAIN, the end of the response or an error.
void HttpConnection::readResponse() {
  const std::span<char> buffer = loop_.scratch();
  while (true) {
    const IoResult result = readSome(buffer.data(), buffer.size());
    switch (result.kind) {
      case IoResult::Kind::kOk: {
        const size_t consumed = parser_.feed(std::string_view(buffer.data(), result.bytes),
                                             capture_ ? &body_ : nullptr);
        bytes_received_ += consumed;
        if (stream_ && !body_.empty()) {
          client_.onBodyData(body_);
          body_.clear();
        }
        const auto state = parser_.state();
        if (state == ResponseParser::State::kComplete) {
          onResponseComplete(consumed == result.bytes);
          return;
        }
        if (state == ResponseParser::State::kError) {
          finish(ErrorKind::kProtocol, 0);
          return;
        }
        break;
      }
      case IoResult::Kind::kWouldBlock: return;
      case IoResult::Kind::kEof:
        if (parser_.finishOnEof()) {
          onResponseComplete(false);
        } else {
          failAttempt(ErrorKind::kReset, 0);
        }
        return;
      case IoResult::Kind::kError: failAttempt(ErrorKind::kReset, result.error); return;
      case IoResult::Kind::kTlsError: finish(ErrorKind::kTls, 0); return;
    }
  }
}

// An event on an idle keep-alive socket: the server closed it (or sent bytes
// nobody asked for). Close it now so the next send() starts a fresh
// connection instead of discovering the corpse.
void HttpConnection::onIdleEvent(uint32_t events) {
  if (fd_ < 0 || (events & kReadableEvents) == 0) return;
  if (ssl_ != nullptr && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) {
    // TLS 1.3 servers send session tickets and key updates after the
    // handshake; those are records but no application data.
    const std::span<char> buffer = loop_.scratch();
    if (readSome(buffer.data(), buffer.size()).kind == IoResult::Kind::kWouldBlock) return;
  }
  closeSocket();
}

// `clean_end`: the response ended exactly where the bytes read so far ended.
// Bytes after it were not asked for, so the connection cannot be trusted.
void HttpConnection::onResponseComplete(bool clean_end) {
  const bool reusable = parser_.keepAlive() && clean_end && sent_ == request_.size();
  if (reusable) {
    phase_ = Phase::kIdle;
    // OpenSSL 3 can keep a 17 KiB record buffer after the read that ended the
    // response (RELEASE_BUFFERS notwithstanding); an idle connection must not.
    // A no-op when nothing is allocated or data is still pending.
    if (ssl_ != nullptr) SSL_free_buffers(ssl_);
  } else {
    closeSocket();
  }
  finish(ErrorKind::kNone, 0);
}

// The retry-once rule (see the header): a reused connection that died before
// any response byte arrived gets the request again on a fresh connection.
void HttpConnection::failAttempt(ErrorKind kind, int32_t code) {
  if (reused_ && !retried_ && bytes_received_ == 0) {
    retried_ = true;
    ++retries_;
    closeSocket();
    startAttempt();
    return;
  }
  finish(kind, code);
}

void HttpConnection::finish(ErrorKind kind, int32_t code) {
  // After a failure the socket is in an unknown state (bytes of a late response
  // may still arrive), so it is never reused.
  if (kind != ErrorKind::kNone) closeSocket();
  loop_.disarm(timer_);
  releaseIfLarge(request_);
  if (in_send_) {
    deferred_ = true;
    deferred_kind_ = kind;
    deferred_code_ = code;
    loop_.arm(timer_, loop_.now());  // already due: fires in this or the next round
    return;
  }
  deliver(kind, code);
}

void HttpConnection::deliver(ErrorKind kind, int32_t code) {
  HttpResponse response;
  response.error = kind;
  response.code = code;
  response.status = parser_.statusCode();
  response.bytes_received = bytes_received_;
  response.bytes_sent = bytes_sent_;
  if (capture_ && kind == ErrorKind::kNone) response.body = body_;
  if (kind == ErrorKind::kNone) response.headers = headers_;
  busy_ = false;

  bool destroyed = false;
  destroyed_ = &destroyed;
  client_.onResponse(response);
  if (destroyed) return;
  destroyed_ = nullptr;
  // A captured body stays until the callback is done with it.
  if (!busy_) releaseIfLarge(body_);
}

void HttpConnection::onTimer() {
  if (deferred_) {
    deferred_ = false;
    deliver(deferred_kind_, deferred_code_);
    return;
  }
  // The deadline passed. A TCP connect that never completed is a connect
  // failure (a full accept queue drops SYNs), anything later a timeout.
  const bool connecting = phase_ == Phase::kConnecting;
  closeSocket();
  if (connecting) {
    finish(ErrorKind::kConnect, ETIMEDOUT);
  } else {
    finish(ErrorKind::kTimeout, 0);
  }
}

void HttpConnection::closeSocket() {
  if (fd_ < 0) return;
  if (ssl_ != nullptr) {
    // No close_notify: it would cost a write per connection for nothing the
    // server needs.
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  loop_.unwatch(fd_);
  close(fd_);
  fd_ = -1;
  phase_ = Phase::kIdle;
}

IoResult HttpConnection::readSome(char* buffer, size_t size) {
  return ssl_ != nullptr ? tlsRead(ssl_, buffer, size) : socketRead(fd_, buffer, size);
}

IoResult HttpConnection::writeSome(const char* data, size_t size) {
  return ssl_ != nullptr ? tlsWrite(ssl_, data, size) : socketWrite(fd_, data, size);
}

}  // namespace herd::engine
