#include "agent/runtime/virtual_user.h"

#include <algorithm>

#include "agent/runtime/worker.h"

namespace herd::runtime {

VirtualUser::VirtualUser(Worker& worker, int64_t index, const scenario::UserClass& user_class)
    : worker_(worker), index_(index), class_(user_class), think_timer_([this] { run(); }) {}

VirtualUser::~VirtualUser() = default;

void VirtualUser::begin() {
  iteration_start_ = worker_.loop().now();
  phase_ = Phase::kOnStart;
  sequence_ = &class_.on_start;
  pc_ = 0;
  run();
}

void VirtualUser::stop() {
  stop_requested_ = true;
  if (!in_request_) finish();
}

void VirtualUser::abandon() {
  for (auto& connection : connections_) {
    if (connection) connection->cancel();
  }
  in_request_ = false;
  finish();
}

void VirtualUser::finish() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  worker_.loop().disarm(think_timer_);
  worker_.userFinished();
}

// Walks steps until the user has to wait for a response or a timer. Every wait
// goes through the event loop (responses are never delivered inside send(), and
// a zero think still arms a timer), so this never recurses.
void VirtualUser::run() {
  while (phase_ != Phase::kDone) {
    if (stop_requested_ || worker_.stopping()) {
      finish();
      return;
    }
    if (pc_ >= sequence_->size()) {
      if (!nextSequence()) return;
      continue;
    }
    const auto& step = (*sequence_)[pc_++];
    if (const auto* request = std::get_if<scenario::RequestStep>(&step)) {
      sendRequest(*request);
      return;
    }
    think(std::get<scenario::ThinkStep>(step));
    return;
  }
}

// Moves to the next iteration: the class's steps, or one task picked by weight.
bool VirtualUser::nextSequence() {
  phase_ = Phase::kIterating;
  iteration_start_ = worker_.loop().now();
  pc_ = 0;
  if (class_.tasks.empty()) {
    sequence_ = &class_.steps;
    return true;
  }
  double total = 0;
  for (const auto& task : class_.tasks) total += task.weight;
  double pick = worker_.rng().unit() * total;
  for (const auto& task : class_.tasks) {
    sequence_ = &task.steps;
    pick -= task.weight;
    if (pick < 0) break;
  }
  return true;
}

engine::HttpConnection& VirtualUser::connection(size_t origin) {
  if (connections_.size() <= origin) connections_.resize(origin + 1);
  auto& slot = connections_[origin];
  if (!slot) {
    slot = std::make_unique<engine::HttpConnection>(worker_.loop(), worker_.shared().targets[origin], *this);
  }
  return *slot;
}

void VirtualUser::sendRequest(const scenario::RequestStep& step) {
  const auto bytes = worker_.renderRequest(step, index_, class_.name);
  pending_ = &step;
  in_request_ = true;
  request_start_ = MonoClock::now();
  connection(step.origin).send(bytes, request_start_ + step.timeout, step.method == "HEAD",
                               /*capture_body=*/false);
}

void VirtualUser::onResponse(const engine::HttpResponse& response) {
  in_request_ = false;
  const auto latency = MonoClock::now() - request_start_;
  auto error = response.error;
  int32_t code = response.code;
  if (error == stats::ErrorKind::kNone && response.status >= 400) {
    error = stats::ErrorKind::kStatus;
    code = response.status;
  }
  worker_.recorder().recordRequest(pending_->endpoint, static_cast<uint64_t>(latency.count()),
                                   response.bytes_received, response.bytes_sent, error, code);
  pending_ = nullptr;
  run();
}

void VirtualUser::think(const scenario::ThinkStep& step) {
  auto& loop = worker_.loop();
  MonoTime until = loop.now();
  switch (step.kind) {
    case scenario::ThinkStep::Kind::kFixed:
      until += step.min;
      break;
    case scenario::ThinkStep::Kind::kBetween:
      until += Nanos(worker_.rng().between(step.min.count(), step.max.count()));
      break;
    case scenario::ThinkStep::Kind::kPacing:
      // Pacing waits until the iteration has lasted the period (Locust's
      // constant_pacing); an iteration already longer goes on at once.
      until = std::max(until, iteration_start_ + step.min);
      break;
  }
  loop.arm(think_timer_, until);
}

}  // namespace herd::runtime
