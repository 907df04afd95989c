#pragma once
// The engine's side of a C++ user class (include/herd/herd.h): one object per
// virtual user of a `code:` class. It owns the class instance and the coroutine
// that runs (onStart, one iteration, onStop), and implements herd::User over
// the worker: requests go through an engine connection of its own, sleeps are
// timers of the worker's loop, and every resume comes from a loop callback, so
// user code runs on the worker thread and never blocks it.
//
// Stats: a request is recorded once the coroutine moves on (its next request or
// sleep, or the end of the coroutine), so that user.check() on its response
// can still make it a failure, the way a YAML check does.
#include <coroutine>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <herd/herd.h>

#include "agent/engine/event_loop.h"
#include "agent/engine/http_connection.h"
#include "agent/engine/request_channel.h"
#include "agent/engine/tcp_stream.h"
#include "agent/engine/websocket_connection.h"
#include "common/core/clock.h"
#include "common/scenario/plan.h"
#include "common/stats/error_kind.h"

namespace herd::runtime {

class VirtualUser;

class CodeUser final : public herd::User,
                       public engine::HttpClient,
                       public engine::TcpStreamClient,
                       public engine::WebSocketClient {
 public:
  CodeUser(VirtualUser& owner, const scenario::UserClass& user_class);
  ~CodeUser() override;
  CodeUser(const CodeUser&) = delete;
  CodeUser& operator=(const CodeUser&) = delete;

  // As VirtualUser's (virtual_user.h).
  void begin();
  void stop();
  void abandon();
  void arrive(MonoTime intended);

  // herd::User
  int64_t index() const override;
  int64_t classIndex() const override;
  std::string_view className() const override;
  const std::string* param(std::string_view name) const override;
  std::string& variable(std::string_view name) override;
  double random() override;
  bool check(bool holds, std::string_view name) override;
  std::optional<std::string> capture(const herd::Response& response, const herd::Capture& capture) override;
  bool feed(std::string_view source) override;
  std::string newMessage() override;
  void published(std::string_view stream, std::string_view topic, std::string_view marker) override;
  void subscribed(std::string_view stream, const std::vector<std::string>& topics) override;
  size_t delivered(std::string_view stream, std::string_view text) override;
  std::string& received() override { return received_; }
  void disconnect() override;
  void record(std::string_view endpoint, std::chrono::nanoseconds latency, std::string_view error) override;

 private:
  enum class Phase : uint8_t { kOnStart, kIterating, kIdle, kOnStop, kDone };
  enum class Wait : uint8_t { kNone, kStart, kResponse, kSleep, kStream, kSocket, kEnding };
  struct Record {  // the last response, not yet counted
    size_t endpoint = 0;
    uint64_t latency_ns = 0;
    uint64_t bytes_received = 0;
    uint64_t bytes_sent = 0;
    stats::ErrorKind error = stats::ErrorKind::kNone;
    int32_t code = 0;
    int status = 0;
    uint8_t http_version = 1;
  };

  void startRequest(const herd::Request& request, herd::Response& into, std::coroutine_handle<> awaiter) override;
  void startSleep(std::chrono::nanoseconds duration, std::coroutine_handle<> awaiter) override;
  void startIo(herd::IoAwaiter::Op op, uint16_t port, const herd::ConnectOptions& options, std::string& bytes,
               std::string& error, std::coroutine_handle<> awaiter) override;
  void onResponse(const engine::HttpResponse& response) override;
  void onStreamDone(int error) override;
  // The WebSocket (code_user_socket.cc), as a YAML websocket step's.
  bool startSocket(const herd::SocketCall& call, herd::SocketResult& into, std::coroutine_handle<> awaiter) override;
  void onOpen(stats::ErrorKind error, int32_t code, int status) override;
  void onMessage(engine::websocket::Opcode opcode, std::string_view payload) override;
  void onClosed(stats::ErrorKind error, uint16_t close_code) override;
  void onSocketTimeout();
  // Counts a socket call (kept in record_ for user.check()) and tells `into`.
  void recordSocket(size_t endpoint, Nanos latency, uint64_t received, uint64_t sent, stats::ErrorKind error,
                    int32_t code, herd::SocketResult& into);
  // The wait for a socket call is over: go on, or end when stopping.
  void socketDone();
  void onTimer();
  // Runs `phase`'s coroutine from the loop's next round.
  void enter(Phase phase);
  // Resumes `handle`, then, when the phase's coroutine ended, moves on.
  void resume(std::coroutine_handle<> handle);
  void phaseEnded();
  bool endAtWait();
  void nextIteration();
  void endCoroutine();
  void flush();
  void recordException(std::string_view message);
  size_t endpointIndex(std::string_view name) const;
  // Plan::streams' index of a stream the class declares; another throws.
  uint32_t streamIndex(std::string_view name) const;
  // The plan origin `origin` names: 0 (the target) for "", else one the class declares.
  size_t originIndex(std::string_view origin) const;
  engine::RequestChannel& channel(size_t origin, bool http2);
  void serialise(const herd::Request& request, size_t origin);

  VirtualUser& owner_;
  const scenario::UserClass& class_;
  const scenario::CodeClass& code_;
  const herd::ClassEntry& entry_;
  std::unique_ptr<herd::UserClass> instance_;
  herd::Task task_;  // the phase's coroutine
  Phase phase_ = Phase::kOnStart;
  Wait wait_ = Wait::kNone;
  bool stop_requested_ = false;
  bool open_ = false;
  std::optional<MonoTime> arrival_;  // open model: the iteration waiting to start
  Nanos lateness_{};                 // open model: how late the current iteration started
  std::coroutine_handle<> awaiter_;  // what the response or the timer resumes
  herd::Response* into_ = nullptr;
  MonoTime request_start_;
  size_t request_endpoint_ = 0;
  size_t last_endpoint_ = 0;  // where an exception is counted
  std::optional<Record> record_;
  uint32_t quick_iterations_ = 0;  // iterations in a row that ended without waiting
  std::string request_bytes_;
  std::map<std::string, std::string, std::less<>> variables_;
  engine::Timer timer_;
  // By 2 * plan origin + (1 for HTTP/2), made on first use, as a fiber's.
  std::vector<std::unique_ptr<engine::RequestChannel>> channels_;
  std::unique_ptr<engine::TcpStream> stream_;  // the raw connection, made on first connect()
  std::string* stream_error_ = nullptr;        // where onStreamDone() writes
  std::string received_;
  uint64_t recorded_sent_ = 0;  // the stream's byte counts at the last record()
  uint64_t recorded_received_ = 0;
  bool exchange_recorded_ = false;                                // stopping: the exchange in flight was recorded
  std::unique_ptr<engine::WebSocketConnection> socket_;           // made by wsConnect()
  herd::SocketCall::Op socket_op_ = herd::SocketCall::Op::kSend;  // the call waited for
  size_t socket_endpoint_ = 0;
  herd::SocketResult* socket_into_ = nullptr;
  MonoTime exchange_from_;  // the last send or receive: a receive's latency counts from it
  // Messages no receive waited for yet. A list: an empty std::deque allocates.
  std::list<std::pair<MonoTime, std::string>> inbox_;
};

}  // namespace herd::runtime
