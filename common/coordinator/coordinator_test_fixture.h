#pragma once
// The fixture the coordinator's unit tests share: a compiled unit scenario and
// in-memory connections standing in for agents' streams (no transport).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/coordinator/coordinator.h"
#include "common/scenario/compiler.h"
#include "common/wire/stats_codec.h"

namespace herd::coordinator::test {

inline constexpr auto kWait = std::chrono::seconds(5);

inline constexpr const char* kScenario = R"(
name: unit
target: http://127.0.0.1:1
users:
  - name: u
    steps: [{get: /a}, {get: /b}]
load: {users: 10, spawnRate: 100, duration: 1s}
)";

// A run of two agents (run-1, token s3cret) as the loss and take-over tests
// use it: an agent silent for 300 ms is lost, users get 100 ms to finish after
// the stop.
inline CoordinatorOptions takeoverOptions() {
  CoordinatorOptions options;
  options.run_id = "run-1";
  options.token = "s3cret";
  options.expect_agents = 2;
  options.lost_after = std::chrono::milliseconds(300);
  options.grace = std::chrono::milliseconds(100);
  return options;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest() : plan_(*scenario::compileString(kScenario, "unit.yaml")) {}

  std::unique_ptr<Coordinator> make(size_t agents = 1) { return make(plan_, agents); }
  // A run of `plan` (run-1, token s3cret) that starts 10 ms after its barrier.
  static std::unique_ptr<Coordinator> make(const scenario::Plan& plan, size_t agents) {
    CoordinatorOptions options;
    options.run_id = "run-1";
    options.token = "s3cret";
    options.expect_agents = agents;
    options.start_delay = std::chrono::milliseconds(10);
    options.grace = std::chrono::milliseconds(100);
    return std::make_unique<Coordinator>(plan, std::vector<report::Threshold>{}, options);
  }

  static v1::AgentMessage hello(const std::string& id, const std::string& token = "s3cret", uint32_t version = 1,
                                const std::string& run = "") {
    v1::AgentMessage m;
    auto& h = *m.mutable_hello();
    h.set_protocol_version(version);
    h.set_agent_id(id);
    h.set_token(token);
    h.set_run_id(run);
    return m;
  }

  static v1::AgentMessage ready() {
    v1::AgentMessage m;
    m.mutable_ready();
    return m;
  }

  static v1::AgentMessage report(uint64_t sequence, uint64_t requests, bool final = false) {
    stats::Recorder r(2);
    for (uint64_t i = 0; i < requests; ++i) r.recordRequest(0, 1000 + i, 10, 10, stats::ErrorKind::kNone);
    v1::AgentMessage m;
    m.mutable_report()->set_sequence(sequence);
    m.mutable_report()->set_final(final);
    wire::encodeStats(r, *m.mutable_report()->mutable_stats());
    return m;
  }

  // Agents that said Hello and Ready, one connection each.
  static std::vector<std::shared_ptr<Connection>> joinReady(Coordinator& coordinator,
                                                            const std::vector<std::string>& ids) {
    std::vector<std::shared_ptr<Connection>> out;
    for (const auto& id : ids) {
      out.push_back(coordinator.connect(id));
      coordinator.receive(out.back(), hello(id));
      coordinator.receive(out.back(), ready());
    }
    return out;
  }

  // The next message of a given kind, skipping others (heartbeats, acks).
  static std::optional<v1::CoordinatorMessage> next(Connection& c, v1::CoordinatorMessage::BodyCase kind) {
    const auto deadline = MonoClock::now() + kWait;
    while (MonoClock::now() < deadline) {
      auto m = c.pop(std::chrono::milliseconds(50));
      if (m && m->body_case() == kind) return m;
      if (!m && c.closed()) return std::nullopt;
    }
    return std::nullopt;
  }

  // One agent joined and ready, run() on a thread of its own, its Assignment and Start read.
  struct Started {
    std::shared_ptr<Connection> stream;
    std::optional<v1::CoordinatorMessage> assignment, start;
    std::optional<Result<RunResult>> result;
    std::thread runner;
    ~Started() {
      if (runner.joinable()) runner.join();
    }
  };
  static std::unique_ptr<Started> startOne(Coordinator& coordinator) {
    auto s = std::make_unique<Started>();
    s->stream = coordinator.connect("a");
    coordinator.receive(s->stream, hello("agent-a"));
    coordinator.receive(s->stream, ready());
    s->runner = std::thread([&coordinator, raw = s.get()] { raw->result.emplace(coordinator.run()); });
    s->assignment = next(*s->stream, v1::CoordinatorMessage::kAssignment);
    s->start = next(*s->stream, v1::CoordinatorMessage::kStart);
    return s;
  }

  // agent-a's Hello after a broken stream: it runs `assignment` since `start`.
  static v1::AgentMessage resumeHello(const Started& was, uint64_t acked, uint64_t last) {
    auto h = hello("agent-a", "s3cret", 1, "run-1");
    auto& resume = *h.mutable_hello()->mutable_resume();
    resume.set_generation(was.assignment->assignment().generation());
    *resume.mutable_ranges() = was.assignment->assignment().ranges();
    resume.set_start_unix_nanos(was.start->start().start_unix_nanos());
    resume.set_acked_sequence(acked);   // what the coordinator it talked to acknowledged
    resume.set_first_kept_sequence(1);  // it kept everything
    resume.set_last_sequence(last);
    return h;
  }

  scenario::Plan plan_;
};

}  // namespace herd::coordinator::test
