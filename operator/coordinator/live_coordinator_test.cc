// The operator's coordinator listener on loopback, spoken to by a real gRPC
// client: a Hello for a run this process does not hold yet is refused once the
// hold window has passed, and held (then admitted) when the window was opened
// again by holdUnknownRuns(), as the operator does the moment it becomes leader.
// This is what lets a standby that has been up for hours take over a run whose
// agents redial before its reconciler has adopted the run.
#include "operator/coordinator/live_coordinator.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/coordinator/coordinator.h"
#include "common/scenario/run.h"
#include "herd/v1/agent.grpc.pb.h"

namespace herd::operator_coordinator {
namespace {

using namespace std::chrono_literals;

const char* kScenario = R"(
name: hold
target: http://127.0.0.1:1
users: [{name: u, steps: [{get: /a}]}]
load: {users: 2, spawnRate: 100, duration: 1s}
)";

class HoldWindow : public ::testing::Test {
 protected:
  void SetUp() override {
    LiveCoordinatorOptions options;
    options.listen = "127.0.0.1:0";
    options.hold_unknown_runs = 1s;
    auto live = startLiveCoordinator(options);
    ASSERT_TRUE(live.ok()) << live.error().describe();
    live_ = std::move(*live);
    auto channel = grpc::CreateChannel(live_->agentEndpoint(), grpc::InsecureChannelCredentials());
    stub_ = v1::Coordinator::NewStub(channel);
    // The window opened at start-up has passed: the process has been up a while.
    std::this_thread::sleep_for(1200ms);
  }

  // Sends a Hello for run-7 and returns the coordinator's first reply.
  std::optional<v1::CoordinatorMessage> hello() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    auto stream = stub_->Connect(&context);
    v1::AgentMessage m;
    m.mutable_hello()->set_protocol_version(coordinator::kProtocolVersion);
    m.mutable_hello()->set_herd_version("9.9.9");
    m.mutable_hello()->set_agent_id("a1");
    m.mutable_hello()->set_run_id("run-7");
    m.mutable_hello()->set_token("tok");
    stream->Write(m);
    std::optional<v1::CoordinatorMessage> reply;
    v1::CoordinatorMessage message;
    if (stream->Read(&message)) reply = message;
    context.TryCancel();
    return reply;
  }

  void startRun() {
    auto run = scenario::compileRun(kScenario, "hold.yaml", {});
    ASSERT_TRUE(run.ok()) << run.error().describe();
    controller::RunRequest request;
    request.loadtest = "ns/hold";
    request.run_id = "run-7";
    request.token = "tok";
    request.run = std::make_shared<const scenario::CompiledRun>(std::move(*run));
    request.scenario_text = kScenario;
    request.scenario_name = "ns/hold:inline";
    ASSERT_TRUE(live_->startRun(request).ok());
  }

  std::unique_ptr<LiveRunCoordinator> live_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
};

TEST_F(HoldWindow, PastTheWindowAHelloForAnUnknownRunIsRefused) {
  const auto reply = hello();
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->has_refused()) << reply->DebugString();
  EXPECT_EQ(reply->refused().reason(), v1::Refused::UNKNOWN_RUN);
}

TEST_F(HoldWindow, OpenedAgainOnLeadershipTheHelloWaitsForTheRunAndIsWelcomed) {
  live_->holdUnknownRuns();
  // The run is taken over after the agent has said Hello, as when the agents
  // redial a new leader faster than its reconciler's first pass.
  auto reply = std::async(std::launch::async, [&] { return hello(); });
  ASSERT_EQ(reply.wait_for(500ms), std::future_status::timeout) << "answered before the run was known";
  startRun();
  const auto answer = reply.get();
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->has_welcome()) << answer->DebugString();
}

}  // namespace
}  // namespace herd::operator_coordinator
