#pragma once
// A virtual user: the state one simulated client keeps (its index and class,
// variables, cookie jar) and the fibers that walk its class's compiled steps: the
// main one (onStart, then iterations, then onStop) and one per branch of a
// running `parallel` step. A few hundred bytes plus one connection per origin
// and fiber.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine/sse_parser.h"
#include "agent/runtime/cookie_jar.h"
#include "agent/runtime/fiber.h"
#include "common/core/clock.h"
#include "common/scenario/plan.h"
#include "common/scenario/template.h"

namespace herd::runtime {

class CodeUser;
class Worker;

class VirtualUser {
 public:
  VirtualUser(Worker& worker, int64_t index, const scenario::UserClass& user_class, int64_t class_index = 0);
  ~VirtualUser();
  VirtualUser(const VirtualUser&) = delete;
  VirtualUser& operator=(const VirtualUser&) = delete;

  void begin();
  // The test is stopping: fibers end at once when idle, after the response in
  // flight otherwise; then onStop runs (its requests are bounded by the grace).
  void stop();
  // The grace time is over: drop whatever is in flight without counting it.
  void abandon();
  bool done() const { return phase_ == Phase::kDone; }
  // Open model: run one iteration meant to start at `intended` (now, or right
  // after onStart for a new user). Only while idle or before begin().
  void arrive(MonoTime intended);

  // For the fibers.
  Worker& worker() { return worker_; }
  int64_t index() const { return index_; }
  int64_t classIndex() const { return class_index_; }
  const scenario::UserClass& userClass() const { return class_; }
  std::vector<std::string>& variables() { return variables_; }
  CookieJar& cookies() { return cookies_; }
  scenario::RenderContext renderContext();
  // The main fiber's next list of steps once the current one is done; null ends it.
  const std::vector<scenario::Step>* next(Fiber& fiber);
  void fiberEnded(Fiber& fiber);
  Fiber& spawn(Fiber& parent);
  // Frees the ended branches of `parent` (called when its parallel step is over).
  void reap(Fiber& parent);
  void stopFromStep();               // a stopUser step
  void codeFinished() { finish(); }  // a C++ class's user ended (code_user.h)

  // Pub/sub: the next message number this user publishes, and where a subscribe
  // step of this user stands (its long-poll position, a stream's partial marker,
  // an event stream's last event ID).
  struct SubscribeState {
    bool started = false;
    std::string last_modified;
    std::string etag;
    std::string carry;
    engine::SseParser sse;  // mode: sse; its last event ID outlives connections
  };
  uint64_t nextMessage() { return next_message_++; }
  SubscribeState& subscription(const scenario::RequestStep* step) { return subscriptions_[step]; }

 private:
  enum class Phase : uint8_t { kOnStart, kIterating, kIdle, kOnStop, kDone };
  const std::vector<scenario::Step>& pickIteration();
  void finish();

  Worker& worker_;
  const int64_t index_;        // global across the run
  const int64_t class_index_;  // within its class, across the run
  const scenario::UserClass& class_;
  Phase phase_ = Phase::kOnStart;
  bool stop_requested_ = false;
  const bool open_;                  // the open model: iterations come from arrivals
  std::optional<MonoTime> arrival_;  // open: the iteration waiting to start
  std::vector<std::string> variables_;
  CookieJar cookies_;
  std::unique_ptr<Fiber> main_;     // null for a C++ class
  std::unique_ptr<CodeUser> code_;  // a C++ class's user (code_user.h)
  std::vector<std::unique_ptr<Fiber>> branches_;
  uint64_t next_message_ = 0;
  std::map<const scenario::RequestStep*, SubscribeState> subscriptions_;
};

}  // namespace herd::runtime
