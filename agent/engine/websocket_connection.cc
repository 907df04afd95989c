#include "agent/engine/websocket_connection.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <openssl/rand.h>
#include <openssl/ssl.h>

namespace herd::engine {
namespace {

using stats::ErrorKind;
using websocket::FrameEvent;
using websocket::Opcode;

constexpr uint32_t kSocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
// An upgrade response head longer than this is not a WebSocket server's.
constexpr size_t kMaxUpgradeHead = 16 * 1024;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool containsIgnoreCase(std::string_view text, std::string_view word) {
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (equalsIgnoreCase(text.substr(i, word.size()), word)) return true;
  }
  return false;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// The value of header `name` in a response head ("Name: value\r\n" lines after
// the status line), or empty.
std::string_view headerValue(std::string_view head, std::string_view name) {
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    const size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end == std::string_view::npos ? head.npos : end - start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && equalsIgnoreCase(trim(line.substr(0, colon)), name)) {
      return trim(line.substr(colon + 1));
    }
    at = end;
  }
  return {};
}

int statusOf(std::string_view head) {
  // "HTTP/1.1 101 Switching Protocols"
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return 0;
  const size_t space = head.find(' ');
  if (space == std::string_view::npos || space + 4 > head.size()) return 0;
  int status = 0;
  for (size_t i = space + 1; i < space + 4; ++i) {
    if (head[i] < '0' || head[i] > '9') return 0;
    status = status * 10 + (head[i] - '0');
  }
  return status;
}

uint32_t randomMask() {
  // RFC 6455 10.3: a fresh, unpredictable key per frame, so that a client's
  // frames cannot be crafted to look like other protocols to an intermediary.
  uint32_t mask = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&mask), sizeof mask);
  return mask;
}

}  // namespace

WebSocketConnection::WebSocketConnection(EventLoop& loop, const ConnectionTarget& target, WebSocketClient& client,
                                         size_t max_message)
    : loop_(loop), target_(target), client_(client), timer_([this] { onTimer(); }), parser_(max_message) {}

WebSocketConnection::~WebSocketConnection() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  closeSocket();
}

void WebSocketConnection::open(std::string_view path, std::string_view extra_headers, MonoTime deadline) {
  closeSocket();
  pending_ = Pending::kNone;
  parser_.reset();
  bytes_sent_ = bytes_received_ = 0;
  upgrade_.clear();
  key_ = websocket::handshakeKey(websocket::randomNonce());
  out_.clear();
  out_.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(target_.origin.hostHeader());
  out_.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
  out_.append(key_).append("\r\n").append(extra_headers).append("\r\n");
  loop_.arm(timer_, deadline);
  in_call_ = true;
  address_index_ = 0;
  connect();
  in_call_ = false;
}

bool WebSocketConnection::send(Opcode opcode, std::string_view payload) {
  if (phase_ != Phase::kOpen) return false;
  queueFrame(opcode, payload);
  in_call_ = true;
  flush();
  in_call_ = false;
  return true;
}

bool WebSocketConnection::ping(std::string_view payload) {
  return send(Opcode::kPing, payload.substr(0, websocket::kMaxControlPayload));
}

void WebSocketConnection::close(uint16_t code, MonoTime deadline) {
  if (phase_ != Phase::kOpen) {
    cancel();
    return;
  }
  queueFrame(Opcode::kClose, websocket::closePayload(code, ""));
  phase_ = Phase::kClosing;
  loop_.arm(timer_, deadline);
  in_call_ = true;
  flush();
  in_call_ = false;
}

void WebSocketConnection::cancel() {
  pending_ = Pending::kNone;
  loop_.disarm(timer_);
  closeSocket();
}

void WebSocketConnection::queueFrame(Opcode opcode, std::string_view payload) {
  websocket::appendFrame(out_, opcode, payload, true, true, randomMask());
}

// Tries the target's addresses in order until a connect() is under way.
void WebSocketConnection::connect() {
  int error = EADDRNOTAVAIL;
  while (address_index_ < target_.addresses.size()) {
    const ConnectAttempt attempt = startConnect(target_.addresses[address_index_++]);
    if (attempt.fd < 0) {
      error = attempt.error;
      continue;
    }
    fd_ = attempt.fd;
    if (!loop_.watch(fd_, kSocketEvents, this)) {
      error = errno;
      closeSocket();
      break;
    }
    phase_ = Phase::kConnecting;
    if (!attempt.in_progress) onTcpConnected();
    return;
  }
  failOpen(ErrorKind::kConnect, error, 0);
}

void WebSocketConnection::onIo(uint32_t events) {
  switch (phase_) {
    case Phase::kIdle: return;
    case Phase::kConnecting: {
      const auto outcome = connectOutcome(fd_, events);
      if (!outcome) return;
      const int error = *outcome;
      if (error == 0) {
        onTcpConnected();
        return;
      }
      closeSocket();
      if (address_index_ < target_.addresses.size()) {
        connect();
      } else {
        failOpen(ErrorKind::kConnect, error != 0 ? error : ECONNREFUSED, 0);
      }
      return;
    }
    case Phase::kTls: handshakeTls(); return;
    case Phase::kUpgrading:
    case Phase::kOpen:
    case Phase::kClosing:
      if (!flush()) return;
      readAvailable();
      return;
  }
}

void WebSocketConnection::onTcpConnected() {
  if (!target_.tls) {
    phase_ = Phase::kUpgrading;
    flush();
    return;
  }
  ssl_ = tlsNewSession(*target_.tls, fd_, target_.origin.host);
  if (ssl_ == nullptr) {
    failOpen(ErrorKind::kTls, 0, 0);
    return;
  }
  phase_ = Phase::kTls;
  handshakeTls();
}

void WebSocketConnection::handshakeTls() {
  const IoResult result = tlsHandshake(ssl_);
  switch (result.kind) {
    case IoResult::Kind::kOk:
      phase_ = Phase::kUpgrading;
      if (flush()) readAvailable();  // the server may have spoken already
      return;
    case IoResult::Kind::kWouldBlock: return;
    case IoResult::Kind::kError: failOpen(ErrorKind::kReset, result.error, 0); return;
    case IoResult::Kind::kEof:
    case IoResult::Kind::kTlsError: failOpen(ErrorKind::kTls, 0, 0); return;
  }
}

bool WebSocketConnection::flush() {
  while (!out_.empty()) {
    const IoResult result = writeSome(out_.data(), out_.size());
    switch (result.kind) {
      case IoResult::Kind::kOk:
        bytes_sent_ += result.bytes;
        out_.erase(0, result.bytes);
        break;
      case IoResult::Kind::kWouldBlock: return true;
      case IoResult::Kind::kEof:
      case IoResult::Kind::kError:
        if (phase_ == Phase::kUpgrading) {
          failOpen(ErrorKind::kReset, result.error, 0);
        } else {
          finish(ErrorKind::kReset, 0);
        }
        return false;
      case IoResult::Kind::kTlsError:
        if (phase_ == Phase::kUpgrading) {
          failOpen(ErrorKind::kTls, 0, 0);
        } else {
          finish(ErrorKind::kTls, 0);
        }
        return false;
    }
  }
  return true;
}

// Reads until EAGAIN or the connection ended.
void WebSocketConnection::readAvailable() {
  const std::span<char> buffer = loop_.scratch();
  while (fd_ >= 0) {
    const IoResult result = readSome(buffer.data(), buffer.size());
    if (result.kind == IoResult::Kind::kWouldBlock) return;
    if (result.kind != IoResult::Kind::kOk) {
      const ErrorKind kind = result.kind == IoResult::Kind::kTlsError ? ErrorKind::kTls : ErrorKind::kReset;
      if (phase_ == Phase::kUpgrading) {
        failOpen(kind, result.error, 0);
      } else {
        finish(kind, 0);
      }
      return;
    }
    bytes_received_ += result.bytes;
    const std::string_view bytes(buffer.data(), result.bytes);
    const bool going = phase_ == Phase::kUpgrading ? readUpgrade(bytes) : feedFrames(bytes);
    if (!going) return;
  }
}

// Collects the upgrade response's head; bytes after it are already frames.
bool WebSocketConnection::readUpgrade(std::string_view bytes) {
  const size_t before = upgrade_.size();
  upgrade_.append(bytes);
  const size_t end = upgrade_.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
  if (end == std::string::npos) {
    if (upgrade_.size() <= kMaxUpgradeHead) return true;
    failOpen(ErrorKind::kProtocol, 0, 0);
    return false;
  }
  const std::string rest = upgrade_.substr(end + 4);
  upgrade_.resize(end + 2);
  if (!checkUpgrade()) return false;
  phase_ = Phase::kOpen;
  loop_.disarm(timer_);
  bool destroyed = false;
  destroyed_ = &destroyed;
  client_.onOpen(ErrorKind::kNone, 0, 101);
  if (destroyed) return false;
  destroyed_ = nullptr;
  if (phase_ != Phase::kOpen && phase_ != Phase::kClosing) return false;
  return rest.empty() || feedFrames(rest);
}

bool WebSocketConnection::checkUpgrade() {
  const int status = statusOf(upgrade_);
  if (status != 101) {
    failOpen(status == 0 ? ErrorKind::kProtocol : ErrorKind::kNone, 0, status);
    return false;
  }
  const bool upgraded = equalsIgnoreCase(headerValue(upgrade_, "upgrade"), "websocket") &&
                        containsIgnoreCase(headerValue(upgrade_, "connection"), "upgrade") &&
                        headerValue(upgrade_, "sec-websocket-accept") == websocket::acceptFor(key_);
  if (!upgraded) {
    failOpen(ErrorKind::kProtocol, 0, status);
    return false;
  }
  return true;
}

bool WebSocketConnection::feedFrames(std::string_view bytes) {
  while (true) {
    size_t consumed = 0;
    const FrameEvent event = parser_.feed(bytes, consumed);
    bytes.remove_prefix(consumed);
    if (event.kind == FrameEvent::Kind::kNeedMore) return true;
    if (!onFrame(event)) return false;
  }
}

// False when the connection ended (or was destroyed) handling it.
bool WebSocketConnection::onFrame(const FrameEvent& event) {
  switch (event.kind) {
    case FrameEvent::Kind::kNeedMore: return true;
    case FrameEvent::Kind::kPing:
      if (phase_ != Phase::kOpen) return true;
      queueFrame(Opcode::kPong, event.payload);
      return flush();
    case FrameEvent::Kind::kPong: {
      bool destroyed = false;
      destroyed_ = &destroyed;
      client_.onPong(event.payload);
      if (destroyed) return false;
      destroyed_ = nullptr;
      return fd_ >= 0;
    }
    case FrameEvent::Kind::kMessage: {
      if (phase_ != Phase::kOpen) return true;  // after our close, data is dropped
      bool destroyed = false;
      destroyed_ = &destroyed;
      client_.onMessage(event.opcode, event.payload);
      if (destroyed) return false;
      destroyed_ = nullptr;
      return fd_ >= 0;
    }
    case FrameEvent::Kind::kClose:
      if (phase_ == Phase::kOpen) {
        // The server began: echo its code, then the TCP close is ours to wait for
        // only as long as the write takes.
        queueFrame(Opcode::kClose, websocket::closePayload(event.close_code, ""));
        flush();
      }
      finish(ErrorKind::kNone, event.close_code);
      return false;
    case FrameEvent::Kind::kError:
      queueFrame(Opcode::kClose, websocket::closePayload(event.close_code, ""));
      flush();
      finish(ErrorKind::kProtocol, event.close_code);
      return false;
  }
  return false;
}

void WebSocketConnection::failOpen(ErrorKind kind, int32_t code, int status) {
  closeSocket();
  loop_.disarm(timer_);
  pending_kind_ = kind;
  pending_code_ = code;
  pending_status_ = status;
  defer(Pending::kOpen);
}

void WebSocketConnection::finish(ErrorKind kind, uint16_t close_code) {
  closeSocket();
  loop_.disarm(timer_);
  pending_kind_ = kind;
  pending_code_ = close_code;
  defer(Pending::kClosed);
}

// Callbacks go through the loop when asked for inside a call; otherwise now.
void WebSocketConnection::defer(Pending pending) {
  pending_ = pending;
  if (in_call_) {
    loop_.arm(timer_, loop_.now());
    return;
  }
  onTimer();
}

void WebSocketConnection::onTimer() {
  const Pending pending = std::exchange(pending_, Pending::kNone);
  switch (pending) {
    case Pending::kOpen: client_.onOpen(pending_kind_, pending_code_, pending_status_); return;
    case Pending::kClosed: client_.onClosed(pending_kind_, static_cast<uint16_t>(pending_code_)); return;
    case Pending::kNone: break;
  }
  // A deadline passed: the open's or the close's.
  const bool opening = phase_ != Phase::kOpen && phase_ != Phase::kClosing;
  const bool connecting = phase_ == Phase::kConnecting;
  closeSocket();
  if (opening) {
    client_.onOpen(connecting ? ErrorKind::kConnect : ErrorKind::kTimeout, connecting ? ETIMEDOUT : 0, 0);
  } else {
    client_.onClosed(ErrorKind::kTimeout, 0);
  }
}

void WebSocketConnection::closeSocket() {
  if (fd_ < 0) {
    phase_ = Phase::kIdle;
    return;
  }
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  loop_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
  phase_ = Phase::kIdle;
  out_.clear();
}

IoResult WebSocketConnection::readSome(char* buffer, size_t size) {
  return ssl_ != nullptr ? tlsRead(ssl_, buffer, size) : socketRead(fd_, buffer, size);
}

IoResult WebSocketConnection::writeSome(const char* data, size_t size) {
  return ssl_ != nullptr ? tlsWrite(ssl_, data, size) : socketWrite(fd_, data, size);
}

}  // namespace herd::engine
