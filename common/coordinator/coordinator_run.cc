// Coordinator::run(): the barrier, the start, the per-second loop and the end.
// Message handling lives in coordinator.cc.
#include <algorithm>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "common/coordinator/agent_record.h"
#include "common/coordinator/coordinator.h"
#include "common/core/logging.h"

namespace herd::coordinator {

namespace {

// How often the run loop looks at the agents' liveness; it also wakes exactly at
// the second's boundary, the stop time, and when a message may end the run.
constexpr auto kPoll = std::chrono::milliseconds(100);
// After the stop, how long agents may take beyond their grace to deliver their
// last report before the run ends without it.
constexpr auto kFinalSlack = std::chrono::seconds(5);

double seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Result<RunResult> Coordinator::run() {
  auto log = logger("coordinator");
  log->info("run {}: waiting for {} agent(s)", options_.run_id, expected_);
  if (auto ready = waitForAgents(); !ready) {
    std::lock_guard lock(mutex_);
    phase_ = Phase::kDone;
    for (auto& [id, agent] : agents_) {
      if (!agent->connection) continue;
      v1::CoordinatorMessage message;
      message.mutable_finished()->set_exit_code(fatal_invalid_input_ ? 2 : 3);
      message.mutable_finished()->set_verdict("error");
      agent->connection->push(std::move(message));
      agent->connection->close();
    }
    return ready.error();
  }
  startRun();
  const auto stopped_at = runSeconds();
  int exit_code = 0;
  auto info = finish(stopped_at, exit_code);
  std::lock_guard lock(mutex_);
  return RunResult{std::move(aggregate_), std::move(info), exit_code};
}

Status Coordinator::waitForAgents() {
  std::unique_lock lock(mutex_);
  const auto deadline = MonoClock::now() + options_.ready_timeout;
  for (;;) {
    if (fatal_) return Error{*fatal_, ""};
    size_t connected = 0;
    size_t ready = 0;
    for (const auto& [id, agent] : agents_) {
      connected += agent->connection ? 1 : 0;
      ready += agent->connection && agent->ready ? 1 : 0;
    }
    if (ready >= expected_) return Ok{};
    if (adopted_at_ && adoptionGathered(MonoClock::now())) return Ok{};
    if (options_.interrupted && options_.interrupted->load()) return Error{"interrupted while waiting for agents", ""};
    heartbeat(MonoClock::now());
    if (MonoClock::now() >= deadline) {
      return Error{fmt::format("only {} of {} expected agent(s) connected ({} ready) within {:.0f}s", connected,
                               expected_, ready, seconds(options_.ready_timeout)),
                   "--expect-agents"};
    }
    changed_.wait_for(lock, kPoll);
  }
}

void Coordinator::startRun() {
  std::lock_guard lock(mutex_);
  const auto wall_now = std::chrono::system_clock::now();
  const auto mono_now = MonoClock::now();
  // Agents that already run (a restarted coordinator adopting them) keep their
  // users and their start; the rest of the users go to the others.
  std::vector<UserRange> covered;
  std::vector<Agent*> fresh;
  for (auto& [id, agent] : agents_) {
    if (agent->resume) {
      for (const auto& r : agent->resume->ranges()) covered.push_back(UserRange{r.first(), r.count()});
      agent->ranges.assign(covered.end() - agent->resume->ranges_size(), covered.end());
      generation_ = std::max(generation_, agent->resume->generation());
      if (start_unix_nanos_ == 0) start_unix_nanos_ = agent->resume->start_unix_nanos();
    } else {
      fresh.push_back(agent.get());
    }
  }
  if (start_unix_nanos_ == 0) {
    start_unix_nanos_ = std::chrono::duration_cast<Nanos>((wall_now + options_.start_delay).time_since_epoch()).count();
  }
  // The mono clock and the wall clock tick together for the length of a run.
  start_ = mono_now + (Nanos(start_unix_nanos_) - std::chrono::duration_cast<Nanos>(wall_now.time_since_epoch()));
  auto rest = uncoveredUsers(totalUsers(), covered);
  std::vector<Agent*> receivers = fresh;
  if (receivers.empty() && userCount(rest) > 0) {
    for (auto& [id, agent] : agents_) receivers.push_back(agent.get());
  }
  if (adopted_at_ && userCount(rest) > 0) unadopted(rest, seconds(mono_now - start_));
  const auto shares = splitRanges(rest, receivers.size());
  ++generation_;
  uint32_t shard = 0;
  for (auto& [id, agent] : agents_) agent->shard_index = shard++;
  for (size_t i = 0; i < receivers.size(); ++i) {
    receivers[i]->ranges.insert(receivers[i]->ranges.end(), shares[i].begin(), shares[i].end());
  }
  phase_ = Phase::kRunning;
  for (auto& [id, agent] : agents_) {
    agent->generation = generation_;
    agent->last_heard = mono_now;
    sendAssignment(*agent);
    sendStart(*agent);
    std::vector<std::string> parts;
    for (const auto& r : agent->ranges) parts.push_back(fmt::format("{}..{}", r.first, r.end() - 1));
    logger("coordinator")->info("run {}: agent {} runs users {}", options_.run_id, id, fmt::join(parts, ", "));
  }
  logger("coordinator")
      ->info("run {}: {} users on {} agent(s), start in {:.0f} ms", options_.run_id, totalUsers(), agents_.size(),
             seconds(start_ - mono_now) * 1e3);
}

// Every threshold over the run so far, once a second (under mutex_); an
// abortOnFail one that fails after its delay stops every agent.
void Coordinator::judgeLive(double elapsed_seconds, bool stopping) {
  auto live = report::evaluateLive(thresholds_, *plan_, aggregate_.total(), elapsed_seconds);
  if (live.abort && !stopping && !aborted_by_) {
    aborted_by_ = report::ThresholdAbort{*live.abort, live.results[*live.abort]};
    const auto& failed = aborted_by_->result;
    event("warn", fmt::format("threshold \"{}\" failed at {:.1f}s ({}) and is abortOnFail: stopping every agent",
                              failed.expression, elapsed_seconds, failed.shown));
    if (options_.on_abort) options_.on_abort(failed);
    // In-flight requests may finish for a moment, so what the target saw is still counted.
    broadcastStop(v1::Stop::ABORT, std::min<Nanos>(options_.grace, std::chrono::seconds(1)),
                  fmt::format("threshold \"{}\" failed", failed.expression));
  }
  if (options_.on_live) options_.on_live(aggregate_, live.results);
}

MonoTime Coordinator::runSeconds() {
  const auto stop_at = start_ + plan_->load.duration;
  bool stopping = false;
  bool warned = false;
  MonoTime stopped_at{};
  // A coordinator adopting a running test starts at 1 too: the seconds already
  // past close at once, each with the reports the agents sent again for it.
  bool done = false;
  for (uint64_t second = 1;; ++second) {
    const auto boundary = start_ + std::chrono::seconds(second);
    std::unique_lock lock(mutex_);
    building_ = second;
    for (;;) {
      const auto now = MonoClock::now();
      lock.unlock();
      checkLiveness(now);
      lock.lock();
      const bool interrupted = options_.interrupted && options_.interrupted->load();
      if (!stopping && (now >= stop_at || interrupted || phase_ != Phase::kRunning)) {
        stopping = true;
        stopped_at = std::min(now, stop_at);
        if (phase_ == Phase::kRunning) {
          broadcastStop(v1::Stop::STOP, options_.grace, interrupted ? "interrupted" : "the run's duration is over");
        }
      }
      if (!done && stopping && now >= stopped_at + options_.grace + options_.lost_after + kFinalSlack &&
          !allFinished()) {
        event("error", "agents did not deliver their last reports in time; the summary ends without them");
        done = true;
      }
      done = done || (stopping && allFinished());
      if (done || now >= boundary + options_.collect_delay) break;
      auto wake = std::min<MonoTime>(now + kPoll, boundary + options_.collect_delay);
      if (!stopping) wake = std::min(wake, stop_at);
      changed_.wait_until(lock, wake);
    }
    const double elapsed = seconds(std::min(MonoClock::now(), boundary) - start_);
    // Once done, the seconds of held reports still close (adopted after the
    // end), up to the one after the stop; then whatever is left goes in.
    const auto replayed = mergeHeld(second, false);
    const bool last = done && (held_.empty() || boundary > stopped_at + std::chrono::seconds(1));
    if (last) mergeHeld(second, true);
    const auto sample = aggregate_.closeSecond(elapsed, replayed ? replayed->first : liveUsers(),
                                               replayed ? replayed->second : busiest());
    judgeLive(elapsed, stopping);
    lock.unlock();
    if (options_.on_second) options_.on_second(sample);
    if (!warned && sample.generator_busy_percent > report::RunInfo{}.saturation_percent) {
      warned = true;
      if (options_.on_saturated) options_.on_saturated(sample.generator_busy_percent);
    }
    if (last) break;
  }
  return stopped_at;
}

report::RunInfo Coordinator::finish(MonoTime stopped_at, int& exit_code) {
  std::lock_guard lock(mutex_);
  phase_ = Phase::kDone;
  report::RunInfo info;
  info.run_id = options_.run_id;
  info.start = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(Nanos(start_unix_nanos_)));
  info.duration_seconds = std::max(0.0, seconds(stopped_at - start_));
  info.end = info.start + std::chrono::duration_cast<std::chrono::system_clock::duration>(stopped_at - start_);
  info.agents = static_cast<int>(agents_.size());
  info.fd_limit = options_.fd_limit;
  if (info.fd_limit == 0) {
    for (const auto& [id, agent] : agents_) {
      const auto fds = agent->capacity.fd_limit();
      if (fds != 0 && (info.fd_limit == 0 || fds < info.fd_limit)) info.fd_limit = fds;
    }
  }
  if (!plan_->streams.empty()) {
    // Judged once over every agent's records, after every subscriber stopped listening.
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    info.delivery = stats::judgeDelivery(
        delivery_, plan_->streams.size(),
        std::chrono::duration_cast<std::chrono::microseconds>(plan_->lost_after).count(), now_us);
  }
  info.thresholds = report::finalResults(thresholds_, *plan_, aggregate_.total(), info.duration_seconds, aborted_by_,
                                         info.delivery);
  info.verdict = forced_ ? *forced_ : report::verdictOf(info.thresholds);
  const auto missing = missingTotals();  // adds an event when something is
  info.extra = distributedSummary();
  info.extra.update(missing);
  exit_code = forced_ ? 3 : info.verdict == report::Verdict::kPassed ? 0 : 1;
  for (auto& [id, agent] : agents_) {
    if (!agent->connection) continue;
    v1::CoordinatorMessage message;
    message.mutable_finished()->set_exit_code(exit_code);
    message.mutable_finished()->set_verdict(std::string(report::verdictName(info.verdict)));
    agent->connection->push(std::move(message));
    agent->connection->close();
  }
  return info;
}

// The ids of the agents the summary lists, at most kAgentsListed: every agent's
// line costs ~180 bytes of summary.json (and of the ConfigMap the operator keeps
// it in), so a fleet lists the agents worth a look — those that did not finish
// (lost, incomplete, retired), then the most reconnects, then the most failures —
// and counts the rest by state.
std::set<std::string> Coordinator::listedAgents() const {
  std::vector<const Agent*> ranked;
  for (const auto& [id, agent] : agents_) ranked.push_back(agent.get());
  if (ranked.size() <= kAgentsListed) {
    std::set<std::string> all;
    for (const auto& [id, agent] : agents_) all.insert(id);
    return all;
  }
  auto notable = [](const Agent* a) {
    const bool finished = !a->retired && a->state != AgentState::kLost && a->final_received;
    return std::make_tuple(!finished, a->reconnects, a->failures);
  };
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const Agent* x, const Agent* y) { return notable(x) > notable(y); });
  std::set<std::string> out;
  for (size_t i = 0; i < kAgentsListed; ++i) out.insert(ranked[i]->id);
  return out;
}

Json Coordinator::distributedSummary() const {
  using json = Json;
  json agents = json::array();
  int64_t late_min = INT64_MAX, late_max = INT64_MIN, spawn_min = INT64_MAX, spawn_max = INT64_MIN;
  json by_state = json::object();
  const auto listed = listedAgents();
  for (const auto& [id, agent] : agents_) {
    const char* state = agent->retired                      ? "retired"
                        : agent->state == AgentState::kLost ? "lost"
                        : agent->final_received             ? "finished"
                                                            : "incomplete";
    by_state[state] = by_state.value(state, 0) + 1;
    if (agent->first_spawn_unix != 0) {
      late_min = std::min(late_min, agent->first_spawn_late);
      late_max = std::max(late_max, agent->first_spawn_late);
      spawn_min = std::min(spawn_min, agent->first_spawn_unix);
      spawn_max = std::max(spawn_max, agent->first_spawn_unix);
    }
    if (!listed.contains(id)) continue;
    json ranges = json::array();
    for (const auto& r : agent->ranges) ranges.push_back({r.first, r.count});
    json entry{{"id", id},
               {"state", state},
               {"users", userCount(agent->ranges)},
               {"userRanges", ranges},
               {"reports", agent->applied},
               {"requests", agent->requests},
               {"failures", agent->failures},
               {"reconnects", agent->reconnects}};
    if (agent->ended_at >= 0) entry["endedAtSeconds"] = agent->ended_at;
    if (agent->first_spawn_unix != 0) entry["firstSpawnLateMs"] = static_cast<double>(agent->first_spawn_late) / 1e6;
    agents.push_back(std::move(entry));
  }
  json distributed{{"agentLossPolicy", std::string(lossPolicyName(options_.loss_policy))},
                   {"agents", std::move(agents)},
                   {"agentsTotal", agents_.size()},
                   {"agentsByState", std::move(by_state)}};
  // Start skew: how far apart the agents began against the common schedule
  // (each agent's first user spawns at start + firstIndex/spawnRate).
  distributed["startSkewMs"] = late_min <= late_max ? static_cast<double>(late_max - late_min) / 1e6 : 0.0;
  distributed["firstSpawnSpreadMs"] = spawn_min <= spawn_max ? static_cast<double>(spawn_max - spawn_min) / 1e6 : 0.0;
  return json{{"distributed", std::move(distributed)}, {"events", events_}};
}

}  // namespace herd::coordinator
