#pragma once
// A raw TCP connection on the worker's EventLoop, for protocols the engine does
// not speak itself (a C++ user class's own client: Redis' RESP, a custom event
// bus). One operation at a time — connect, write all of a buffer, or read what
// is there — and exactly one onStreamDone() per operation, never from inside
// the call that started it (a result known at once is delivered from the loop).
// Plain TCP, or TLS when connect() is given a TlsContext: the handshake is
// part of the connect, and reads and writes then move plaintext.
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/engine/event_loop.h"
#include "agent/engine/resolver.h"
#include "agent/engine/socket_io.h"

typedef struct ssl_st SSL;

namespace herd::engine {

class TcpStreamClient {
 public:
  // `error`: 0, or the errno the operation failed with (ECONNRESET for a peer
  // that closed while a read waited, ENOTCONN for an operation without a connection,
  // TcpStream::kTlsFailed for a failed handshake or TLS record).
  virtual void onStreamDone(int error) = 0;

 protected:
  ~TcpStreamClient() = default;
};

class TlsContext;

class TcpStream final : private IoWatcher {
 public:
  static constexpr int kTlsFailed = -1;  // not an errno

  TcpStream(EventLoop& loop, TcpStreamClient& client);
  ~TcpStream();  // closes the socket; never calls back
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  // Closes a connection it had first. With `tls`, done once the handshake with
  // `host` (SNI and verification, as tlsNewSession()) is.
  void connect(const Address& address, const TlsContext* tls = nullptr, const std::string& host = {});
  void write(std::string_view bytes);  // copied; done once all were written
  void read(std::string& into);        // appends at least one byte, then done
  void close();                        // drops the operation in flight without a callback
  bool connected() const { return fd_ >= 0 && op_ != Op::kConnect; }
  uint64_t bytesSent() const { return bytes_sent_; }
  uint64_t bytesReceived() const { return bytes_received_; }

 private:
  enum class Op : uint8_t { kNone, kConnect, kWrite, kRead };
  void onIo(uint32_t events) override;
  void progress(uint32_t events);
  void finish(int error);
  void deferFinish(int error);
  void handshake();
  IoResult readSome(char* buffer, size_t size);
  IoResult writeSome(const char* data, size_t size);

  EventLoop& loop_;
  TcpStreamClient& client_;
  Timer deferred_;  // delivers a result found inside the call that started it
  int fd_ = -1;
  const TlsContext* tls_ = nullptr;  // set from connect() to the handshake's start
  std::string host_;
  SSL* ssl_ = nullptr;  // owned; null for plain TCP
  Op op_ = Op::kNone;
  int deferred_error_ = 0;
  std::string out_;
  size_t written_ = 0;
  std::string* into_ = nullptr;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
};

}  // namespace herd::engine
