// Before authentication the coordinator risks little: 1,000 connections that
// open a stream and never send a Hello cost no thread each and little memory,
// are closed at --hello-timeout, and a real agent that joins meanwhile is
// admitted and runs its load against a real nginx.
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "herd/v1/agent.grpc.pb.h"
#include "tests/support/nginx_server.h"
#include "tests/support/process.h"

namespace herd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kSilent = 1000;
constexpr auto kHelloTimeout = 12s;  // long enough for the flood to be accepted and the agent to join on a busy machine
// The run outlasts the deadline and the idle close after it (one more
// hello_timeout once a connection has no stream), with a hello_timeout to
// spare for a busy machine: the fds are checked in a coordinator that still runs.
constexpr auto kRunSeconds = 3 * kHelloTimeout.count();

std::string readAll(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A field of /proc/PID/status ("Threads", "VmRSS" in kB).
int64_t procStatus(pid_t pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

int64_t openFds(pid_t pid) {
  int64_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(fmt::format("/proc/{}/fd", pid), ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++n;
  return n;
}

// Sockets only: the accepted connections, not the pipes, eventfds or /proc
// files gRPC and the logger open and close meanwhile.
int64_t openSockets(pid_t pid) {
  int64_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(fmt::format("/proc/{}/fd", pid), ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code link_ec;
    if (fs::read_symlink(it->path(), link_ec).string().starts_with("socket:")) ++n;
  }
  return n;
}

// Polls `done` every 20 ms until it holds or `limit` passes.
template <typename F>
bool waitFor(F done, std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// kSilent connections (one channel each, none shared), each with one
// Connect stream that sends nothing and reads until the server ends it.
class Flood {
 public:
  explicit Flood(const std::string& target) {
    for (int i = 0; i < kSilent; ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto call = std::make_unique<Call>();
      call->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
      call->stub = v1::Coordinator::NewStub(call->channel);
      call->context.set_deadline(std::chrono::system_clock::now() + 60s);
      call->stream = call->stub->AsyncConnect(&call->context, &queue_, tag(i, 0));
      calls_.push_back(std::move(call));
    }
  }
  ~Flood() {
    for (auto& call : calls_) call->context.TryCancel();
    step(10s);
    queue_.Shutdown();
    void* t = nullptr;
    bool ok = false;
    while (queue_.Next(&t, &ok)) {
    }
  }
  // Moves every stream on (started → reading → finished) for up to `limit`.
  void step(std::chrono::milliseconds limit) {
    const auto until = std::chrono::system_clock::now() + limit;
    void* t = nullptr;
    bool ok = false;
    while (ended_ < calls_.size() && queue_.AsyncNext(&t, &ok, until) == grpc::CompletionQueue::GOT_EVENT) {
      const auto id = reinterpret_cast<intptr_t>(t);
      auto& call = *calls_[static_cast<size_t>(id >> 2)];
      switch (id & 3) {
        case 0:
          if (ok) ++started_;
          call.stream->Read(&call.reply, tag(id >> 2, 1));
          break;
        case 1:
          if (ok) ++replies_;  // the coordinator must say nothing to a stream that said nothing
          call.stream->Finish(&call.status, tag(id >> 2, 2));
          break;
        default:
          ++ended_;
          if (call.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
              call.status.error_message().find("no Hello") != std::string::npos)
            ++closed_for_no_hello_;
      }
    }
  }
  size_t started() const { return started_; }
  size_t ended() const { return ended_; }
  size_t closedForNoHello() const { return closed_for_no_hello_; }
  size_t replies() const { return replies_; }

 private:
  struct Call {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Coordinator::Stub> stub;
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::AgentMessage, v1::CoordinatorMessage>> stream;
    v1::CoordinatorMessage reply;
    grpc::Status status;
  };
  static void* tag(intptr_t call, int step) { return reinterpret_cast<void*>((call << 2) | step); }

  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<Call>> calls_;
  size_t started_ = 0, ended_ = 0, closed_for_no_hello_ = 0, replies_ = 0;
};

struct Sample {
  int64_t threads = 0, rss_kb = 0, fds = 0;
};

Sample sample(pid_t pid) { return {procStatus(pid, "Threads"), procStatus(pid, "VmRSS"), openFds(pid)}; }

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rlimit fds{};
    getrlimit(RLIMIT_NOFILE, &fds);
    fds.rlim_cur = fds.rlim_max;  // 1,000 client sockets and their pipes
    setrlimit(RLIMIT_NOFILE, &fds);
    ASSERT_GE(fds.rlim_cur, rlim_t{kSilent + 200}) << "the fd limit is too low for this test";
    dir_ = fs::temp_directory_path() / fmt::format("herd-admission-{}", getpid());
    fs::create_directories(dir_);
    auto nginx = test_support::NginxServer::start();
    ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
    nginx_ = std::move(*nginx);
  }
  void TearDown() override {
    for (pid_t pid : children_) test_support::stopChild(pid);
    nginx_.reset();
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }
  pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
    auto pid = test_support::spawnChild(argv, dir_ / log);
    EXPECT_TRUE(pid.ok()) << pid.error().describe();
    if (!pid.ok()) return -1;
    children_.push_back(*pid);
    return *pid;
  }

  fs::path dir_;
  std::unique_ptr<test_support::NginxServer> nginx_;
  std::vector<pid_t> children_;
};

TEST_F(AdmissionTest, AThousandSilentStreamsAreClosedAtTheDeadlineWhileARealAgentIsAdmitted) {
  std::ofstream(dir_ / "scenario.yaml") << fmt::format(
      "name: admission\ntarget: {}\nusers: [{{name: u, steps: [{{get: /items/1}}, {{think: 20ms}}]}}]\n"
      "load: {{users: 4, spawnRate: 100, duration: {}s}}\n",
      nginx_->url(), kRunSeconds);
  std::ofstream(dir_ / "token") << "admission-secret\n";
  const pid_t coordinator = spawn(
      {HERD_CLI_BIN, "coordinator", (dir_ / "scenario.yaml").string(), "--listen", "127.0.0.1:0", "--expect-agents",
       "1", "--token-file", (dir_ / "token").string(), "--hello-timeout", fmt::format("{}s", kHelloTimeout.count()),
       "--ready-timeout", "30s", "--summary-json", (dir_ / "summary.json").string()},
      "coordinator.log");
  ASSERT_GT(coordinator, 0);
  std::optional<int> port;
  ASSERT_TRUE(waitFor(
      [&] {
        const auto log = readAll(dir_ / "coordinator.log");
        const auto at = log.find("coordinator listening on port ");
        if (at != std::string::npos) port = std::stoi(log.substr(at + 30));
        return port.has_value();
      },
      10s))
      << readAll(dir_ / "coordinator.log");
  const Sample before = sample(coordinator);
  const int64_t sockets_before = openSockets(coordinator);

  const auto flood_start = Clock::now();
  Flood flood(fmt::format("127.0.0.1:{}", *port));
  while (flood.started() < kSilent && Clock::now() - flood_start < 10s) flood.step(100ms);
  ASSERT_EQ(flood.started(), size_t{kSilent});
  // Every connection is accepted (one socket each) before the agent dials.
  ASSERT_TRUE(waitFor([&] { return openSockets(coordinator) >= sockets_before + kSilent; }, 10s))
      << openSockets(coordinator) << " sockets, " << sockets_before << " before the flood";
  Sample peak = sample(coordinator);

  const pid_t agent = spawn({HERD_CLI_BIN, "agent", "--coordinator", fmt::format("127.0.0.1:{}", *port), "--token-file",
                             (dir_ / "token").string(), "--agent-id", "real", "--workers", "1"},
                            "agent.log");
  ASSERT_GT(agent, 0);
  const bool joined = waitFor(
      [&] {
        flood.step(0ms);
        const auto now = sample(coordinator);
        peak = {std::max(peak.threads, now.threads), std::max(peak.rss_kb, now.rss_kb), std::max(peak.fds, now.fds)};
        return readAll(dir_ / "coordinator.log").find("agent real joined") != std::string::npos;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(kHelloTimeout));
  ASSERT_TRUE(joined) << readAll(dir_ / "coordinator.log");
  EXPECT_EQ(flood.ended(), 0u) << "the agent was admitted while every silent stream was still open";

  // The deadline closes every silent stream, and then their connections.
  while (flood.ended() < kSilent && Clock::now() - flood_start < kHelloTimeout + 10s) {
    flood.step(100ms);
    const auto now = sample(coordinator);
    peak = {std::max(peak.threads, now.threads), std::max(peak.rss_kb, now.rss_kb), std::max(peak.fds, now.fds)};
  }
  const auto closed_after = Clock::now() - flood_start;
  EXPECT_EQ(flood.closedForNoHello(), size_t{kSilent});
  EXPECT_EQ(flood.replies(), 0u);
  EXPECT_GE(closed_after, kHelloTimeout);
  EXPECT_TRUE(waitFor([&] { return openFds(coordinator) <= before.fds + 5; }, kHelloTimeout * 2 + 5s))
      << "connections without a stream stay open: " << openFds(coordinator) << " fds, " << before.fds << " before";
  ASSERT_FALSE(test_support::childExited(coordinator)) << "the fds must drop in a coordinator that still runs";

  const auto after = sample(coordinator);
  fmt::print("coordinator before the flood: {} threads, {} kB RSS, {} fds\n", before.threads, before.rss_kb,
             before.fds);
  fmt::print("coordinator peak with {} silent streams and one agent: {} threads, {} kB RSS, {} fds\n", kSilent,
             peak.threads, peak.rss_kb, peak.fds);
  fmt::print("coordinator after the deadline: {} threads, {} kB RSS, {} fds; all closed {:.1f}s after the flood\n",
             after.threads, after.rss_kb, after.fds, std::chrono::duration<double>(closed_after).count());
  RecordProperty("peak_threads", static_cast<int>(peak.threads));
  RecordProperty("peak_rss_kb", static_cast<int>(peak.rss_kb));
  // No thread per stream: 1,000 streams add at most a few of gRPC's pollers.
  EXPECT_LE(peak.threads, before.threads + 24);
  EXPECT_LE(peak.rss_kb, before.rss_kb + 128 * 1024);

  // The agent runs its load and the run passes.
  ASSERT_TRUE(waitFor([&] { return test_support::childExited(coordinator); }, 60s))
      << readAll(dir_ / "coordinator.log");
  std::ifstream summary(dir_ / "summary.json");
  std::stringstream text;
  text << summary.rdbuf();
  EXPECT_NE(text.str().find("\"verdict\": \"passed\""), std::string::npos) << text.str().substr(0, 400);
  EXPECT_GT(nginx_->requestCountFromAccessLog("/items/1"), 0);
}

}  // namespace
}  // namespace herd
