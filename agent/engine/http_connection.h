#pragma once
// The engine's HTTP/1.1 client connection: one per (virtual user, origin),
// persistent, one request in flight, driven by the worker's EventLoop.
//
// Memory budget: a load test holds tens of thousands of idle keep-alive
// connections per agent, and the target is <= 8 KiB of resident memory per idle
// connection including the user's own state. So a connection owns no read
// buffer: it reads into the loop's 64 KiB scratch buffer and the parser keeps
// only partial state. What it keeps is the object itself (a few hundred bytes,
// see the sizeof test), a copy of the last request (needed for the retry below;
// released after the response when larger than 4 KiB) and, for HTTPS, the SSL
// object with its buffers released while idle.
//
// Keep-alive and the retry-once rule: a server may close an idle keep-alive
// connection at any moment (nginx after keepalive_timeout, or at
// keepalive_requests), and the close can cross our next request on the wire.
// The request then fails with EPIPE / ECONNRESET / EOF before a single response
// byte arrived, through no fault of the server. Like browsers and curl, the
// connection then re-sends the request once on a fresh connection, within the
// same deadline, and the caller never sees it (retries() counts it). A fresh
// connection failing that way is a real error (kReset). Requests are re-sent
// only in this case, where the server cannot have started processing a
// response; POST included, as every keep-alive client does.
//
// Epoll registration: each socket is registered once, edge-triggered, for
// EPOLLIN|EPOLLOUT|EPOLLRDHUP, and never modified (see event_loop.h). Reads go
// until EAGAIN or until the response is complete.
//
// Errors never throw: every outcome, success or failure, is one onResponse()
// call with an ErrorKind. Completion is never delivered from inside send():
// failures found there (connection refused at once, a dead reused socket) are
// delivered from the loop in the next round.
//
// Callbacks: onResponse() may call send() on this connection, cancel() it, or
// destroy it; the connection touches nothing of itself after the callback
// returns when it was destroyed.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine/event_loop.h"
#include "agent/engine/http_parser.h"
#include "agent/engine/request_channel.h"
#include "agent/engine/resolver.h"
#include "agent/engine/tls.h"
#include "common/core/clock.h"
#include "common/scenario/plan.h"
#include "common/stats/error_kind.h"

namespace herd::engine {

// Where a connection goes: resolved once before the run, then shared read-only
// by every worker. Must outlive the connections that use it.
struct ConnectionTarget {
  scenario::Origin origin;          // scheme, host (for SNI and verification), port
  std::vector<Address> addresses;   // from resolve(); tried in order until one connects
  std::shared_ptr<TlsContext> tls;  // set for https, null for http
};

// One request's outcome, passed to HttpClient::onResponse(). Views are valid
// only during the callback.
// The deadline passing before the TCP connection was established is kConnect
// with ETIMEDOUT (a target whose accept queue overflows drops SYNs); after
// that it is kTimeout.
struct HttpResponse {
  stats::ErrorKind error = stats::ErrorKind::kNone;  // kConnect, kTimeout, kReset, kProtocol or kTls
  int32_t code = 0;                                  // errno for kConnect and kReset (0 for a plain EOF), else 0
  int status = 0;                                    // HTTP status when a status line arrived (even with an error)
  uint64_t bytes_received = 0;                       // response bytes incl. status line, headers, chunk framing
  uint64_t bytes_sent = 0;                           // request bytes written, a retried request counted twice
  std::string_view body;                             // the decoded body, only when capture_body was asked
  std::string_view headers;                          // "Name: value\n" per field, only when capture_headers was asked
  uint8_t http_version = 1;                          // 1 (HTTP/1.1) or 2 (HTTP/2): what carried the request
};

class HttpClient {
 public:
  virtual void onResponse(const HttpResponse& response) = 0;
  // With stream_body: decoded body bytes as they arrive, before onResponse()
  // (which then has an empty body). Must not send, cancel or destroy the connection.
  virtual void onBodyData(std::string_view /*data*/) {}

 protected:
  ~HttpClient() = default;
};

class HttpConnection final : public RequestChannel, private IoWatcher {
 public:
  // Keeps references to all three; they must outlive the connection.
  HttpConnection(EventLoop& loop, const ConnectionTarget& target, HttpClient& client);
  ~HttpConnection();  // closes the socket; never calls back
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends a complete, serialised HTTP/1.1 request (request line, headers with
  // Host, body); the bytes are copied. Connects first when needed. `deadline`
  // covers connect, TLS handshake, send and the whole response. Exactly one
  // onResponse() follows, never from inside send(). `expect_no_body`: the
  // request is HEAD. `capture_body`: pass the decoded body to onResponse();
  // `capture_headers`: pass the header fields (cookies, checks).
  // Must not be called while busy().
  // `stream_body`: hand body bytes to onBodyData() as they arrive (an endless
  // streaming response) instead of keeping them.
  void send(std::string_view request_bytes, MonoTime deadline, bool expect_no_body, bool capture_body,
            bool capture_headers = false, bool stream_body = false) override;

  // Abandons the request in flight, if any, without a callback, and closes the socket.
  void cancel() override;

  bool busy() const { return busy_; }
  // A socket is open and ready for a request (not connecting or handshaking).
  bool connected() const;

  uint32_t connects() const { return connects_; }  // TCP connections opened
  uint32_t retries() const { return retries_; }    // requests re-sent by the retry-once rule

 private:
  enum class Phase : uint8_t { kIdle, kConnecting, kHandshaking, kSending, kReceiving };
  enum class Progress : uint8_t { kBlocked, kDone, kFinished };  // kFinished: finish() ran

  void onIo(uint32_t events) override;
  void onTimer();
  void startAttempt();
  void connectNext();
  void onConnectEvent(uint32_t events);
  void onTcpConnected();
  void handshake();
  Progress writeRequest();
  void readResponse();
  void onIdleEvent(uint32_t events);
  void onResponseComplete(bool clean_end);
  void failAttempt(stats::ErrorKind kind, int32_t code);
  void finish(stats::ErrorKind kind, int32_t code);
  void deliver(stats::ErrorKind kind, int32_t code);
  void closeSocket();
  IoResult readSome(char* buffer, size_t size);
  IoResult writeSome(const char* data, size_t size);

  EventLoop& loop_;
  const ConnectionTarget& target_;
  HttpClient& client_;
  Timer timer_;  // the deadline, or a deferred completion (see send())
  int fd_ = -1;
  SSL* ssl_ = nullptr;  // owned; set once the TCP connection of an https target is up
  Phase phase_ = Phase::kIdle;
  bool busy_ = false;
  bool in_send_ = false;   // completions found now are deferred to the loop
  bool deferred_ = false;  // a deferred completion waits in timer_
  bool reused_ = false;    // this attempt runs on a socket that served a response
  bool retried_ = false;
  bool no_body_ = false;
  bool capture_ = false;
  bool stream_ = false;
  stats::ErrorKind deferred_kind_ = stats::ErrorKind::kNone;
  int32_t deferred_code_ = 0;
  int32_t connect_error_ = 0;   // errno of the last failed connect
  uint32_t address_index_ = 0;  // the address to try first (the last that worked)
  uint32_t addresses_left_ = 0;
  uint32_t connects_ = 0;
  uint32_t retries_ = 0;
  bool* destroyed_ = nullptr;  // set by deliver() while the callback runs
  size_t sent_ = 0;            // bytes of request_ written in this attempt
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
  std::string request_;
  std::string body_;
  std::string headers_;  // captured header fields (capture_headers)
  ResponseParser parser_;
};

}  // namespace herd::engine
