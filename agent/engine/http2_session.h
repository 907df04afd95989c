#pragma once
// One HTTP/2 connection of the engine: a socket (TLS with ALPN "h2", or
// cleartext with prior knowledge), nghttp2 for framing, HPACK and flow control,
// and the streams of several Http2Exchanges multiplexed on it. Driven by the
// worker's EventLoop like HttpConnection, registered once, edge-triggered.
//
// Concurrency: at most min(streams per connection, the server's
// SETTINGS_MAX_CONCURRENT_STREAMS) exchanges are placed on a session
// (Http2Pool places them). Requests wait for the server's first SETTINGS
// (one round trip after the preface) rather than guess its limit; those
// beyond it then go back to the pool for another connection.
//
// Completions: every outcome goes through a list that is delivered after
// nghttp2 and the socket are done with the event (or from the loop, for
// outcomes found inside start()), so an exchange's callback may send again,
// cancel or destroy its exchange without re-entering nghttp2.
//
// A session that closes (the server's GOAWAY, an error, ALPN without h2)
// stays in its pool, closed, and connects again when given a stream.
#include <cstdint>
#include <string>
#include <vector>

#include "agent/engine/event_loop.h"
#include "agent/engine/http_connection.h"
#include "common/stats/error_kind.h"

// nghttp2's handle type, declared as <nghttp2/nghttp2.h> declares it.
typedef struct nghttp2_session nghttp2_session;

namespace herd::engine {

class Http2Exchange;
class Http2Pool;

class Http2Session final : private IoWatcher {
 public:
  Http2Session(EventLoop& loop, const ConnectionTarget& target, Http2Pool& pool);
  ~Http2Session();  // closes the socket; never calls back
  Http2Session(const Http2Session&) = delete;
  Http2Session& operator=(const Http2Session&) = delete;

  // True when a new stream may go here: connected or connecting, not going
  // away, and fewer than `limit` (and the server's limit) streams open.
  bool hasRoom(uint32_t limit) const;
  bool closed() const { return state_ == State::kClosed; }
  bool connecting() const;  // TCP connect or TLS handshake under way
  // Places `exchange` (its request split already) on this session,
  // connecting first when closed.
  void start(Http2Exchange& exchange);
  // Forgets `exchange` without a callback; its stream, if open, is reset.
  void cancel(Http2Exchange& exchange);
  uint32_t connects() const { return connects_; }

  // nghttp2's callbacks (http2_session.cc); public for its C trampolines only.
  struct Callbacks;

 private:
  // kSettling: the preface is out; requests wait for the server's SETTINGS,
  // which say how many streams it takes.
  enum class State : uint8_t { kClosed, kConnecting, kHandshaking, kSettling, kOpen, kGoingAway };

  void onIo(uint32_t events) override;
  void handleEvents(uint32_t events);
  void connectNext();
  void onConnectEvent(uint32_t events);
  void onTcpConnected();
  void handshake();
  bool openSession();
  void onSettled();
  void refuseUnsent();
  void submit(Http2Exchange& exchange);
  bool flush();
  bool readFrames();
  void closeIfDone();
  void failAll(stats::ErrorKind kind, int32_t code, bool retryable);
  void complete(Http2Exchange& exchange, stats::ErrorKind kind, int32_t code, bool retryable);
  void detach(Http2Exchange& exchange);
  void deliverCompleted();
  void closeSocket();
  IoResult readSome(char* buffer, size_t size);
  IoResult writeSome(const char* data, size_t size);

  EventLoop& loop_;
  const ConnectionTarget& target_;
  Http2Pool& pool_;
  Timer deliver_timer_;  // completions found outside an event
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  nghttp2_session* session_ = nullptr;
  State state_ = State::kClosed;
  bool in_event_ = false;  // inside onIo() or a delivery: the caller flushes and delivers
  bool served_ = false;    // a response completed on this connection (retry rule)
  bool settled_ = false;   // the server's first SETTINGS arrived
  int32_t connect_error_ = 0;
  uint32_t address_index_ = 0;
  uint32_t addresses_left_ = 0;
  uint32_t connects_ = 0;
  std::string pending_output_;             // frames nghttp2 produced that the socket did not take yet
  std::vector<Http2Exchange*> streams_;    // placed here, waiting or open
  std::vector<Http2Exchange*> completed_;  // outcomes to deliver; null when cancelled since
};

}  // namespace herd::engine
