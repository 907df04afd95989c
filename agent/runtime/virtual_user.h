#pragma once
// A virtual user: a small state machine that walks its class's compiled steps.
// It waits in exactly one place at a time (a response or a think timer), so it
// needs no coroutine frame or stack of its own; a few hundred bytes plus one
// connection per origin it has talked to.
#include <cstdint>
#include <memory>
#include <vector>

#include "agent/engine/event_loop.h"
#include "agent/engine/http_connection.h"
#include "common/core/clock.h"
#include "common/scenario/plan.h"

namespace herd::runtime {

class Worker;

class VirtualUser final : public engine::HttpClient {
 public:
  VirtualUser(Worker& worker, int64_t index, const scenario::UserClass& user_class);
  ~VirtualUser();
  VirtualUser(const VirtualUser&) = delete;
  VirtualUser& operator=(const VirtualUser&) = delete;

  void begin();
  // The test is stopping: end now if idle, or after the response in flight.
  void stop();
  // The grace time is over: drop the request in flight without counting it.
  void abandon();
  bool done() const { return phase_ == Phase::kDone; }

 private:
  enum class Phase : uint8_t { kOnStart, kIterating, kDone };

  void onResponse(const engine::HttpResponse& response) override;
  void run();
  bool nextSequence();
  void sendRequest(const scenario::RequestStep& step);
  void think(const scenario::ThinkStep& step);
  void finish();
  engine::HttpConnection& connection(size_t origin);

  Worker& worker_;
  const int64_t index_;  // global across the run
  const scenario::UserClass& class_;
  const std::vector<scenario::Step>* sequence_ = nullptr;
  size_t pc_ = 0;
  Phase phase_ = Phase::kOnStart;
  bool in_request_ = false;
  bool stop_requested_ = false;
  const scenario::RequestStep* pending_ = nullptr;
  MonoTime request_start_;
  MonoTime iteration_start_;
  engine::Timer think_timer_;
  std::vector<std::unique_ptr<engine::HttpConnection>> connections_;  // by origin index
};

}  // namespace herd::runtime
