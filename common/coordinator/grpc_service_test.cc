// The coordinator's gRPC service against bad protocol input from real clients
// on loopback: every bad stream is refused or cut with a reason, and the
// coordinator keeps serving the next agent.
#include "common/coordinator/grpc_service.h"

#include <fmt/format.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "common/coordinator/hub.h"
#include "common/scenario/compiler.h"
#include "herd/v1/agent.grpc.pb.h"

namespace herd::coordinator {
namespace {

const char* kScenario = R"(
name: grpc
target: http://127.0.0.1:1
users:
  - name: u
    steps: [{get: /a}]
load: {users: 4, spawnRate: 100, duration: 1s}
)";

class GrpcServiceTest : public ::testing::Test {
 protected:
  GrpcServiceTest() : plan_(*scenario::compileString(kScenario, "grpc.yaml")) {
    CoordinatorOptions options;
    options.run_id = "run-7";
    options.token = "tok";
    options.expect_agents = 1;
    coordinator_ = std::make_unique<Coordinator>(plan_, std::vector<report::Threshold>{}, options);
    auto server = GrpcServer::start(*coordinator_, ServerOptions{});
    EXPECT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(fmt::format("127.0.0.1:{}", server_->port()), grpc::InsecureChannelCredentials());
    stub_ = v1::Coordinator::NewStub(channel_);
  }

  static v1::AgentMessage hello(uint32_t version, const std::string& run = "", const std::string& token = "tok") {
    v1::AgentMessage m;
    m.mutable_hello()->set_protocol_version(version);
    m.mutable_hello()->set_herd_version("9.9.9");
    m.mutable_hello()->set_agent_id("probe");
    m.mutable_hello()->set_run_id(run);
    m.mutable_hello()->set_token(token);
    return m;
  }

  // Sends `first`, returns the first reply (if any) and the stream's status.
  std::pair<std::optional<v1::CoordinatorMessage>, grpc::Status> exchange(const v1::AgentMessage& first) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub_->Connect(&context);
    stream->Write(first);
    std::optional<v1::CoordinatorMessage> reply;
    v1::CoordinatorMessage message;
    if (stream->Read(&message)) reply = message;
    stream->WritesDone();
    while (stream->Read(&message)) {
    }
    return {reply, stream->Finish()};
  }

  scenario::Plan plan_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
};

TEST_F(GrpcServiceTest, VersionMismatchIsRefusedNamingBothVersions) {
  auto [reply, status] = exchange(hello(2));
  ASSERT_TRUE(reply && reply->has_refused());
  EXPECT_EQ(reply->refused().reason(), v1::Refused::VERSION_MISMATCH);
  EXPECT_NE(reply->refused().message().find("speaks version 2"), std::string::npos) << reply->refused().message();
  EXPECT_NE(reply->refused().message().find("speaks version 1"), std::string::npos);
}

TEST_F(GrpcServiceTest, UnknownRunAndWrongTokenAreRefused) {
  auto [unknown, s1] = exchange(hello(1, "someone-elses-run"));
  ASSERT_TRUE(unknown && unknown->has_refused());
  EXPECT_EQ(unknown->refused().reason(), v1::Refused::UNKNOWN_RUN);
  auto [bad, s2] = exchange(hello(1, "", "nope"));
  ASSERT_TRUE(bad && bad->has_refused());
  EXPECT_EQ(bad->refused().reason(), v1::Refused::BAD_TOKEN);
}

TEST_F(GrpcServiceTest, OversizedMessageIsCutAndTheServerGoesOn) {
  v1::AgentMessage big = hello(1);
  big.mutable_hello()->set_herd_version(std::string(5 << 20, 'x'));  // over the 4 MiB limit
  auto [reply, status] = exchange(big);
  EXPECT_FALSE(reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  auto [welcome, ok] = exchange(hello(1));
  ASSERT_TRUE(welcome);
  EXPECT_TRUE(welcome->has_welcome());
}

TEST_F(GrpcServiceTest, UnparsableBytesAreCutAndTheServerGoesOn) {
  grpc::GenericStub generic(channel_);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call = generic.PrepareCall(&context, "/herd.v1.Coordinator/Connect", &queue);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t id) {
    EXPECT_TRUE(queue.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), id);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step(1));
  // Field 1 (hello), length-delimited, with a length far past the end.
  const std::string garbage("\x0a\xff\xff\xff\xff\x0f\x01\x02", 8);
  grpc::Slice slice(garbage);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  step(2);
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  EXPECT_FALSE(step(3)) << "no reply to bytes that do not parse";
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  step(4);
  EXPECT_FALSE(status.ok());
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  auto [welcome, s] = exchange(hello(1));
  ASSERT_TRUE(welcome);
  EXPECT_TRUE(welcome->has_welcome());
}

TEST_F(GrpcServiceTest, NoHelloFirstIsRefused) {
  v1::AgentMessage report;
  report.mutable_report()->set_sequence(1);
  auto [reply, status] = exchange(report);
  ASSERT_TRUE(reply && reply->has_refused());
  EXPECT_EQ(reply->refused().reason(), v1::Refused::MALFORMED);
}

// Streams opened on the async API that send nothing: each waits for the
// server to end it, and reports the status it ended with.
class SilentStreams {
 public:
  SilentStreams(v1::Coordinator::Stub& stub, int count) {
    for (int i = 0; i < count; ++i) {
      auto call = std::make_unique<Call>();
      call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      call->stream = stub.AsyncConnect(&call->context, &queue_, tag(i, 0));
      calls_.push_back(std::move(call));
    }
  }
  ~SilentStreams() {
    for (auto& call : calls_) call->context.TryCancel();
    drain(std::chrono::seconds(10));
    queue_.Shutdown();
    void* t = nullptr;
    bool ok = false;
    while (queue_.Next(&t, &ok)) {
    }
  }
  // Steps every call through start → read → finish until all are finished or
  // `limit` passes; returns the statuses of the finished ones.
  std::vector<grpc::Status> drain(std::chrono::milliseconds limit) {
    const auto until = std::chrono::system_clock::now() + limit;
    void* t = nullptr;
    bool ok = false;
    while (finished_ < calls_.size() && queue_.AsyncNext(&t, &ok, until) == grpc::CompletionQueue::GOT_EVENT) {
      const auto id = reinterpret_cast<intptr_t>(t);
      auto& call = *calls_[static_cast<size_t>(id >> 2)];
      const int step = static_cast<int>(id & 3);
      if (step == 0 || (step == 1 && ok)) {
        call.stream->Read(&call.reply, tag(id >> 2, 1));
        if (step == 1) call.replies++;
      } else if (step == 1) {
        call.stream->Finish(&call.status, tag(id >> 2, 2));
      } else {
        ++finished_;
        statuses_.push_back(call.status);
      }
    }
    return statuses_;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::AgentMessage, v1::CoordinatorMessage>> stream;
    v1::CoordinatorMessage reply;
    grpc::Status status;
    int replies = 0;
  };
  static void* tag(intptr_t call, int step) { return reinterpret_cast<void*>((call << 2) | step); }

  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<Call>> calls_;
  size_t finished_ = 0;
  std::vector<grpc::Status> statuses_;
};

TEST(Admission, AStreamWithoutHelloIsClosedAtTheDeadlineAndBeyondTheCapRefusedAtOnce) {
  const auto plan = *scenario::compileString(kScenario, "grpc.yaml");
  CoordinatorOptions options;
  options.run_id = "run-8";
  options.token = "tok";
  Coordinator coordinator(plan, {}, options);
  ServerOptions so;
  so.hello_timeout = std::chrono::milliseconds(600);
  so.max_unadmitted = 3;
  auto server = GrpcServer::start(coordinator, so);
  ASSERT_TRUE(server.ok()) << server.error().describe();
  auto channel = grpc::CreateChannel(fmt::format("127.0.0.1:{}", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Coordinator::NewStub(channel);

  const auto opened = std::chrono::steady_clock::now();
  SilentStreams silent(*stub, 5);
  auto early = silent.drain(std::chrono::milliseconds(300));
  ASSERT_EQ(early.size(), 2u) << "two over the cap of three, refused at once";
  for (const auto& status : early) EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ((*server)->unadmitted(), 3u);

  auto all = silent.drain(std::chrono::seconds(5));
  const auto took = std::chrono::steady_clock::now() - opened;
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 2; i < all.size(); ++i) {
    EXPECT_EQ(all[i].error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << all[i].error_message();
    EXPECT_NE(all[i].error_message().find("no Hello within 0.6s"), std::string::npos) << all[i].error_message();
  }
  EXPECT_GE(took, std::chrono::milliseconds(600));
  EXPECT_EQ((*server)->unadmitted(), 0u);

  // The slots are free again, and an admitted agent holds none.
  grpc::ClientContext context;
  auto stream = stub->Connect(&context);
  v1::AgentMessage hello;
  hello.mutable_hello()->set_protocol_version(1);
  hello.mutable_hello()->set_agent_id("late");
  hello.mutable_hello()->set_token("tok");
  ASSERT_TRUE(stream->Write(hello));
  v1::CoordinatorMessage reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_TRUE(reply.has_welcome());
  EXPECT_EQ((*server)->unadmitted(), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // past the deadline: an agent that spoke stays
  EXPECT_EQ(coordinator.connectedAgents(), 1u);
  context.TryCancel();
  stream->Finish();
  (*server)->shutdown();
}

// The operator's case: two runs behind one listener, each stream routed by the
// run id in its Hello; a request to stop a run before its start ends it.
TEST(HubTest, RoutesStreamsByRunIdAndRefusesUnknownRuns) {
  const auto plan = *scenario::compileString(kScenario, "grpc.yaml");
  CoordinatorOptions a_options;
  a_options.run_id = "run-a";
  a_options.token = "ta";
  CoordinatorOptions b_options = a_options;
  b_options.run_id = "run-b";
  b_options.token = "tb";
  auto a = std::make_shared<Coordinator>(plan, std::vector<report::Threshold>{}, a_options);
  auto b = std::make_shared<Coordinator>(plan, std::vector<report::Threshold>{}, b_options);
  Hub hub;
  hub.add("run-a", a);
  hub.add("run-b", b);
  auto server = GrpcServer::start(hub, ServerOptions{});
  ASSERT_TRUE(server.ok()) << server.error().describe();
  auto channel = grpc::CreateChannel(fmt::format("127.0.0.1:{}", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Coordinator::NewStub(channel);
  auto first = [&](const std::string& run, const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub->Connect(&context);
    v1::AgentMessage hello;
    hello.mutable_hello()->set_protocol_version(1);
    hello.mutable_hello()->set_agent_id("agent");
    hello.mutable_hello()->set_run_id(run);
    hello.mutable_hello()->set_token(token);
    stream->Write(hello);
    v1::CoordinatorMessage reply;
    EXPECT_TRUE(stream->Read(&reply));
    context.TryCancel();
    stream->Finish();
    return reply;
  };
  auto to_a = first("run-a", "ta");
  ASSERT_TRUE(to_a.has_welcome());
  EXPECT_EQ(to_a.welcome().run_id(), "run-a");
  auto to_b = first("run-b", "tb");
  ASSERT_TRUE(to_b.has_welcome());
  EXPECT_EQ(to_b.welcome().run_id(), "run-b");
  EXPECT_EQ(first("run-b", "ta").refused().reason(), v1::Refused::BAD_TOKEN);  // each run keeps its own token
  EXPECT_EQ(first("run-c", "ta").refused().reason(), v1::Refused::UNKNOWN_RUN);
  EXPECT_EQ(first("", "ta").refused().reason(), v1::Refused::UNKNOWN_RUN);  // two runs: a run id is needed
  a->requestStop("the LoadTest was deleted");
  auto ended = a->run();
  ASSERT_FALSE(ended.ok());
  EXPECT_NE(ended.error().message.find("stopped before the start: the LoadTest was deleted"), std::string::npos);
  hub.remove("run-a");
  EXPECT_EQ(first("run-a", "ta").refused().reason(), v1::Refused::UNKNOWN_RUN);
  (*server)->shutdown();
  hub.remove("run-b");
}

}  // namespace
}  // namespace herd::coordinator
