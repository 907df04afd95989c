#pragma once
// The engine's WebSocket client connection (RFC 6455, ws:// and wss://) on the
// worker's EventLoop: TCP (and TLS, as HttpConnection does it), the HTTP/1.1
// upgrade with a random Sec-WebSocket-Key whose Sec-WebSocket-Accept is
// checked, then frames both ways: every frame sent is masked with a fresh key,
// received messages are reassembled (websocket_frame.h), pings are answered at
// once, and a close from either side completes the close handshake.
//
// Deadlines: open() and close() each take one (connect + TLS + upgrade; the
// server's close frame). Waiting for a message is the caller's deadline (a
// receive step's timeout); messages arriving while nobody waits are still
// parsed, so the socket never stalls, and are handed on as they come.
//
// Callbacks never come from inside open(), send(), ping() or close(): a failure
// found there is delivered from the loop in the next round. A callback may call
// any method, and may destroy the connection (it then touches nothing of itself).
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/engine/event_loop.h"
#include "agent/engine/http_connection.h"
#include "agent/engine/websocket_frame.h"
#include "common/stats/error_kind.h"

namespace herd::engine {

class WebSocketClient {
 public:
  // The opening handshake is over: `error` kNone and `status` 101 when the
  // socket is open. A refused upgrade has kNone and the HTTP status; a server
  // that answers 101 with a wrong Sec-WebSocket-Accept is kProtocol.
  virtual void onOpen(stats::ErrorKind error, int32_t code, int status) = 0;
  // A whole text or binary message; the view is valid during the call only.
  virtual void onMessage(websocket::Opcode opcode, std::string_view payload) = 0;
  virtual void onPong(std::string_view /*payload*/) {}
  // The connection is over: kNone after a close handshake (whoever began it)
  // with the peer's close code; kProtocol after a broken frame (we sent a
  // close with `close_code`); kReset, kTimeout or kTls otherwise.
  virtual void onClosed(stats::ErrorKind error, uint16_t close_code) = 0;

 protected:
  ~WebSocketClient() = default;
};

class WebSocketConnection final : private IoWatcher {
 public:
  // Keeps references to all three. `max_message` bounds one received message.
  WebSocketConnection(EventLoop& loop, const ConnectionTarget& target, WebSocketClient& client, size_t max_message);
  ~WebSocketConnection();  // closes the socket; never calls back
  WebSocketConnection(const WebSocketConnection&) = delete;
  WebSocketConnection& operator=(const WebSocketConnection&) = delete;

  // Connects and asks to upgrade `path` (with query); `extra_headers` are whole
  // "Name: value\r\n" lines. Exactly one onOpen() follows.
  void open(std::string_view path, std::string_view extra_headers, MonoTime deadline);
  // Queue a text or binary message, a ping; false unless open.
  bool send(websocket::Opcode opcode, std::string_view payload);
  bool ping(std::string_view payload);
  // Sends a close frame and waits for the server's until `deadline`; onClosed()
  // follows. When not open, the connection is just dropped (no callback).
  void close(uint16_t code, MonoTime deadline);
  // Drops the connection without a callback.
  void cancel();

  bool isOpen() const { return phase_ == Phase::kOpen; }
  uint64_t bytesSent() const { return bytes_sent_; }
  uint64_t bytesReceived() const { return bytes_received_; }

 private:
  enum class Phase : uint8_t { kIdle, kConnecting, kTls, kUpgrading, kOpen, kClosing };
  enum class Pending : uint8_t { kNone, kOpen, kClosed };  // a callback deferred to the loop

  void onIo(uint32_t events) override;
  void onTimer();
  void connect();
  void onTcpConnected();
  void handshakeTls();
  bool flush();  // false after a failure was reported
  void readAvailable();
  bool readUpgrade(std::string_view bytes);  // false when it ended the upgrade
  bool checkUpgrade();
  bool feedFrames(std::string_view bytes);  // false when the connection ended
  bool onFrame(const websocket::FrameEvent& event);
  void queueFrame(websocket::Opcode opcode, std::string_view payload);
  void failOpen(stats::ErrorKind kind, int32_t code, int status);
  void finish(stats::ErrorKind kind, uint16_t close_code);
  void defer(Pending pending);
  void closeSocket();
  IoResult readSome(char* buffer, size_t size);
  IoResult writeSome(const char* data, size_t size);

  EventLoop& loop_;
  const ConnectionTarget& target_;
  WebSocketClient& client_;
  Timer timer_;
  websocket::FrameParser parser_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  Phase phase_ = Phase::kIdle;
  Pending pending_ = Pending::kNone;
  bool in_call_ = false;  // inside open/send/close: callbacks are deferred
  bool* destroyed_ = nullptr;
  stats::ErrorKind pending_kind_ = stats::ErrorKind::kNone;
  int32_t pending_code_ = 0;
  int pending_status_ = 0;
  uint32_t address_index_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
  std::string key_;      // Sec-WebSocket-Key of this connection
  std::string out_;      // bytes waiting for the socket
  std::string upgrade_;  // the upgrade response's head as it arrives
};

}  // namespace herd::engine
