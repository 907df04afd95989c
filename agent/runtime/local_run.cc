#include "agent/runtime/local_run.h"

#include <random>
#include <thread>

#include <fmt/format.h>

#include "agent/runtime/agent_session.h"
#include "common/coordinator/coordinator.h"
#include "common/core/logging.h"
#include "common/scenario/run.h"

namespace herd::runtime {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(20);

std::string makeRunId(const std::string& scenario, uint64_t seed) {
  return fmt::format("{}-{:06x}", scenario, seed & 0xffffff);
}

}  // namespace

// `herd run` is a distributed run with one agent in this process: the same
// coordinator merges, judges and summarises, and the same session runs the
// workers; the protocol messages go by function call instead of gRPC.
Result<LocalRunResult> runLocal(const scenario::CompiledRun& run, const LocalRunOptions& options) {
  const scenario::Plan& plan = run.plan;
  const uint64_t seed = options.seed ? options.seed : std::random_device{}();
  // The coordinator lives in this process and never restarts: reports need not
  // be kept once acknowledged.
  SessionOptions so{"local", "", options.workers, options.insecure, options.ca_file, options.probe_timeout, seed, 0};
  so.processes = options.processes;
  AgentSession session(so);
  if (auto prepared = session.prepare(plan, run.grace); !prepared) return prepared.error();

  coordinator::CoordinatorOptions co;
  co.run_id = makeRunId(plan.name, seed);
  co.expect_agents = 1;
  co.loss_policy = coordinator::LossPolicy::kContinue;
  co.lost_after = std::chrono::hours(24);           // an in-process agent cannot go missing
  co.start_delay = std::chrono::milliseconds(100);  // every worker thread is up before the first spawn
  co.collect_delay = std::chrono::milliseconds(120);
  if (options.processes != 1) {
    // Worker processes start when the users are assigned and report through
    // this process, a hop later.
    co.start_delay = std::chrono::seconds(1);
    co.collect_delay = std::chrono::milliseconds(500);
    co.scenario = options.scenario;
  }
  co.fd_limit = options.fd_limit;
  co.total_users = run.total_users;
  co.grace = run.grace;
  co.on_second = options.on_second;
  co.on_live = options.on_live;
  co.on_abort = options.on_abort;
  co.on_saturated = options.on_saturated;
  co.interrupted = options.interrupted;
  coordinator::Coordinator coordinator(plan, run.thresholds, std::move(co));
  logger("runner")->info("run: {} users, spawn rate {}/s, duration {}s", plan.load.users, plan.load.spawn_rate,
                         std::chrono::duration<double>(plan.load.duration).count());

  auto connection = coordinator.connect("in-process");
  session.attach([&](v1::AgentMessage&& message) { coordinator.receive(connection, message); });
  std::thread pump([&] {
    for (;;) {
      if (auto message = connection->pop(kPoll)) session.onMessage(*message);
      else if (connection->closed()) break;
    }
  });
  v1::AgentMessage hello;
  *hello.mutable_hello() = session.hello("");
  coordinator.receive(connection, hello);
  std::atomic<bool> over{false};
  std::thread driver([&] {
    while (!over.load() && !session.done()) {
      session.poll();
      std::this_thread::sleep_for(kPoll);
    }
  });
  auto result = coordinator.run();
  connection->close();
  pump.join();
  over.store(true);
  driver.join();
  if (!result) return result.error();
  return std::move(*result);
}

}  // namespace herd::runtime
