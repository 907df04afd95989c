// herd_coordinator_bench HERD_BINARY [AGENTS] [SECONDS]
//
// Starts a real `herd coordinator` process and connects AGENTS (default 200)
// simulated agents to it over gRPC on loopback. Each agent sends what a real one
// does: a delta report once a second (5 endpoints, 1000 requests each spread
// over a realistic latency range, so a few hundred histogram buckets, plus a few
// error counts); like a real agent it sends no heartbeat while it reports. After a warm-up it measures the
// coordinator process's CPU time (user + system, from /proc) over SECONDS
// (default 20) of wall time and prints it as a percentage of one core. At the
// end every agent sends its final report and the coordinator's summary must
// count exactly what was sent, so the number is for correct merging. It also
// prints the coordinator's resident memory and threads at the end of the
// measured window, and the size of the summary.json it wrote.
//
// No load is generated: the scenario's target is never contacted.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "common/stats/recorder.h"
#include "common/wire/stats_codec.h"
#include "herd/v1/agent.grpc.pb.h"

namespace {

using namespace std::chrono_literals;
using herd::v1::AgentMessage;
using herd::v1::CoordinatorMessage;

constexpr int kEndpoints = 5;
constexpr uint64_t kRequestsPerEndpoint = 1000;

const char* kScenario = R"(name: bench
target: http://127.0.0.1:9
users:
  - name: u
    steps: [{get: /a}, {get: /b}, {get: /c}, {get: /d}, {get: /e}]
load: {users: 2000, spawnRate: 100000, duration: DURATION}
)";

// The whole file; empty when it cannot be read.
std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

double cpuSeconds(pid_t pid) {
  const std::string text = readFile(fmt::format("/proc/{}/stat", pid));
  // Fields after the command (which may hold spaces) start after the last ')'.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "Name:   1234 kB" line of /proc/PID/status, in KiB (the number for Threads).
long statusField(pid_t pid, const std::string& name) {
  std::istringstream text(readFile(fmt::format("/proc/{}/status", pid)));
  for (std::string line; std::getline(text, line);) {
    if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1));
  }
  return -1;
}

// One second of an agent's measurements: latencies log-normal around 2 ms.
herd::v1::StatsDelta sampleDelta(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> latency(std::log(2e6), 0.6);
  herd::stats::Recorder recorder(kEndpoints);
  for (int e = 0; e < kEndpoints; ++e) {
    for (uint64_t i = 0; i < kRequestsPerEndpoint; ++i) {
      const bool failed = i % 200 == 0;
      recorder.recordRequest(static_cast<size_t>(e), static_cast<uint64_t>(latency(rng)), 512, 128,
                             failed ? herd::stats::ErrorKind::kStatus : herd::stats::ErrorKind::kNone,
                             failed ? 503 : 0);
    }
  }
  herd::v1::StatsDelta delta;
  herd::wire::encodeStats(recorder, delta);
  return delta;
}

struct SimulatedAgent {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<AgentMessage, CoordinatorMessage>> stream;
  std::atomic<int64_t> start_unix_nanos{0};  // from Start
  std::atomic<bool> started{false};
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  uint64_t sequence = 0;
  uint64_t requests_sent = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} HERD_BINARY [AGENTS] [SECONDS]\n", argv[0]);
    return 2;
  }
  const std::string herd = argv[1];
  const int agents = argc > 2 ? std::atoi(argv[2]) : 200;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 20;
  const int duration = seconds + 8;

  char dir_template[] = "/tmp/herd-coordinator-bench-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  std::string scenario = kScenario;
  scenario.replace(scenario.find("DURATION"), 8, fmt::format("{}s", duration));
  std::ofstream(dir + "/bench.yaml") << scenario;
  std::ofstream(dir + "/token") << "bench-token\n";

  // The coordinator under test: the real binary, in its own process.
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return 3;
  const pid_t coordinator = fork();
  if (coordinator == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    close(out_pipe[0]);
    std::freopen((dir + "/coordinator.err").c_str(), "w", stderr);
    const auto agents_flag = std::to_string(agents);
    execl(herd.c_str(), herd.c_str(), "coordinator", (dir + "/bench.yaml").c_str(), "--listen", "127.0.0.1:0",
          "--expect-agents", agents_flag.c_str(), "--token-file", (dir + "/token").c_str(), "--summary-json",
          (dir + "/summary.json").c_str(), "--log-level", "warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  FILE* out = fdopen(out_pipe[0], "r");
  char line[512] = {};
  int port = 0;
  if (!std::fgets(line, sizeof line, out) || std::sscanf(line, "herd: coordinator listening on port %d", &port) != 1) {
    fmt::print(stderr, "the coordinator did not start; see {}/coordinator.err\n", dir);
    return 3;
  }
  // Keep draining its progress output so it never blocks on a full pipe.
  std::thread drain([out] {
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, out)) {
    }
  });

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // as a real agent's channel (coordinator_client.cc)
  std::vector<std::unique_ptr<SimulatedAgent>> sims;
  std::vector<std::thread> threads;
  std::vector<herd::v1::StatsDelta> deltas;
  for (int i = 0; i < 8; ++i) deltas.push_back(sampleDelta(static_cast<uint64_t>(i)));
  // A handful of channels, as agents on a few machines would each have their own connection.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < agents; ++i) {
    channels.push_back(
        grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", port), grpc::InsecureChannelCredentials(), args));
  }
  for (int i = 0; i < agents; ++i) {
    auto sim = std::make_unique<SimulatedAgent>();
    auto stub = herd::v1::Coordinator::NewStub(channels[static_cast<size_t>(i)]);
    sim->stream = stub->Connect(&sim->context);
    AgentMessage hello;
    hello.mutable_hello()->set_protocol_version(1);
    hello.mutable_hello()->set_agent_id(fmt::format("sim-{:03}", i));
    hello.mutable_hello()->set_token("bench-token");
    sim->stream->Write(hello);
    AgentMessage ready;
    ready.mutable_ready();
    sim->stream->Write(ready);
    auto* s = sim.get();
    threads.emplace_back([s] {
      CoordinatorMessage message;
      while (s->stream->Read(&message)) {
        if (message.has_start()) {
          s->start_unix_nanos = message.start().start_unix_nanos();
          s->started = true;
        }
        if (message.has_stop()) s->stop = true;
        if (message.has_finished()) {
          s->finished = true;
          break;
        }
      }
      s->stop = true;  // the stream is over: nothing more to send
    });
    threads.emplace_back([s, i, &deltas] {
      // As a real agent waiting for the start: a heartbeat a second.
      auto beat = std::chrono::steady_clock::now() + 1s;
      while (!s->started && !s->stop) {
        std::this_thread::sleep_for(50ms);
        if (std::chrono::steady_clock::now() < beat) continue;
        AgentMessage heartbeat;
        heartbeat.mutable_heartbeat()->set_sent_unix_nanos(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count()));
        s->stream->Write(heartbeat);
        beat += 1s;
      }
      // As a real agent: second k is reported at the start + k s + 80 ms by the
      // agent's clock; the agents' clocks are spread over 100 ms here.
      const auto start = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::nanoseconds(s->start_unix_nanos)));
      const auto skew = std::chrono::milliseconds((i * 7) % 100 - 50);
      // A report a second, and so no heartbeat (an agent sends one only after a
      // second in which it sent nothing else).
      for (uint64_t tick = 1; !s->stop; ++tick) {
        std::this_thread::sleep_until(start + std::chrono::seconds(tick) + 80ms + skew);
        if (s->stop) break;
        AgentMessage report;
        report.mutable_report()->set_sequence(++s->sequence);
        report.mutable_report()->set_tick(tick);
        report.mutable_report()->set_users(10);
        report.mutable_report()->set_generator_busy(0.3);
        *report.mutable_report()->mutable_stats() = deltas[(static_cast<size_t>(i) + tick) % deltas.size()];
        s->requests_sent += kEndpoints * kRequestsPerEndpoint;
        s->stream->Write(report);
      }
      AgentMessage last;
      last.mutable_report()->set_sequence(++s->sequence);
      last.mutable_report()->set_final(true);
      s->stream->Write(last);
    });
    sims.push_back(std::move(sim));
  }
  const auto start_deadline = std::chrono::steady_clock::now() + 60s;
  while (std::any_of(sims.begin(), sims.end(), [](auto& s) { return !s->started; })) {
    if (std::chrono::steady_clock::now() > start_deadline || waitpid(coordinator, nullptr, WNOHANG) != 0) {
      fmt::print(stderr, "the run did not start on every agent within 60 s; see {}/coordinator.err\n", dir);
      kill(coordinator, SIGKILL);
      std::quick_exit(3);  // the simulated agents' threads are not joined
    }
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(3s);  // warm-up: every agent reporting
  const double cpu0 = cpuSeconds(coordinator);
  const auto wall0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double cpu1 = cpuSeconds(coordinator);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const long rss_kib = statusField(coordinator, "VmRSS");
  const long threads_now = statusField(coordinator, "Threads");

  int status = 0;
  waitpid(coordinator, &status, 0);
  for (auto& s : sims) s->context.TryCancel();
  for (auto& t : threads) t.join();
  drain.join();

  uint64_t sent = 0;
  for (auto& s : sims) sent += s->requests_sent;
  const std::string summary = readFile(dir + "/summary.json");
  const auto at = summary.find("\"requests\": ", summary.find("\"totals\""));
  const uint64_t merged = at == std::string::npos ? 0 : std::stoull(summary.substr(at + 12));
  const double percent = (cpu1 - cpu0) / wall * 100;
  fmt::print("coordinator: {} agents x {} requests/s ({} endpoints), a report a second each\n", agents,
             kEndpoints * kRequestsPerEndpoint, kEndpoints);
  fmt::print("coordinator CPU: {:.2f}% of one core over {:.1f}s (user+system of the coordinator process)\n", percent,
             wall);
  fmt::print("coordinator memory: VmRSS {:.1f} MiB at the end of the window ({:.1f} KiB per agent), {} threads\n",
             static_cast<double>(rss_kib) / 1024, static_cast<double>(rss_kib) / agents, threads_now);
  fmt::print("summary.json: {} bytes\n", summary.size());
  fmt::print("merged requests: {} of {} sent; coordinator exit {}\n", merged, sent, WEXITSTATUS(status));
  return merged == sent && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
