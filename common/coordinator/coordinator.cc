#include "common/coordinator/coordinator.h"
#include "common/coordinator/agent_record.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "common/core/logging.h"
#include "common/wire/stats_codec.h"

namespace herd::coordinator {

namespace {

constexpr size_t kMaxEvents = 200;  // the summary keeps the first ones
constexpr size_t kMaxEventLength = 500;
// After a second's end, when its report is surely there: an agent sends it
// 80 ms after by its clock (runtime::kReportDelay), and clocks differ a little.
constexpr auto kNextReportMargin = std::chrono::milliseconds(250);

int64_t unixNanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<Nanos>(t.time_since_epoch()).count();
}

v1::CoordinatorMessage heartbeatMessage() {
  v1::CoordinatorMessage message;
  message.mutable_heartbeat()->set_sent_unix_nanos(unixNanos(std::chrono::system_clock::now()));
  return message;
}

}  // namespace

Coordinator::Coordinator(const scenario::Plan& plan, std::vector<report::Threshold> thresholds,
                         CoordinatorOptions options)
    : plan_(&plan),
      thresholds_(std::move(thresholds)),
      options_(std::move(options)),
      aggregate_(plan.endpoints.size()),
      expected_(options_.expect_agents) {
  for (const auto& user_class : plan.classes) {
    if (!user_class.code) continue;
    const auto& code = *user_class.code;
    run_sha256_.push_back(!code.sha256.empty() ? code.sha256 : code.pinned_sha256);
    sha256_source_.push_back(!code.sha256.empty()          ? "the coordinator's file"
                             : !code.pinned_sha256.empty() ? "pinned by the scenario"
                                                           : "");
  }
}

Coordinator::~Coordinator() {
  std::lock_guard lock(mutex_);
  for (auto& [id, agent] : agents_) {
    if (agent->connection) agent->connection->close();
  }
}

std::shared_ptr<Connection> Coordinator::connect(std::string peer) {
  return std::make_shared<Connection>(std::move(peer));
}

Coordinator::Agent* Coordinator::agentFor(const std::shared_ptr<Connection>& connection) {
  auto it = connections_.find(connection.get());
  if (it == connections_.end() || it->second->connection != connection) return nullptr;
  return it->second;
}

void Coordinator::refuse(const std::shared_ptr<Connection>& connection, v1::Refused::Reason reason,
                         const std::string& why) {
  logger("coordinator")->warn("run {}: refused {}: {}", options_.run_id, connection->peer(), why);
  v1::CoordinatorMessage message;
  message.mutable_refused()->set_reason(reason);
  message.mutable_refused()->set_message(why);
  connection->push(std::move(message));
  connection->close();
  connections_.erase(connection.get());
}

void Coordinator::event(const std::string& level, const std::string& message) {
  auto log = logger("coordinator");
  if (level == "error") log->error("run {}: {}", options_.run_id, message);
  else if (level == "warn") log->warn("run {}: {}", options_.run_id, message);
  else log->info("run {}: {}", options_.run_id, message);
  if (events_.size() < kMaxEvents) {
    const double at = phase_ == Phase::kWaiting ? 0.0
                                                : std::chrono::duration<double>(MonoClock::now() - start_).count();
    events_.push_back({{"atSeconds", at}, {"level", level}, {"message", message}});
  }
  if (options_.on_event && level != "info") options_.on_event(message);
}

void Coordinator::receive(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message) {
  std::lock_guard lock(mutex_);
  const auto now = MonoClock::now();
  if (message.has_hello()) {
    onHello(connection, message.hello(), now);
    changed_.notify_all();
    return;
  }
  Agent* agent = agentFor(connection);
  if (!agent) {
    if (!connection->closed())
      refuse(connection, v1::Refused::MALFORMED, "the first message on a stream must be Hello");
    return;
  }
  agent->last_heard = now;
  switch (message.body_case()) {
    case v1::AgentMessage::kReport: onReport(*agent, message.report()); break;
    case v1::AgentMessage::kHeartbeat: break;
    case v1::AgentMessage::kReady: onReady(*agent, message.ready()); break;
    case v1::AgentMessage::kEvent: {
      const auto& e = message.event();
      const std::string text = fmt::format("agent {}: {}", agent->id, e.message().substr(0, kMaxEventLength));
      if (e.level() == "fatal") {
        // The agent cannot run (e.g. the target is unreachable from it, or its input is invalid).
        onFatal(*agent, text, e.exit_code() == 2);
      } else {
        event(e.level() == "warn" || e.level() == "error" ? e.level() : "info", text);
      }
      break;
    }
    default:
      refuse(connection, v1::Refused::MALFORMED, fmt::format("agent {}: a message with no known body", agent->id));
      agent->connection.reset();
      agent->state = AgentState::kDisconnected;
      break;
  }
  // run() polls anyway; waking it matters only when the run may be over.
  if (!message.has_heartbeat() && (!message.has_report() || message.report().final())) changed_.notify_all();
}

void Coordinator::onReady(Agent& agent, const v1::Ready& ready) {
  if (!sameCode(agent, ready)) return;
  agent.ready = true;
  if (phase_ == Phase::kRunning && agent.generation == 0 && !agent.retired) onLateReady(agent);
}

// An agent that cannot run: before the start the run ends with its reason; one
// that joined a running test (scaled up) is let go; one that ran users aborts it.
void Coordinator::onFatal(Agent& agent, const std::string& text, bool invalid_input) {
  if (phase_ == Phase::kWaiting && !fatal_) {
    fatal_ = text;
    fatal_invalid_input_ = invalid_input;
  }
  event("error", text);
  if (phase_ == Phase::kRunning && agent.generation == 0) {
    retiring_.insert(agent.id);
    retire(agent);
    dismiss(agent);
  } else if (phase_ == Phase::kRunning) {
    forced_ = report::Verdict::kError;
    broadcastStop(v1::Stop::ABORT, Nanos(0), text);
  }
}

void Coordinator::onReport(Agent& agent, const v1::Report& report) {
  // A report that cannot be counted ends the stream (on reconnect the agent
  // learns what was applied and resends from there).
  auto drop = [&](const std::string& why) {
    const auto connection = agent.connection;
    refuse(connection, v1::Refused::MALFORMED, why);
    agent.connection.reset();
    agent.state = AgentState::kDisconnected;
  };
  const auto now = MonoClock::now();
  if (report.sequence() <= agent.applied) {  // a resend of something already counted
    ack(agent, now);
    return;
  }
  if (report.sequence() != agent.applied + 1) {
    // A gap: refuse the stream; on reconnect the agent learns what was applied
    // and resends from there.
    drop(fmt::format("agent {}: report {} arrived after {}; reconnect and resend", agent.id, report.sequence(),
                     agent.applied));
    return;
  }
  // Checked whole before anything is counted; merged below straight from the
  // parsed message, without a decoded copy.
  const auto counted = wire::checkStats(report.stats(), plan_->endpoints.size());
  if (!counted) {
    drop(fmt::format("agent {}: report {}: {}", agent.id, report.sequence(), counted.error().describe()));
    return;
  }
  if (phase_ == Phase::kWaiting && !agent.resume) {
    drop(fmt::format("agent {}: a report before the run started", agent.id));
    return;
  }
  if (auto delivered = wire::decodeDelivery(report.delivery(), plan_->streams.size(), delivery_); !delivered) {
    drop(fmt::format("agent {}: report {}: {}", agent.id, report.sequence(), delivered.error().describe()));
    return;
  }
  if (!holdReplayed(agent, report)) wire::mergeStats(report.stats(), aggregate_.intake());
  agent.applied = report.sequence();
  if (agent.first_tick == 0) agent.first_tick = report.tick();
  agent.last_tick = std::max(agent.last_tick, report.tick());
  agent.requests += counted->requests;
  agent.failures += counted->failures;
  agent.users = report.users();
  agent.busy = std::clamp(report.generator_busy(), 0.0, 64.0);
  if (report.first_spawn_unix_nanos() != 0 && agent.first_spawn_unix == 0) {
    agent.first_spawn_unix = report.first_spawn_unix_nanos();
    agent.first_spawn_late = report.first_spawn_late_nanos();
  }
  if (report.final()) {
    agent.final_received = true;
    agent.ended_at = std::chrono::duration<double>(MonoClock::now() - start_).count();
    agent.users = 0;
    const bool was_running = agent.state != AgentState::kLost && agent.state != AgentState::kFinished;
    if (agent.state != AgentState::kLost) agent.state = AgentState::kFinished;
    // An agent ends at the run's duration by its own clock too: a final report
    // that beats the run loop's wake-up at the stop time (a busy machine, clocks
    // a little apart) is not a departure.
    const bool before_the_end = MonoClock::now() < start_ + plan_->load.duration - std::chrono::milliseconds(500);
    if (phase_ == Phase::kRunning && before_the_end && was_running && userCount(agent.ranges) > 0) {
      // It stopped on its own (shut down, scaled away) while the run goes on.
      event("warn", fmt::format("agent {} left the run early; its {} report(s) ({} requests) are counted; policy {}",
                                agent.id, agent.applied, agent.requests, lossPolicyName(options_.loss_policy)));
      applyLossPolicy(agent, "left");
    }
  }
  // An agent reports second k at the start + k s + 80 ms by its clock: the
  // stream need not be read again before the next one is there. Not near the
  // end, where the final report should be read as it comes.
  if (!report.final() && phase_ == Phase::kRunning && agent.connection) {
    const auto next = start_ + std::chrono::seconds(report.tick() + 1) + kNextReportMargin;
    if (next < start_ + plan_->load.duration) agent.connection->readAfter(next);
  }
  // Cumulative: a report that follows an Ack within the interval waits for
  // the next one (heartbeat() sends it); a final report is answered at once.
  if (report.final() || now - agent.last_sent >= options_.ack_interval) ack(agent, now);
  if (report.final() && agent.retired) dismiss(agent);
}

void Coordinator::disconnected(const std::shared_ptr<Connection>& connection, const std::string& why) {
  std::lock_guard lock(mutex_);
  connection->close();
  Agent* agent = agentFor(connection);
  connections_.erase(connection.get());
  if (!agent) return;
  agent->connection.reset();
  if (phase_ == Phase::kWaiting && !agent->resume) {
    // Before the start an agent that leaves just frees its place at the barrier.
    logger("coordinator")->info("run {}: agent {} left before the start ({})", options_.run_id, agent->id, why);
    agents_.erase(agent->id);
  } else if (agent->state == AgentState::kConnected) {
    agent->state = AgentState::kDisconnected;
    logger("coordinator")->info("run {}: agent {} disconnected ({})", options_.run_id, agent->id, why);
  }
  changed_.notify_all();
}

void Coordinator::sendAssignment(Agent& agent) {
  agent.had_users = agent.had_users || !agent.ranges.empty();
  if (!agent.connection) return;
  v1::CoordinatorMessage message;
  auto& a = *message.mutable_assignment();
  a.set_generation(agent.generation);
  for (const auto& range : agent.ranges) {
    auto& r = *a.add_ranges();
    r.set_first(range.first);
    r.set_count(range.count);
  }
  a.set_total_users(totalUsers());
  a.set_shard_index(agent.shard_index);
  a.set_shard_count(static_cast<uint32_t>(agents_.size()));
  agent.connection->push(std::move(message));
}

void Coordinator::sendStart(Agent& agent) {
  if (!agent.connection) return;
  v1::CoordinatorMessage message;
  message.mutable_start()->set_start_unix_nanos(start_unix_nanos_);
  agent.connection->push(std::move(message));
}

void Coordinator::broadcastStop(v1::Stop::Mode mode, Nanos grace, const std::string& reason) {
  if (phase_ == Phase::kRunning || phase_ == Phase::kWaiting) phase_ = Phase::kStopping;
  for (auto& [id, agent] : agents_) {
    if (!agent->connection) continue;
    v1::CoordinatorMessage message;
    message.mutable_stop()->set_mode(mode);
    message.mutable_stop()->set_grace_nanos(grace.count());
    message.mutable_stop()->set_reason(reason);
    agent->connection->push(std::move(message));
  }
}

void Coordinator::markLost(Agent& agent, MonoTime now) {
  agent.state = AgentState::kLost;
  agent.ended_at = std::chrono::duration<double>(now - start_).count();
  if (agent.connection) {
    connections_.erase(agent.connection.get());
    agent.connection->close();
    agent.connection.reset();
  }
  const double silent = std::chrono::duration<double>(now - agent.last_heard).count();
  event("warn", fmt::format("agent {} lost: nothing heard for {:.1f}s; its {} report(s) so far ({} requests) are "
                            "kept; policy {}",
                            agent.id, silent, agent.applied, agent.requests, lossPolicyName(options_.loss_policy)));
  agent.users = 0;
  if (phase_ == Phase::kRunning) applyLossPolicy(agent, "lost");
}

// An agent is gone mid-run (lost, or it left): its users are no longer running.
void Coordinator::applyLossPolicy(Agent& agent, const std::string& how) {
  const auto lost_users = userCount(agent.ranges);
  switch (options_.loss_policy) {
    case LossPolicy::kAbort:
      forced_ = report::Verdict::kAborted;
      broadcastStop(v1::Stop::ABORT, std::min<Nanos>(options_.grace, std::chrono::seconds(1)),
                    fmt::format("agent {} {} and the policy is abort", agent.id, how));
      return;
    case LossPolicy::kContinue:
      event("warn", fmt::format("continuing with {} user(s) fewer (degraded)", lost_users));
      return;
    case LossPolicy::kRebalance: break;
  }
  if (plan_->load.model == scenario::Load::Model::kOpen) {
    // Arrivals are dealt to agents by their shard; users alone cannot move them.
    event("warn", fmt::format("the open model does not move arrivals: continuing without agent {}'s share ({} user(s))",
                              agent.id, lost_users));
    return;
  }
  std::vector<Agent*> receivers;
  for (auto& [id, other] : agents_) {
    if (active(*other) && (other->generation > 0 || other->ready)) {
      receivers.push_back(other.get());
    }
  }
  if (receivers.empty()) {
    forced_ = report::Verdict::kError;
    event("error", "no agent is left to run the users; the run cannot go on");
    broadcastStop(v1::Stop::ABORT, Nanos(0), "no agent is left");
    return;
  }
  const auto shares = splitRanges(agent.ranges, receivers.size());
  agent.ranges.clear();
  ++generation_;
  // Should the lost agent come back, this empty, newer assignment stops its users.
  agent.generation = generation_;
  for (size_t i = 0; i < receivers.size(); ++i) {
    auto& receiver = *receivers[i];
    receiver.ranges.insert(receiver.ranges.end(), shares[i].begin(), shares[i].end());
    receiver.generation = generation_;
    sendAssignment(receiver);
  }
  event("info", fmt::format("rebalanced {} user(s) of agent {} onto {} agent(s) (generation {})", lost_users, agent.id,
                            receivers.size(), generation_));
}

void Coordinator::checkLiveness(MonoTime now) {
  std::lock_guard lock(mutex_);
  // A quarter of the shorter of the two intervals (at most 500 ms): an agent
  // hears from the coordinator, and a silent one is found lost, that much late
  // at most.
  if (now < next_liveness_walk_) return;
  next_liveness_walk_ = now + std::min<Nanos>(
                                  {options_.ack_interval / 4, options_.lost_after / 4, std::chrono::milliseconds(500)});
  heartbeat(now);
  if (phase_ != Phase::kRunning && phase_ != Phase::kStopping) return;
  for (auto& [id, agent] : agents_) {
    if (agent->state != AgentState::kConnected && agent->state != AgentState::kDisconnected) continue;
    if (now - agent->last_heard < options_.lost_after) continue;
    // Scaled away, or joined mid-run and never given users: not a lost agent.
    if (agent->retired || agent->generation == 0) retiredSilent(*agent);
    else markLost(*agent, now);
  }
}

// Every report up to `agent.applied` is counted: sent now, it is also the
// agent's proof that the coordinator is alive.
void Coordinator::ack(Agent& agent, MonoTime now) {
  v1::CoordinatorMessage message;
  message.mutable_ack()->set_sequence(agent.applied);
  agent.connection->push(std::move(message));
  agent.acked = agent.applied;
  agent.last_sent = now;
}

// Agents watch the stream too: silence from the coordinator makes them redial.
// Any message proves the stream alive, so an agent gets something only when
// nothing went to it for the Ack interval: the Ack of the reports applied since
// the last one, else (nothing new) a heartbeat. An agent reporting once a second
// gets one write per interval instead of one per report. Called from each
// liveness walk (at most a quarter of the interval apart) and while waiting
// for the agents, so no agent waits much longer.
void Coordinator::heartbeat(MonoTime now) {
  for (auto& [id, agent] : agents_) {
    if (!agent->connection || now - agent->last_sent < options_.ack_interval) continue;
    if (agent->applied > agent->acked) {
      ack(*agent, now);
      continue;
    }
    agent->connection->push(heartbeatMessage());
    agent->last_sent = now;
  }
}

bool Coordinator::allFinished() const {
  for (const auto& [id, agent] : agents_) {
    if (agent->state == AgentState::kConnected || agent->state == AgentState::kDisconnected) return false;
  }
  return true;
}

int64_t Coordinator::liveUsers() const {
  int64_t users = 0;
  for (const auto& [id, agent] : agents_) {
    if (agent->state != AgentState::kLost) users += agent->users;
  }
  return users;
}

double Coordinator::busiest() const {
  double busy = 0;
  for (const auto& [id, agent] : agents_) busy = std::max(busy, agent->busy);
  return busy;
}

void Coordinator::requestStop(const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (phase_ == Phase::kWaiting) {
    fatal_ = "stopped before the start: " + reason;
  } else if (phase_ == Phase::kRunning) {
    event("info", "stop requested: " + reason);
    broadcastStop(v1::Stop::STOP, options_.grace, reason);
  }
  changed_.notify_all();
}

void Coordinator::requestAbort(const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (phase_ == Phase::kWaiting) {
    fatal_ = "aborted before the start: " + reason;
  } else if (phase_ == Phase::kRunning || phase_ == Phase::kStopping) {
    forced_ = report::Verdict::kAborted;
    event("warn", "abort requested: " + reason);
    broadcastStop(v1::Stop::ABORT, std::min<Nanos>(options_.grace, std::chrono::seconds(1)), reason);
  }
  changed_.notify_all();
}

LiveStatus Coordinator::status() const {
  std::lock_guard lock(mutex_);
  LiveStatus out;
  switch (phase_) {
    case Phase::kWaiting: out.phase = adopted_at_ ? "running" : "waiting"; break;  // adopting: the agents run
    case Phase::kRunning: out.phase = "running"; break;
    case Phase::kStopping: out.phase = "stopping"; break;
    case Phase::kDone: out.phase = "done"; break;
  }
  out.expected_agents = expected_;
  for (const auto& [id, agent] : agents_) {
    // Agents scaled away are on their way out: not counted as the run's.
    out.connected_agents += agent->connection && !agent->retired ? 1 : 0;
    out.ready_agents += agent->connection && agent->ready && !agent->retired ? 1 : 0;
    out.lost_agents += agent->state == AgentState::kLost ? 1 : 0;
  }
  out.users = liveUsers();
  const auto totals = aggregate_.total().totals();
  out.requests = totals.requests;
  out.failures = totals.failures;
  if (!aggregate_.series().empty()) out.rps = static_cast<double>(aggregate_.series().back().requests);
  out.p50_ms = report::toMillis(totals.latency.valueAtPercentile(50));
  out.p95_ms = report::toMillis(totals.latency.valueAtPercentile(95));
  out.p99_ms = report::toMillis(totals.latency.valueAtPercentile(99));
  out.latency = report::fleetLatencyBuckets(totals.latency);
  return out;
}

uint64_t Coordinator::mergedRequests() const {
  std::lock_guard lock(mutex_);
  return aggregate_.total().requests();
}

size_t Coordinator::connectedAgents() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [id, agent] : agents_) n += agent->connection ? 1 : 0;
  return n;
}

}  // namespace herd::coordinator
