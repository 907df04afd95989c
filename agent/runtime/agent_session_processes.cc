// The part of AgentSession that runs its users in worker processes
// (SessionOptions::processes > 1): it starts them, hands each its piece of the
// assignment, and merges their reports into its own.
#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "agent/runtime/agent_session.h"
#include "agent/runtime/process_split.h"
#include "common/core/logging.h"
#include "common/wire/stats_codec.h"

namespace herd::runtime {

// The worker processes run what the assignment names, split by
// splitAssignment(); they are started at the first assignment (under mutex_).
void AgentSession::applyToProcesses() {
  auto log = logger("agent");
  if (!pool_) {
    if (!scenario_) {
      failed_ = "worker processes need the scenario from the coordinator's Welcome";
      finished_ = true;
      return;
    }
    auto pool = ProcessPool::start(processes_, options_.executable, processArgs());
    if (!pool) {
      v1::AgentMessage fatal;
      fatal.mutable_event()->set_level("fatal");
      fatal.mutable_event()->set_message(pool.error().describe());
      sendNow(std::move(fatal));
      stopping_ = true;
      return;
    }
    pool_ = std::move(*pool);
    children_.assign(processes_, Child{});
    v1::CoordinatorMessage welcome;
    welcome.mutable_welcome()->set_run_id(run_id_);
    *welcome.mutable_welcome()->mutable_scenario() = *scenario_;
    v1::CoordinatorMessage start;
    start.mutable_start()->set_start_unix_nanos(start_unix_);
    for (size_t c = 0; c < processes_; ++c) {
      pool_->send(c, welcome);
      pool_->send(c, start);
    }
    log->info("running on {} worker processes", processes_);
  }
  const auto parts = splitAssignment(*assignment_, processes_);
  for (size_t c = 0; c < processes_; ++c) {
    v1::CoordinatorMessage message;
    *message.mutable_assignment() = parts[c];
    pool_->send(c, message);
  }
}

// The flags of `herd worker-process`; the pool adds --fd and --index.
std::vector<std::string> AgentSession::processArgs() const {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  // The cores are shared among the processes: by default each gets its part.
  const size_t workers = options_.workers ? options_.workers
                                          : std::max<size_t>(1, (cores + processes_ - 1) / processes_);
  const auto level = spdlog::level::to_string_view(logger("agent")->level());
  std::vector<std::string> args{"worker-process",
                                "--agent-id",
                                options_.agent_id,
                                "--workers",
                                std::to_string(workers),
                                "--seed",
                                std::to_string(seed_),
                                "--log-level",
                                std::string(level.data(), level.size())};
  if (options_.insecure) args.push_back("--insecure");
  if (!options_.ca_file.empty()) args.insert(args.end(), {"--ca-file", options_.ca_file});
  return args;
}

// Merges what the worker processes sent into this agent's next report, and
// acknowledges it; a process that ended before its final report fails the run.
void AgentSession::collectProcesses() {
  auto log = logger("agent");
  for (auto& [c, message] : pool_->take()) {
    auto& child = children_[c];
    if (message.has_event()) {
      const auto& e = message.event();
      if (e.level() == "fatal") child.finished = true;
      v1::AgentMessage forwarded = message;
      forwarded.mutable_event()->set_message(fmt::format("worker process {}: {}", c, e.message()));
      sendNow(std::move(forwarded));
      continue;
    }
    if (!message.has_report()) continue;  // Ready and heartbeats: nothing to merge
    const auto& r = message.report();
    v1::CoordinatorMessage ack;
    ack.mutable_ack()->set_sequence(r.sequence());
    pool_->send(c, ack);
    if (auto stats = wire::decodeStats(r.stats(), plan_->endpoints.size())) pending_.merge(*stats);
    else log->error("worker process {}: a report that does not decode: {}", c, stats.error().describe());
    if (r.has_delivery()) {
      if (auto s = wire::decodeDelivery(r.delivery(), plan_->streams.size(), delivery_); !s) {
        log->error("worker process {}: delivery records that do not decode: {}", c, s.error().describe());
      }
    }
    child.tick = std::max(child.tick, r.tick());
    child.users = r.final() ? 0 : r.users();
    busy_ = std::max(busy_, r.generator_busy());
    if (r.first_spawn_unix_nanos() != 0) {
      const auto spawned = toMono(r.first_spawn_unix_nanos());
      if (first_spawn_ == MonoTime{} || spawned < first_spawn_) {
        first_spawn_ = spawned;
        first_scheduled_ = spawned - Nanos(r.first_spawn_late_nanos());
      }
    }
    if (r.final()) {
      child.finished = true;
      v1::CoordinatorMessage finished;
      finished.mutable_finished()->set_exit_code(0);
      pool_->send(c, finished);
    }
  }
  for (const auto& ended : pool_->takeEnded()) {
    auto& child = children_[ended.child];
    if (child.finished) continue;
    child.finished = true;
    child.users = 0;
    // Its users' requests since its last report are lost: the run fails
    // (the coordinator aborts it on a fatal event) rather than under-counting quietly.
    const auto why = fmt::format(
        "worker process {} (pid {}) {} before its final report; its last second is not counted", ended.child,
        pool_->pid(ended.child), ended.how);
    log->error("{}", why);
    v1::AgentMessage fatal;
    fatal.mutable_event()->set_level("fatal");
    fatal.mutable_event()->set_message(why);
    sendNow(std::move(fatal));
  }
}

}  // namespace herd::runtime
