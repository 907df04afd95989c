// Admitting agents: a Hello checked, a new agent at the barrier or a known one
// on a new stream, and the Welcome that brings it up to date with the run.
#include <fmt/format.h>

#include "common/coordinator/agent_record.h"
#include "common/coordinator/coordinator.h"
#include "common/core/crypto.h"
#include "common/core/logging.h"

namespace herd::coordinator {

namespace {

constexpr size_t kMaxAgentIdLength = 128;

}  // namespace

// Why a Hello cannot be admitted whatever the run's state; nullopt if it can.
std::optional<std::pair<v1::Refused::Reason, std::string>> Coordinator::helloProblem(const v1::Hello& hello) const {
  if (hello.protocol_version() != kProtocolVersion) {
    return std::pair{v1::Refused::VERSION_MISMATCH,
                     fmt::format("protocol version mismatch: the agent (herd {}) speaks version {}, this coordinator "
                                 "speaks version {}; run the same herd version on both sides",
                                 hello.herd_version().substr(0, 40), hello.protocol_version(), kProtocolVersion)};
  }
  if (!options_.token.empty() && !equalInConstantTime(options_.token, hello.token())) {
    return std::pair{v1::Refused::BAD_TOKEN, std::string("wrong or missing run token")};
  }
  if (!hello.run_id().empty() && hello.run_id() != options_.run_id) {
    return std::pair{v1::Refused::UNKNOWN_RUN, fmt::format("unknown run \"{}\" (this coordinator runs \"{}\")",
                                                           hello.run_id().substr(0, 100), options_.run_id)};
  }
  if (hello.agent_id().empty() || hello.agent_id().size() > kMaxAgentIdLength) {
    return std::pair{v1::Refused::MALFORMED, std::string("agent_id must be 1 to 128 characters")};
  }
  return std::nullopt;
}

// A known agent on a new stream (a reconnect, or back after being lost).
Coordinator::Agent& Coordinator::rejoin(Agent& agent, const std::shared_ptr<Connection>& connection) {
  if (agent.connection && agent.connection != connection) {
    // The agent dialled again before we saw its old stream end: the new one wins.
    connections_.erase(agent.connection.get());
    agent.connection->close();
  }
  ++agent.reconnects;
  if (agent.state == AgentState::kLost) {
    event("warn",
          fmt::format("agent {} is back after being lost; its reports count again{}", agent.id,
                      options_.loss_policy == LossPolicy::kRebalance ? " (its users stay with the others)" : ""));
  } else if (phase_ != Phase::kWaiting) {
    logger("coordinator")->info("run {}: agent {} reconnected from {}", options_.run_id, agent.id, connection->peer());
  }
  if (agent.state != AgentState::kFinished) agent.state = AgentState::kConnected;
  return agent;
}

// A new agent: at the barrier, or one that already runs this run's users (a
// restarted coordinator adopting it). Null when refused.
Coordinator::Agent* Coordinator::join(const std::shared_ptr<Connection>& connection, const v1::Hello& hello) {
  const bool adopting = hello.has_resume() && hello.resume().generation() > 0;
  if (phase_ != Phase::kWaiting && !adopting && (phase_ != Phase::kRunning || growthProblem())) {
    refuse(connection, v1::Refused::RUN_FULL, "the run has already started with its agents");
    return nullptr;
  }
  if (retiring_.contains(hello.agent_id())) {
    refuse(connection, v1::Refused::RUN_FULL, "this agent was scaled away from the run");
    return nullptr;
  }
  if (activeAgents() >= expected_) {
    refuse(connection, v1::Refused::RUN_FULL, fmt::format("the run expects {} agent(s) and has them all", expected_));
    return nullptr;
  }
  auto created = std::make_unique<Agent>();
  created->id = hello.agent_id();
  if (adopting) adopt(*created, hello.resume());
  return agents_.emplace(created->id, std::move(created)).first->second.get();
}

// Everything a (re)connected agent needs to catch up with the run.
void Coordinator::welcome(Agent& agent) {
  v1::CoordinatorMessage welcome;
  auto& w = *welcome.mutable_welcome();
  w.set_run_id(options_.run_id);
  *w.mutable_scenario() = options_.scenario;
  w.set_applied_sequence(agent.applied);
  w.set_heartbeat_interval_ms(static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.heartbeat_interval).count()));
  agent.connection->push(std::move(welcome));
  if (agent.generation > 0) sendAssignment(agent);
  if (start_unix_nanos_ != 0 && phase_ != Phase::kWaiting) sendStart(agent);
  if (phase_ == Phase::kStopping || (agent.retired && phase_ == Phase::kRunning)) {
    v1::CoordinatorMessage stop;
    stop.mutable_stop()->set_mode(forced_ ? v1::Stop::ABORT : v1::Stop::STOP);
    stop.mutable_stop()->set_grace_nanos(forced_ ? 0 : options_.grace.count());
    agent.connection->push(std::move(stop));
  }
}

void Coordinator::onHello(const std::shared_ptr<Connection>& connection, const v1::Hello& hello, MonoTime now) {
  if (connections_.contains(connection.get())) {
    refuse(connection, v1::Refused::MALFORMED, "Hello sent twice on one stream");
    return;
  }
  if (auto problem = helloProblem(hello)) {
    refuse(connection, problem->first, problem->second);
    return;
  }
  const auto& id = hello.agent_id();
  auto it = agents_.find(id);
  if (phase_ == Phase::kDone) {
    if (it == agents_.end()) {
      refuse(connection, v1::Refused::RUN_OVER, "the run is over");
      return;
    }
    // A known agent that lost the end of the run: what was counted, and goodbye.
    v1::CoordinatorMessage welcome;
    welcome.mutable_welcome()->set_run_id(options_.run_id);
    welcome.mutable_welcome()->set_applied_sequence(it->second->applied);
    connection->push(std::move(welcome));
    v1::CoordinatorMessage finished;
    finished.mutable_finished()->set_exit_code(0);
    connection->push(std::move(finished));
    connection->close();
    return;
  }
  Agent* agent = it != agents_.end() ? &rejoin(*it->second, connection) : join(connection, hello);
  if (!agent) return;
  agent->peer = connection->peer();
  agent->connection = connection;
  agent->capacity = hello.capacity();
  agent->last_heard = now;
  connections_[connection.get()] = agent;
  welcome(*agent);
  logger("coordinator")
      ->info("run {}: agent {} joined from {} ({} of {} expected)", options_.run_id, id, connection->peer(),
             activeAgents(), expected_);
}

}  // namespace herd::coordinator
