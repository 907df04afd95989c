// The hub's routing and its lifetime rule: a run removed (and released by its
// owner) while another thread delivers messages to it is never used after it
// is freed (the asan preset runs this).
#include "common/coordinator/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/scenario/compiler.h"

namespace herd::coordinator {
namespace {

const char* kScenario = R"(
name: hub
target: http://127.0.0.1:1
users: [{name: u, steps: [{get: /a}]}]
load: {users: 2, spawnRate: 100, duration: 1s}
)";

v1::AgentMessage hello(const std::string& agent, const std::string& run) {
  v1::AgentMessage m;
  m.mutable_hello()->set_protocol_version(kProtocolVersion);
  m.mutable_hello()->set_agent_id(agent);
  m.mutable_hello()->set_run_id(run);
  return m;
}

v1::AgentMessage heartbeat() {
  v1::AgentMessage m;
  m.mutable_heartbeat()->set_sent_unix_nanos(1);
  return m;
}

std::optional<v1::CoordinatorMessage> first(Connection& c) { return c.pop(std::chrono::seconds(5)); }

TEST(Hub, RoutesByRunIdAndRefusesUnknownRuns) {
  auto plan = scenario::compileString(kScenario, "hub.yaml");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  Hub hub;
  CoordinatorOptions options;
  options.run_id = "run-a";
  hub.add("run-a", std::make_shared<Coordinator>(*plan, std::vector<report::Threshold>{}, options));
  auto a = hub.connect("a");
  hub.receive(a, hello("agent", "run-a"));
  auto welcome = first(*a);
  ASSERT_TRUE(welcome && welcome->has_welcome());
  EXPECT_EQ(welcome->welcome().run_id(), "run-a");
  auto b = hub.connect("b");
  hub.receive(b, hello("agent", "run-b"));
  auto refused = first(*b);
  ASSERT_TRUE(refused && refused->has_refused());
  EXPECT_EQ(refused->refused().reason(), v1::Refused::UNKNOWN_RUN);
  // Once removed, the run's streams are forgotten: their next message is refused.
  hub.remove("run-a");
  hub.receive(a, heartbeat());
  EXPECT_TRUE(a->closed());
}

TEST(Hub, ARunRemovedWhileAnotherThreadDeliversIsNotUsedAfterItIsFreed) {
  auto plan = scenario::compileString(kScenario, "hub.yaml");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  Hub hub;
  for (int round = 0; round < 40; ++round) {
    const std::string run = "run-" + std::to_string(round);
    CoordinatorOptions options;
    options.run_id = run;
    auto coordinator = std::make_shared<Coordinator>(*plan, std::vector<report::Threshold>{}, options);
    hub.add(run, coordinator);
    auto stream = hub.connect("agent");
    hub.receive(stream, hello("agent", run));
    std::atomic<int> delivered{0};
    std::thread deliverer([&] {
      // Bounded: at most 20000 messages, and it ends once the stream is refused.
      for (int i = 0; i < 20000 && !stream->closed(); ++i) {
        hub.receive(stream, heartbeat());
        delivered.fetch_add(1);
      }
      hub.disconnected(stream, "done");
    });
    while (delivered.load() < 20 && !stream->closed()) std::this_thread::yield();
    hub.remove(run);
    coordinator.reset();  // the owner lets go while a delivery may be inside it
    deliverer.join();
    EXPECT_TRUE(stream->closed()) << "round " << round;
  }
}

}  // namespace
}  // namespace herd::coordinator
