#include "agent/runtime/fiber.h"

#include <algorithm>

#include "agent/runtime/backoff.h"
#include "agent/runtime/response_checks.h"
#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"
#include "common/scenario/grpc_wire.h"

namespace herd::runtime {

namespace {

// A flow that runs this many steps without waiting (say, a loop of `set` steps)
// hands the thread back to the event loop before going on, so it cannot starve
// the other users or the stop.
constexpr uint32_t kStepsBeforeYield = 1000;

bool evaluate(const scenario::Condition& condition, VirtualUser& user, std::string& left, std::string& right) {
  using Kind = scenario::Condition::Kind;
  switch (condition.kind) {
    case Kind::kChance: return user.worker().rng().unit() < condition.chance;
    case Kind::kEquals:
    case Kind::kNotEquals: {
      const auto context = user.renderContext();
      left.clear();
      right.clear();
      scenario::renderTemplate(condition.left, context, left);
      scenario::renderTemplate(condition.right, context, right);
      return (left == right) == (condition.kind == Kind::kEquals);
    }
    case Kind::kSet:
    case Kind::kNotSet: return user.variables()[condition.variable].empty() == (condition.kind == Kind::kNotSet);
  }
  return false;
}

}  // namespace

Fiber::Fiber(VirtualUser& user, Fiber* parent) : user_(user), parent_(parent), timer_([this] { onTimer(); }) {}

Fiber::~Fiber() = default;

Fiber::Sockets::Sockets(Fiber& fiber)
    : drain_timer([&fiber] { fiber.onDrainEnd(); }), socket_timer([&fiber] { fiber.onSocketTimer(); }) {}

Fiber::Sockets& Fiber::sockets() {
  if (!sockets_) sockets_ = std::make_unique<Sockets>(*this);
  return *sockets_;
}

void Fiber::disarmSocketTimers() {
  if (!sockets_) return;
  user_.worker().loop().disarm(sockets_->drain_timer);
  user_.worker().loop().disarm(sockets_->socket_timer);
}

void Fiber::start(const std::vector<scenario::Step>* steps) {
  frames_.clear();
  if (steps != nullptr) frames_.push_back(Frame{steps});
  ended_ = false;
  stopping_ = false;
  sequence_start_ = user_.worker().loop().now();
  waitUntil(user_.worker().loop().now(), Wait::kTimer);
}

void Fiber::stop() {
  if (ended_) return;
  stopping_ = true;
  if (wait_ == Wait::kTimer || wait_ == Wait::kRetry || wait_ == Wait::kNone) {
    end();
  } else if (subscribing()) {
    // A subscriber listens on for the drain window (publishers have stopped), then
    // its request is dropped: it was never going to end by itself.
    const auto drain = user_.worker().shared().plan->drain;
    draining_ = true;
    user_.worker().loop().arm(sockets().drain_timer, user_.worker().loop().now() + drain);
  }
}

void Fiber::onDrainEnd() {
  draining_ = false;
  for (auto& connection : connections_) {
    if (connection) connection->cancel();
  }
  closeSocket();
  end();
}

void Fiber::abandon() {
  for (auto& connection : connections_) {
    if (connection) connection->cancel();
  }
  closeSocket();
  user_.worker().loop().disarm(timer_);
  disarmSocketTimers();
  wait_ = Wait::kNone;
  ended_ = true;
}

void Fiber::end() {
  if (ended_) return;
  ended_ = true;
  wait_ = Wait::kNone;
  frames_.clear();
  user_.worker().loop().disarm(timer_);
  disarmSocketTimers();
  closeSocket();
  if (parent_ != nullptr) {
    parent_->childEnded();
  } else {
    user_.fiberEnded(*this);
  }
}

void Fiber::childEnded() {
  if (children_left_ > 0 && --children_left_ == 0) {
    // Resume from the loop, not from inside the branch that just ended.
    waitUntil(user_.worker().loop().now(), Wait::kTimer);
  }
}

void Fiber::waitUntil(MonoTime when, Wait wait) {
  wait_ = wait;
  steps_since_wait_ = 0;
  user_.worker().loop().arm(timer_, when);
}

void Fiber::onTimer() {
  const Wait wait = std::exchange(wait_, Wait::kNone);
  if (wait == Wait::kRetry) {
    sendRequest();
    return;
  }
  if (children_left_ == 0) user_.reap(*this);
  run();
}

// Walks steps until the fiber has to wait. Every wait goes through the event
// loop (responses are never delivered inside send(), timers fire from the loop),
// so this never recurses.
void Fiber::run() {
  while (!ended_) {
    if (stopping_) {
      end();
      return;
    }
    if (frames_.empty()) {
      const auto* next = user_.next(*this);
      if (next == nullptr) {
        end();
        return;
      }
      frames_.push_back(Frame{next});
      sequence_start_ = user_.worker().loop().now();
    }
    Frame& frame = frames_.back();
    if (frame.pc >= frame.steps->size()) {
      if (frame.loop == nullptr || !nextRound(frame)) frames_.pop_back();
      continue;
    }
    if (++steps_since_wait_ > kStepsBeforeYield) {
      waitUntil(user_.worker().loop().now(), Wait::kTimer);
      return;
    }
    const auto& step = (*frame.steps)[frame.pc++];
    if (execute(step)) return;
  }
}

bool Fiber::nextRound(Frame& frame) {
  const auto& loop = *frame.loop;
  using Kind = scenario::LoopStep::Kind;
  switch (loop.kind) {
    case Kind::kCount:
      if (frame.round >= loop.count) return false;
      break;
    case Kind::kWhile: {
      std::string left, right;
      if (!evaluate(loop.condition, user_, left, right)) return false;
      break;
    }
    case Kind::kForever: break;
    case Kind::kOver: {
      if (frame.round >= static_cast<int64_t>(loop.items.size())) return false;
      auto& value = user_.variables()[loop.variable];
      value.clear();
      scenario::renderTemplate(loop.items[static_cast<size_t>(frame.round)], user_.renderContext(), value);
      break;
    }
  }
  ++frame.round;
  frame.pc = 0;
  return true;
}

void Fiber::enterLoop(const scenario::LoopStep& loop) {
  frames_.push_back(Frame{&loop.body->steps, loop.body->steps.size(), &loop, 0});
  // pc at the end: run() starts the first round through nextRound().
}

bool Fiber::execute(const scenario::Step& step) {
  if (const auto* request = std::get_if<scenario::RequestStep>(&step)) {
    if (request->socket_op != scenario::RequestStep::SocketOp::kNone) return socketStep(*request);
    pending_ = request;
    attempt_ = 1;
    sendRequest();
    return true;
  }
  if (const auto* pause = std::get_if<scenario::ThinkStep>(&step)) {
    think(*pause);
    return true;
  }
  if (const auto* loop = std::get_if<scenario::LoopStep>(&step)) {
    enterLoop(*loop);
    return false;
  }
  if (const auto* branch = std::get_if<scenario::IfStep>(&step)) {
    std::string left, right;
    const bool yes = evaluate(branch->condition, user_, left, right);
    const auto& block = yes ? branch->then_steps : branch->else_steps;
    if (!block->steps.empty()) frames_.push_back(Frame{&block->steps});
    return false;
  }
  if (const auto* set = std::get_if<scenario::SetStep>(&step)) {
    for (const auto& [variable, value] : set->assignments) {
      // Rendered aside first: the value may read the variable it replaces.
      std::string text;
      scenario::renderTemplate(value, user_.renderContext(), text);
      user_.variables()[variable] = std::move(text);
    }
    return false;
  }
  if (const auto* fork = std::get_if<scenario::ParallelStep>(&step)) {
    parallel(*fork);
    return true;
  }
  if (const auto* feed = std::get_if<scenario::FeedStep>(&step)) {
    const auto& source = user_.worker().shared().plan->data[feed->source];
    const auto* row = user_.worker().feeders().next(feed->source, user_.worker().rng());
    if (row == nullptr) {  // a unique source is used up: this user is done
      user_.stopFromStep();
      return true;
    }
    for (size_t i = 0; i < source.column_variables.size(); ++i) {
      user_.variables()[source.column_variables[i]] = (*row)[i];
    }
    return false;
  }
  static_assert(std::variant_size_v<scenario::Step> == 8, "Fiber::execute handles every kind of step");
  user_.stopFromStep();  // StopUserStep
  return true;
}

void Fiber::parallel(const scenario::ParallelStep& step) {
  wait_ = Wait::kChildren;
  steps_since_wait_ = 0;
  children_left_ = static_cast<uint32_t>(step.branches.size());
  for (const auto& branch : step.branches) user_.spawn(*this).start(&branch->steps);
}

void Fiber::think(const scenario::ThinkStep& step) {
  auto& worker = user_.worker();
  MonoTime until = worker.loop().now();
  switch (step.kind) {
    case scenario::ThinkStep::Kind::kFixed: until += step.min; break;
    case scenario::ThinkStep::Kind::kBetween:
      until += Nanos(worker.rng().between(step.min.count(), step.max.count()));
      break;
    case scenario::ThinkStep::Kind::kPacing:
      // Pacing waits until the iteration has lasted the period (Locust's
      // constant_pacing); an iteration already longer goes on at once.
      until = std::max(until, sequence_start_ + step.min);
      break;
  }
  waitUntil(until, Wait::kTimer);
}

engine::RequestChannel& Fiber::connection(const scenario::RequestStep& step) {
  const bool http2 = step.http == scenario::HttpVersion::kHttp2;
  const size_t index = 2 * step.origin + (http2 ? 1 : 0);
  if (connections_.size() <= index) connections_.resize(index + 1);
  auto& slot = connections_[index];
  if (!slot) {
    auto& worker = user_.worker();
    if (http2) {
      slot = std::make_unique<engine::Http2Exchange>(worker.http2Pool(step.origin), *this);
    } else {
      slot = std::make_unique<engine::HttpConnection>(worker.loop(), worker.shared().targets[step.origin], *this);
    }
  }
  return *slot;
}

void Fiber::sendRequest() {
  const auto& step = *pending_;
  auto& worker = user_.worker();
  if (step.delivery) prepareDelivery(step);
  if (step.delivery && step.delivery->mode == scenario::Delivery::Mode::kWebSocket) {
    sendOnSocket(step);
    return;
  }
  const bool cookies = worker.shared().plan->cookies && !step.grpc;
  const auto bytes = worker.renderRequest(step, user_.renderContext(), cookies ? &user_.cookies() : nullptr, marker_,
                                          extra_headers_);
  if (step.grpc_json_body && !worker.grpcError().empty()) {
    // The rendered message does not convert: the call fails without being
    // sent, as a gRPC client's would; the user goes on from the loop.
    worker.recorder().recordRequest(step.endpoint, 0, 0, 0, stats::ErrorKind::kGrpc, scenario::kGrpcInvalidArgument);
    pending_ = nullptr;
    waitUntil(worker.loop().now(), Wait::kTimer);
    return;
  }
  wait_ = Wait::kResponse;
  steps_since_wait_ = 0;
  request_start_ = MonoClock::now();
  const bool stream = step.delivery && step.delivery->kind == scenario::Delivery::Kind::kSubscribe &&
                      (step.delivery->mode == scenario::Delivery::Mode::kStream ||
                       step.delivery->mode == scenario::Delivery::Mode::kSse);
  connection(step).send(bytes, request_start_ + step.timeout, step.method == "HEAD", step.needs_body,
                        step.needs_headers, stream);
}

void Fiber::onResponse(const engine::HttpResponse& response) {
  wait_ = Wait::kNone;
  const auto latency = MonoClock::now() - request_start_ + lateness_;
  const auto& step = *pending_;
  auto& worker = user_.worker();
  const auto render = user_.renderContext();
  ResponseContext context{worker.reader(),
                          render,
                          user_.variables(),
                          worker.shared().plan->cookies ? &user_.cookies() : nullptr,
                          worker.shared().targets[step.origin].origin.host,
                          worker.scratch()};
  Outcome outcome = step.grpc ? inspectGrpcResponse(step, response, context) : inspectResponse(step, response, context);
  if (step.delivery && deliveryResponse(step, response, outcome.error == stats::ErrorKind::kNone)) outcome = Outcome{};
  worker.recorder().recordRequest(step.endpoint, static_cast<uint64_t>(latency.count()), response.bytes_received,
                                  response.bytes_sent, outcome.error, outcome.code);
  // Which protocol answered, once one did (a refused connection spoke none).
  if (response.status != 0) worker.recorder().recordProtocol(step.endpoint, response.http_version);
  if (step.retry && attempt_ < step.retry->attempts && !stopping_ && outcome.error != stats::ErrorKind::kNone &&
      shouldRetry(*step.retry, response.error, response.status)) {
    const auto delay = backoffDelay(*step.retry, attempt_, worker.rng().unit());
    ++attempt_;
    waitUntil(worker.loop().now() + delay, Wait::kRetry);
    return;
  }
  if (draining_ && outcome.error == stats::ErrorKind::kNone) {  // a subscriber listens until the drain ends
    sendRequest();
    return;
  }
  draining_ = false;  // a failing subscriber does not retry through the drain: it ends
  pending_ = nullptr;
  marker_.clear();
  extra_headers_.clear();
  if (const auto delay = reconnectDelay(step, response); delay > Nanos(0)) {
    waitUntil(worker.loop().now() + delay, Wait::kTimer);
    return;
  }
  run();
}

}  // namespace herd::runtime
