#pragma once
// One line of execution inside a virtual user. A user has a main fiber (onStart,
// its iterations, onStop) and one more per branch of a running `parallel` step.
// A fiber walks nested step lists with a small stack of frames (a loop or an if
// pushes its block) and waits in exactly one place at a time: a response, a
// timer (think, retry backoff, yield) or its branches. It owns one connection per
// origin it talks to, so branches of one user send at the same time.
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/engine/event_loop.h"
#include "agent/engine/http_connection.h"
#include "agent/engine/request_channel.h"
#include "agent/engine/websocket_connection.h"
#include "common/core/clock.h"
#include "common/scenario/plan.h"

namespace herd::runtime {

class VirtualUser;

class Fiber final : public engine::HttpClient, public engine::WebSocketClient {
 public:
  Fiber(VirtualUser& user, Fiber* parent);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Walks `steps` from the loop (never from inside this call: the first step runs
  // in the loop's next round, so starting never re-enters the caller). Null:
  // ask the user for the next list at once.
  void start(const std::vector<scenario::Step>* steps);
  // No new steps: ends now when waiting on a timer (a think or a retry backoff
  // ends at once), after the response in flight, or once its branches ended.
  void stop();
  // Ends without calling back: the request in flight is dropped and not counted.
  void abandon();
  bool ended() const { return ended_; }
  Fiber* parent() const { return parent_; }
  void childEnded();
  // Open model: how late the current iteration started; added to every latency
  // it records, so latency counts from the intended send time.
  void setLateness(Nanos lateness) { lateness_ = lateness; }
  Nanos lateness() const { return lateness_; }

 private:
  enum class Wait : uint8_t { kNone, kResponse, kTimer, kRetry, kChildren };
  struct Frame {
    const std::vector<scenario::Step>* steps = nullptr;
    size_t pc = 0;
    const scenario::LoopStep* loop = nullptr;  // the loop whose body this frame runs
    int64_t round = 0;                         // rounds of `loop` started
  };

  void onResponse(const engine::HttpResponse& response) override;
  void onBodyData(std::string_view data) override;
  // Pub/sub (pubsub.cc): what a publish or subscribe adds to its request, and
  // what it records from the response.
  void prepareDelivery(const scenario::RequestStep& step);
  void recordMarkers(std::string_view text);
  // True when the response was a subscribe's normal end, not a failure.
  bool deliveryResponse(const scenario::RequestStep& step, const engine::HttpResponse& response, bool ok);
  bool subscribing() const;
  Nanos reconnectDelay(const scenario::RequestStep& step, const engine::HttpResponse& response);
  // Pub/sub over a WebSocket (websocket_delivery.cc): a publish sends its
  // message on the fiber's socket (opened once per URL), a subscribe listens
  // on one until its timeout; both end through onResponse() like a request.
  void sendOnSocket(const scenario::RequestStep& step);
  void openSocket(const scenario::RequestStep& step, bool for_steps);
  void onOpen(stats::ErrorKind error, int32_t code, int status) override;
  void onMessage(engine::websocket::Opcode opcode, std::string_view payload) override;
  void onPong(std::string_view payload) override;
  void onClosed(stats::ErrorKind error, uint16_t close_code) override;
  // A `websocket:` step and the steps inside it (websocket_steps.cc); true
  // when the fiber now waits.
  bool socketStep(const scenario::RequestStep& step);
  bool socketSend(const scenario::RequestStep& step);
  bool socketReceive(const scenario::RequestStep& step);
  void onSocketOpened(stats::ErrorKind error, int32_t code, int status);
  void onSocketMessage(std::string_view payload);
  void endSocketAction(stats::ErrorKind error, int32_t code, std::string_view message, MonoTime at);
  void recordSocketAction(const scenario::RequestStep& step, stats::ErrorKind error, int32_t code,
                          std::string_view message, MonoTime at);
  void publishOnSocket(const scenario::RequestStep& step);
  void onSocketTimer();
  void endSocketStep(stats::ErrorKind error, int32_t code, int status);
  void closeSocket();
  void onDrainEnd();
  void onTimer();
  void run();
  // Runs one step; true when the fiber now waits (or stopped walking).
  bool execute(const scenario::Step& step);
  // Starts the next round of the frame's loop; false when the loop is over.
  bool nextRound(Frame& frame);
  void enterLoop(const scenario::LoopStep& loop);
  void think(const scenario::ThinkStep& step);
  void parallel(const scenario::ParallelStep& step);
  void sendRequest();
  void waitUntil(MonoTime when, Wait wait);
  void end();
  engine::RequestChannel& connection(const scenario::RequestStep& step);

  VirtualUser& user_;
  Fiber* const parent_;
  std::vector<Frame> frames_;
  Wait wait_ = Wait::kNone;
  bool ended_ = true;
  bool stopping_ = false;
  uint32_t steps_since_wait_ = 0;  // yields to the loop when a flow never waits
  uint32_t children_left_ = 0;
  int attempt_ = 0;  // of the request in flight, from 1
  const scenario::RequestStep* pending_ = nullptr;
  MonoTime request_start_;
  MonoTime sequence_start_;  // for pacing
  Nanos lateness_{};
  bool draining_ = false;          // stopped, but a subscribe keeps listening (stop.drain)
  bool socket_sent_ = false;       // the socket timer ends a publish that was sent
  bool socket_for_steps_ = false;  // socket_ belongs to a websocket step, not to pub/sub
  std::string marker_;             // publish: the message's marker, the same on retries
  std::string extra_headers_;      // subscribe: the long-poll position
  engine::Timer timer_;
  // By origin index and HTTP version: [2 * origin] HTTP/1.1, [2 * origin + 1] HTTP/2.
  std::vector<std::unique_ptr<engine::RequestChannel>> connections_;
  std::unique_ptr<engine::WebSocketConnection> socket_;  // mode: websocket
  uint64_t socket_sent_mark_ = 0;                        // the socket's byte counts when the step began
  uint64_t socket_received_mark_ = 0;
  MonoTime exchange_from_;  // the last send or receive: a receive's latency counts from it

  // What only a subscriber's drain or a WebSocket needs, made on first use, so a
  // fiber of plain HTTP requests (most fibers) does without its 190 bytes.
  struct Sockets {
    explicit Sockets(Fiber& fiber);
    engine::Timer drain_timer;
    engine::Timer socket_timer;  // a websocket subscribe's timeout, or a published step's end
    std::string socket_path;     // what socket_ was opened for
    // Messages no receive waited for yet. A list, not a deque: an empty
    // std::deque allocates about 600 bytes.
    std::list<std::pair<MonoTime, std::string>> inbox;
  };
  Sockets& sockets();
  void disarmSocketTimers();
  std::unique_ptr<Sockets> sockets_;
};

}  // namespace herd::runtime
