#pragma once
// HTTP/2 for a fiber: an Http2Exchange carries one request at a time, as a
// stream on a connection of its worker's Http2Pool for the origin, shared with
// the other users of that worker. The pool keeps as few connections as the
// streams-per-connection setting allows: a new one opens only when every open
// one carries that many streams (or the server's SETTINGS_MAX_CONCURRENT_STREAMS,
// if lower).
//
// Refused streams: a stream the server refused without processing it
// (RST_STREAM REFUSED_STREAM, or a stream above the last stream id of a
// GOAWAY), or a request whose reused connection died before any response
// byte, is sent again once, on another or a new connection, within the same
// deadline (retries() counts it); a second refusal is a failure of kind reset.
//
// ALPN: over TLS the connection offers "h2" and "http/1.1". When the server
// picks HTTP/1.1 the pool remembers it, and every exchange of that origin
// sends through its own HttpConnection from then on (the request that found
// out is sent again that way, in the same deadline).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/engine/http2_request.h"
#include "agent/engine/http_connection.h"
#include "agent/engine/request_channel.h"

namespace herd::engine {

class Http2Exchange;
class Http2Session;

class Http2Pool {
 public:
  // `streams_per_connection` >= 1. Keeps references; both must outlive the pool.
  Http2Pool(EventLoop& loop, const ConnectionTarget& target, uint32_t streams_per_connection);
  ~Http2Pool();
  Http2Pool(const Http2Pool&) = delete;
  Http2Pool& operator=(const Http2Pool&) = delete;

  // Places `exchange` on a session with room, a closed one, or a new one.
  void place(Http2Exchange& exchange);
  // The server chose HTTP/1.1 in ALPN.
  void markHttp1() { http1_ = true; }
  bool http1() const { return http1_; }
  uint32_t streamsPerConnection() const { return streams_per_connection_; }
  EventLoop& loop() { return loop_; }
  const ConnectionTarget& target() const { return target_; }
  uint32_t connects() const;  // TCP connections opened by all sessions

 private:
  EventLoop& loop_;
  const ConnectionTarget& target_;
  const uint32_t streams_per_connection_;
  bool http1_ = false;
  std::vector<std::unique_ptr<Http2Session>> sessions_;
};

class Http2Exchange final : public RequestChannel, private HttpClient {
 public:
  Http2Exchange(Http2Pool& pool, HttpClient& client);
  ~Http2Exchange();  // cancels; never calls back
  Http2Exchange(const Http2Exchange&) = delete;
  Http2Exchange& operator=(const Http2Exchange&) = delete;

  // As HttpConnection::send(). `request_bytes` is the HTTP/1.1 serialisation;
  // it is converted to HEADERS and DATA frames (see http2_request.h).
  void send(std::string_view request_bytes, MonoTime deadline, bool expect_no_body, bool capture_body,
            bool capture_headers = false, bool stream_body = false) override;
  void cancel() override;
  bool busy() const { return busy_; }
  uint32_t retries() const { return retries_; }

 private:
  friend class Http2Session;

  // From the fallback HttpConnection.
  void onResponse(const HttpResponse& response) override;
  void onBodyData(std::string_view data) override;
  void onTimer();
  void resetOutcome();
  // The session's outcome for this exchange (from its delivery list).
  void sessionDone();
  void finish(stats::ErrorKind kind, int32_t code);
  void deliver();
  void sendHttp1();
  void placeAgain();

  Http2Pool& pool_;
  HttpClient& client_;
  Timer timer_;                            // the deadline, or a deferred completion
  std::unique_ptr<HttpConnection> http1_;  // once the server declined h2 in ALPN

  // The request, as sent.
  std::string request_;
  Http2Request split_;
  MonoTime deadline_{};
  size_t body_sent_ = 0;  // bytes of split_.body handed to nghttp2
  bool no_body_ = false;
  bool capture_body_ = false;
  bool capture_headers_ = false;
  bool stream_body_ = false;

  // Where it stands.
  Http2Session* session_ = nullptr;  // set while placed on a session
  int32_t stream_id_ = 0;            // once submitted
  uint32_t slot_ = 0;                // index in the session's stream list
  bool opened_ = false;              // its HEADERS went out: nghttp2's stream points here
  bool completing_ = false;          // the outcome waits in the session's delivery list
  bool busy_ = false;
  bool in_send_ = false;
  bool deferred_ = false;
  bool retried_ = false;
  bool* destroyed_ = nullptr;
  uint32_t retries_ = 0;

  // The outcome.
  stats::ErrorKind error_ = stats::ErrorKind::kNone;
  int32_t code_ = 0;
  bool retryable_ = false;  // the session says sending again is safe
  bool fall_back_ = false;  // the server chose HTTP/1.1
  bool replace_ = false;    // never sent: the connection had no room after all
  int status_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t bytes_sent_ = 0;
  std::string body_;
  std::string headers_;
};

}  // namespace herd::engine
