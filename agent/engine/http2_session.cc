#include "agent/engine/http2_session.h"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "agent/engine/http2_exchange.h"

namespace herd::engine {
namespace {

using stats::ErrorKind;

constexpr uint32_t kSocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr uint32_t kReadableEvents = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
// Flow-control windows we grant the server: large enough that a response of a
// few MiB never waits for a WINDOW_UPDATE round trip, which is what the
// default 64 KiB would cost on every large body.
constexpr int32_t kStreamWindow = 1 << 20;
constexpr int32_t kConnectionWindow = 1 << 24;
constexpr size_t kFrameHeader = 9;
// Frames gathered before a write: a TLS record's worth.
constexpr size_t kWriteBatch = 16 * 1024;
// ALPN: h2 first, HTTP/1.1 as the fallback the server may choose.
constexpr unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::string_view view(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

nghttp2_nv field(std::string_view name, std::string_view value) {
  // nghttp2 copies names and values when it takes a request (no NO_COPY flags).
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// nghttp2 calls these from inside nghttp2_session_mem_recv()/mem_send(); they
// only record into the exchanges and queue completions (see the header).
struct Http2Session::Callbacks {
  static Http2Exchange* exchangeOf(nghttp2_session* session, int32_t stream_id) {
    return static_cast<Http2Exchange*>(nghttp2_session_get_stream_user_data(session, stream_id));
  }

  static Http2Exchange* findStream(Http2Session& self, int32_t stream_id) {
    for (auto* exchange : self.streams_) {
      if (exchange->stream_id_ == stream_id) return exchange;
    }
    return nullptr;
  }

  static int onHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t name_size,
                      const uint8_t* value, size_t value_size, uint8_t /*flags*/, void* /*user*/) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Http2Exchange* exchange = exchangeOf(session, frame->hd.stream_id);
    if (exchange == nullptr) return 0;
    const std::string_view key = view(name, name_size);
    const std::string_view text = view(value, value_size);
    if (key == ":status") {
      int status = 0;
      std::from_chars(text.data(), text.data() + text.size(), status);
      exchange->status_ = status;  // a 1xx is replaced by the final status
    } else if (exchange->capture_headers_) {
      exchange->headers_.append(key).append(": ").append(text).append("\n");
    }
    return 0;
  }

  static int onData(nghttp2_session* session, uint8_t /*flags*/, int32_t stream_id, const uint8_t* data, size_t size,
                    void* /*user*/) {
    Http2Exchange* exchange = exchangeOf(session, stream_id);
    if (exchange == nullptr) return 0;
    if (exchange->stream_body_) {
      exchange->client_.onBodyData(view(data, size));
    } else if (exchange->capture_body_) {
      exchange->body_.append(view(data, size));
    }
    return 0;
  }

  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Http2Session*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      // No new streams here; the ones above last_stream_id are closed as refused.
      self.state_ = State::kGoingAway;
      return 0;
    }
    if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) self.settled_ = true;
    if (frame->hd.stream_id == 0) return 0;
    if (Http2Exchange* exchange = exchangeOf(session, frame->hd.stream_id)) {
      exchange->bytes_received_ += frame->hd.length + kFrameHeader;
    }
    return 0;
  }

  static int onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Http2Session*>(user);
    if (frame->hd.stream_id == 0) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      // The stream exists from now on; only now may it point at its exchange
      // (one cancelled before this is no longer in streams_).
      Http2Exchange* exchange = findStream(self, frame->hd.stream_id);
      if (exchange == nullptr) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_CANCEL);
        return 0;
      }
      nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, exchange);
      exchange->opened_ = true;
    }
    if (Http2Exchange* exchange = exchangeOf(session, frame->hd.stream_id)) {
      exchange->bytes_sent_ += frame->hd.length + kFrameHeader;
    }
    return 0;
  }

  // A request whose HEADERS never left: the session went away first.
  static int onFrameNotSend(nghttp2_session* /*session*/, const nghttp2_frame* frame, int /*error*/, void* user) {
    auto& self = *static_cast<Http2Session*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (Http2Exchange* exchange = findStream(self, frame->hd.stream_id)) {
      self.complete(*exchange, ErrorKind::kReset, 0, true);
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code, void* user) {
    auto& self = *static_cast<Http2Session*>(user);
    Http2Exchange* exchange = exchangeOf(session, stream_id);
    if (exchange == nullptr) return 0;
    if (error_code == NGHTTP2_NO_ERROR && exchange->status_ != 0) {
      self.served_ = true;
      self.complete(*exchange, ErrorKind::kNone, 0, false);
    } else if (error_code == NGHTTP2_REFUSED_STREAM) {
      self.complete(*exchange, ErrorKind::kReset, 0, true);  // never processed: safe to send again
    } else {
      self.complete(*exchange, error_code == NGHTTP2_NO_ERROR ? ErrorKind::kProtocol : ErrorKind::kReset, 0, false);
    }
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t stream_id, uint8_t* buffer, size_t size, uint32_t* flags,
                          nghttp2_data_source* /*source*/, void* /*user*/) {
    Http2Exchange* exchange = exchangeOf(session, stream_id);
    if (exchange == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // cancelled: reset the stream
    const std::string_view body = exchange->split_.body.substr(exchange->body_sent_);
    const size_t n = std::min(size, body.size());
    std::memcpy(buffer, body.data(), n);
    exchange->body_sent_ += n;
    if (exchange->body_sent_ == exchange->split_.body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static const nghttp2_session_callbacks* get() {
    static nghttp2_session_callbacks* const callbacks = [] {
      nghttp2_session_callbacks* c = nullptr;
      if (nghttp2_session_callbacks_new(&c) != 0) std::abort();
      nghttp2_session_callbacks_set_on_header_callback(c, onHeader);
      nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, onData);
      nghttp2_session_callbacks_set_on_frame_recv_callback(c, onFrameRecv);
      nghttp2_session_callbacks_set_on_frame_send_callback(c, onFrameSend);
      nghttp2_session_callbacks_set_on_frame_not_send_callback(c, onFrameNotSend);
      nghttp2_session_callbacks_set_on_stream_close_callback(c, onStreamClose);
      return c;
    }();
    return callbacks;
  }
};

Http2Session::Http2Session(EventLoop& loop, const ConnectionTarget& target, Http2Pool& pool)
    : loop_(loop), target_(target), pool_(pool), deliver_timer_([this] { deliverCompleted(); }) {}

Http2Session::~Http2Session() {
  streams_.clear();
  completed_.clear();
  closeSocket();
}

bool Http2Session::hasRoom(uint32_t limit) const {
  if (state_ == State::kClosed || state_ == State::kGoingAway) return false;
  if (state_ == State::kOpen) {
    limit = std::min(limit, nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
  }
  return streams_.size() < limit;
}

bool Http2Session::connecting() const { return state_ == State::kConnecting || state_ == State::kHandshaking; }

void Http2Session::start(Http2Exchange& exchange) {
  exchange.session_ = this;
  exchange.stream_id_ = 0;
  exchange.opened_ = false;
  exchange.completing_ = false;
  exchange.slot_ = static_cast<uint32_t>(streams_.size());
  streams_.push_back(&exchange);
  if (state_ == State::kClosed) {
    connect_error_ = 0;
    addresses_left_ = static_cast<uint32_t>(target_.addresses.size());
    connectNext();
  } else if (state_ == State::kOpen) {
    submit(exchange);
    if (!in_event_) flush();
  }
  if (!in_event_ && !completed_.empty()) loop_.arm(deliver_timer_, loop_.now());
}

void Http2Session::cancel(Http2Exchange& exchange) {
  if (exchange.completing_) {
    std::replace(completed_.begin(), completed_.end(), &exchange, static_cast<Http2Exchange*>(nullptr));
    exchange.completing_ = false;
    exchange.session_ = nullptr;
    return;
  }
  const bool opened = exchange.opened_;
  const int32_t stream_id = exchange.stream_id_;
  detach(exchange);
  if (session_ != nullptr && opened) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    if (!in_event_) flush();
  }
  // A connection nobody waits for any more is not worth finishing.
  if (streams_.empty() && connecting()) closeSocket();
  if (!in_event_ && !completed_.empty()) loop_.arm(deliver_timer_, loop_.now());
}

void Http2Session::onIo(uint32_t events) {
  in_event_ = true;
  handleEvents(events);
  in_event_ = false;
  deliverCompleted();
}

void Http2Session::handleEvents(uint32_t events) {
  switch (state_) {
    case State::kClosed: return;
    case State::kConnecting: onConnectEvent(events); return;
    case State::kHandshaking: handshake(); return;
    case State::kSettling:
    case State::kOpen:
    case State::kGoingAway:
      if (((events & kReadableEvents) != 0 || ssl_ != nullptr) && !readFrames()) return;
      if (state_ == State::kSettling && settled_) onSettled();
      if (state_ == State::kGoingAway) refuseUnsent();
      if (flush()) closeIfDone();
      return;
  }
}

void Http2Session::connectNext() {
  const auto count = static_cast<uint32_t>(target_.addresses.size());
  while (addresses_left_ > 0) {
    --addresses_left_;
    if (address_index_ >= count) address_index_ = 0;
    const ConnectAttempt attempt = startConnect(target_.addresses[address_index_]);
    if (attempt.fd >= 0) {
      fd_ = attempt.fd;
      ++connects_;
      state_ = State::kConnecting;
      if (!loop_.watch(fd_, kSocketEvents, this)) {
        failAll(ErrorKind::kConnect, errno, false);
        return;
      }
      if (!attempt.in_progress) onTcpConnected();
      return;
    }
    connect_error_ = attempt.error;
    if (!worthNextAddress(attempt.error)) break;
    address_index_ = (address_index_ + 1) % count;
  }
  failAll(ErrorKind::kConnect, connect_error_ != 0 ? connect_error_ : EADDRNOTAVAIL, false);
}

void Http2Session::onConnectEvent(uint32_t events) {
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
    failAll(ErrorKind::kConnect, error, false);
    return;
  }
  address_index_ = (address_index_ + 1) % static_cast<uint32_t>(target_.addresses.size());
  connectNext();
}

void Http2Session::onTcpConnected() {
  if (!target_.tls) {
    openSession();  // cleartext: HTTP/2 with prior knowledge
    return;
  }
  ssl_ = tlsNewSession(*target_.tls, fd_, target_.origin.host);
  if (ssl_ == nullptr || SSL_set_alpn_protos(ssl_, kAlpn, sizeof kAlpn) != 0) {
    failAll(ErrorKind::kTls, 0, false);
    return;
  }
  state_ = State::kHandshaking;
  handshake();
}

void Http2Session::handshake() {
  const IoResult result = tlsHandshake(ssl_);
  switch (result.kind) {
    case IoResult::Kind::kOk: break;
    case IoResult::Kind::kWouldBlock: return;
    case IoResult::Kind::kError: failAll(ErrorKind::kReset, result.error, false); return;
    case IoResult::Kind::kEof:
    case IoResult::Kind::kTlsError: failAll(ErrorKind::kTls, 0, false); return;
  }
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &protocol, &length);
  if (length == 2 && std::memcmp(protocol, "h2", 2) == 0) {
    openSession();
    return;
  }
  // The server speaks HTTP/1.1 only: its exchanges go that way from now on.
  pool_.markHttp1();
  while (!streams_.empty()) {
    streams_.back()->fall_back_ = true;
    complete(*streams_.back(), ErrorKind::kNone, 0, false);
  }
  closeSocket();
}

// The client preface (nghttp2 writes the magic first), our SETTINGS, then the
// requests that waited for the connection.
bool Http2Session::openSession() {
  if (nghttp2_session_client_new(&session_, Callbacks::get(), this) != 0) {
    session_ = nullptr;
    failAll(ErrorKind::kProtocol, 0, false);
    return false;
  }
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                             {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  state_ = State::kSettling;
  settled_ = false;
  return flush();
}

// The server's limit is known: the waiting requests go out, up to it; the
// rest go back to the pool (not a retry: they were never sent).
void Http2Session::onSettled() {
  state_ = State::kOpen;
  const uint32_t limit = std::min(pool_.streamsPerConnection(), nghttp2_session_get_remote_settings(
                                                                    session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
  const std::vector<Http2Exchange*> waiting = streams_;
  for (size_t i = 0; i < waiting.size(); ++i) {
    if (i < limit) {
      submit(*waiting[i]);
    } else {
      waiting[i]->replace_ = true;
      complete(*waiting[i], ErrorKind::kNone, 0, false);
    }
  }
}

void Http2Session::submit(Http2Exchange& exchange) {
  const Http2Request& request = exchange.split_;
  thread_local std::vector<nghttp2_nv> fields;
  fields.clear();
  fields.push_back(field(":method", request.method));
  fields.push_back(field(":scheme", target_.origin.scheme));
  fields.push_back(field(":authority", request.authority));
  fields.push_back(field(":path", request.path));
  for (const auto& [name, value] : request.fields) fields.push_back(field(name, value));
  nghttp2_data_provider body{};
  body.read_callback = Callbacks::readBody;
  exchange.body_sent_ = 0;
  const int32_t stream_id = nghttp2_submit_request(session_, nullptr, fields.data(), fields.size(),
                                                   request.body.empty() ? nullptr : &body, nullptr);
  if (stream_id < 0) {
    complete(exchange, ErrorKind::kProtocol, 0, false);
    return;
  }
  exchange.stream_id_ = stream_id;
}

// Hands nghttp2's frames to the socket until nghttp2 has none or the socket is
// full (the rest waits in pending_output_ for EPOLLOUT). nghttp2 serialises a
// frame per call; they are gathered so that a round of requests costs one
// write, not one per frame. False when the connection failed.
bool Http2Session::flush() {
  if (session_ == nullptr) return false;
  while (true) {
    while (pending_output_.size() < kWriteBatch) {
      const uint8_t* data = nullptr;
      const ssize_t size = nghttp2_session_mem_send(session_, &data);
      if (size < 0) {
        failAll(ErrorKind::kProtocol, 0, false);
        return false;
      }
      if (size == 0) break;
      pending_output_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    }
    if (pending_output_.empty()) return true;
    size_t written = 0;
    while (written < pending_output_.size()) {
      const IoResult result = writeSome(pending_output_.data() + written, pending_output_.size() - written);
      if (result.kind == IoResult::Kind::kOk) {
        written += result.bytes;
      } else if (result.kind == IoResult::Kind::kWouldBlock) {
        pending_output_.erase(0, written);
        return true;
      } else {
        failAll(result.kind == IoResult::Kind::kTlsError ? ErrorKind::kTls : ErrorKind::kReset, result.error, true);
        return false;
      }
    }
    pending_output_.clear();
  }
}

// Reads and feeds nghttp2 until EAGAIN. False when the connection failed.
bool Http2Session::readFrames() {
  const std::span<char> buffer = loop_.scratch();
  while (true) {
    const IoResult result = readSome(buffer.data(), buffer.size());
    switch (result.kind) {
      case IoResult::Kind::kOk:
        if (nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer.data()), result.bytes) < 0) {
          failAll(ErrorKind::kProtocol, 0, false);
          return false;
        }
        break;
      case IoResult::Kind::kWouldBlock: return true;
      case IoResult::Kind::kEof: failAll(ErrorKind::kReset, 0, true); return false;
      case IoResult::Kind::kError: failAll(ErrorKind::kReset, result.error, true); return false;
      case IoResult::Kind::kTlsError: failAll(ErrorKind::kTls, 0, false); return false;
    }
  }
}

// A GOAWAY came before these requests went out: they go to another connection.
void Http2Session::refuseUnsent() {
  for (size_t i = streams_.size(); i-- > 0;) {
    if (i < streams_.size() && streams_[i]->stream_id_ == 0) complete(*streams_[i], ErrorKind::kReset, 0, true);
  }
}

// After a GOAWAY, once the last stream ended, or when nghttp2 is done with
// the connection (a fatal error it answered with GOAWAY).
void Http2Session::closeIfDone() {
  if (session_ == nullptr) return;
  const bool finished = nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
  if (finished || (state_ == State::kGoingAway && streams_.empty())) failAll(ErrorKind::kReset, 0, true);
}

// The connection is over: every exchange on it ends with `kind`. `retryable`:
// one that got no response byte on a connection that had served a response
// may be sent again (the server closed an idle connection as we sent).
void Http2Session::failAll(ErrorKind kind, int32_t code, bool retryable) {
  while (!streams_.empty()) {
    Http2Exchange& exchange = *streams_.back();
    complete(exchange, kind, code, retryable && served_ && exchange.status_ == 0);
  }
  closeSocket();
}

void Http2Session::complete(Http2Exchange& exchange, ErrorKind kind, int32_t code, bool retryable) {
  detach(exchange);
  exchange.error_ = kind;
  exchange.code_ = code;
  exchange.retryable_ = retryable;
  exchange.session_ = this;
  exchange.completing_ = true;
  completed_.push_back(&exchange);
}

void Http2Session::detach(Http2Exchange& exchange) {
  if (exchange.opened_ && session_ != nullptr) {
    nghttp2_session_set_stream_user_data(session_, exchange.stream_id_, nullptr);
  }
  exchange.opened_ = false;
  exchange.stream_id_ = 0;
  exchange.session_ = nullptr;
  const uint32_t slot = exchange.slot_;
  if (slot < streams_.size() && streams_[slot] == &exchange) {
    streams_[slot] = streams_.back();
    streams_[slot]->slot_ = slot;
    streams_.pop_back();
  }
}

// Delivers the queued outcomes. An exchange's callback may send again (placing
// an exchange here or on another session), cancel or destroy exchanges; what
// that queues is delivered in the same pass.
void Http2Session::deliverCompleted() {
  if (in_event_) return;
  in_event_ = true;
  for (size_t i = 0; i < completed_.size(); ++i) {
    Http2Exchange* exchange = std::exchange(completed_[i], nullptr);
    if (exchange == nullptr) continue;
    exchange->completing_ = false;
    exchange->session_ = nullptr;
    exchange->sessionDone();
  }
  completed_.clear();
  if (session_ != nullptr && flush()) closeIfDone();
  in_event_ = false;
  if (!completed_.empty()) deliverCompleted();
}

void Http2Session::closeSocket() {
  if (session_ != nullptr) {
    nghttp2_session_del(session_);  // calls no callback
    session_ = nullptr;
  }
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    loop_.unwatch(fd_);
    close(fd_);
    fd_ = -1;
  }
  pending_output_.clear();
  state_ = State::kClosed;
  served_ = false;
}

IoResult Http2Session::readSome(char* buffer, size_t size) {
  return ssl_ != nullptr ? tlsRead(ssl_, buffer, size) : socketRead(fd_, buffer, size);
}

IoResult Http2Session::writeSome(const char* data, size_t size) {
  return ssl_ != nullptr ? tlsWrite(ssl_, data, size) : socketWrite(fd_, data, size);
}

}  // namespace herd::engine
