// Coordinator::resize(): changing the agent count of a run (`kubectl scale`,
// docs/distributed.md). Growing admits agents mid-run and splits the users evenly over
// the new set; shrinking retires named agents gracefully. Either way every
// agent gets a new generation of absolute assignments (user_split.h:
// resplitUsers), so the newest generation wins and no user runs twice.
#include <algorithm>

#include <fmt/format.h>

#include "common/coordinator/agent_record.h"
#include "common/coordinator/coordinator.h"
#include "common/core/logging.h"

namespace herd::coordinator {

bool Coordinator::active(const Agent& agent) const {
  return !agent.retired && (agent.state == AgentState::kConnected || agent.state == AgentState::kDisconnected);
}

size_t Coordinator::activeAgents() const {
  size_t n = 0;
  for (const auto& [id, agent] : agents_) n += active(*agent) ? 1 : 0;
  return n;
}

// Why agents cannot be added to a running test; nullopt if they can.
std::optional<std::string> Coordinator::growthProblem() const {
  if (plan_->load.model == scenario::Load::Model::kOpen) {
    return std::string(
        "the open model deals arrivals to agents by their shard at the start; it cannot take more agents "
        "mid-run");
  }
  for (const auto& source : plan_->data) {
    if (source.pick == scenario::DataSource::Pick::kUnique) {
      return fmt::format(
          "data source \"{}\" hands out unique rows dealt to agents at the start; it cannot take more "
          "agents mid-run",
          source.name);
    }
  }
  return std::nullopt;
}

Status Coordinator::resize(size_t agents, const std::vector<std::string>& retiring) {
  std::lock_guard lock(mutex_);
  if (agents == 0) return Error{"a run needs at least one agent", "agents"};
  if (phase_ == Phase::kStopping || phase_ == Phase::kDone) return Ok{};  // nothing is moved any more
  if (agents > expected_ && phase_ == Phase::kRunning) {
    if (auto problem = growthProblem()) return Error{*problem, "agents"};
  }
  bool changed = false;
  for (const auto& id : retiring) changed = retiring_.insert(id).second || changed;
  if (agents != expected_) {
    event("info", fmt::format("agent count {} -> {}", expected_, agents));
    expected_ = agents;
    changed = true;
  }
  if (!changed) return Ok{};
  // Named agents first, then the newest (last by id) beyond the count.
  std::vector<Agent*> leaving;
  for (auto& [id, agent] : agents_) {
    if (active(*agent) && retiring_.contains(id)) leaving.push_back(agent.get());
  }
  size_t remaining = activeAgents() - leaving.size();
  for (auto it = agents_.rbegin(); it != agents_.rend() && remaining > expected_; ++it) {
    if (!active(*it->second) || retiring_.contains(it->first)) continue;
    retiring_.insert(it->first);
    leaving.push_back(it->second.get());
    --remaining;
  }
  for (auto* agent : leaving) retire(*agent);
  if (phase_ == Phase::kRunning && !leaving.empty()) {
    resplit(fmt::format("{} agent(s) scaled away", leaving.size()));
  }
  changed_.notify_all();
  return Ok{};
}

// An agent leaves on purpose (under mutex_). Before the start it is simply let
// go; after it, it stops like at the run's end and delivers its final report.
void Coordinator::retire(Agent& agent) {
  agent.retired = true;
  if (phase_ == Phase::kWaiting) {
    event("info", fmt::format("agent {} scaled away before the start", agent.id));
    const std::string id = agent.id;
    dismiss(agent);
    agents_.erase(id);
    return;
  }
  event("info", fmt::format("agent {} scaled away: it stops; its {} report(s) so far ({} requests) count, and so "
                            "does its final one",
                            agent.id, agent.applied, agent.requests));
  agent.ranges.clear();
  if (!agent.connection) return;
  v1::CoordinatorMessage stop;
  stop.mutable_stop()->set_mode(v1::Stop::STOP);
  stop.mutable_stop()->set_grace_nanos(options_.grace.count());
  stop.mutable_stop()->set_reason("scaled away from the run");
  agent.connection->push(std::move(stop));
}

// An agent admitted while the run goes (scaled up, or replacing a lost one)
// compiled the scenario and reached the targets: it takes its share now.
void Coordinator::onLateReady(Agent& agent) {
  uint32_t shard = 0;
  for (const auto& [id, other] : agents_) {
    if (other->generation > 0) shard = std::max(shard, other->shard_index + 1);
  }
  agent.shard_index = shard;
  resplit(fmt::format("agent {} joined", agent.id));
}

// A new generation: the run's users split evenly over the agents that run now
// (those ready or already running), each keeping what it can (under mutex_).
void Coordinator::resplit(const std::string& why) {
  std::vector<Agent*> receivers;
  std::vector<std::vector<UserRange>> held;
  for (auto& [id, agent] : agents_) {
    if (active(*agent) && (agent->generation > 0 || agent->ready)) {
      receivers.push_back(agent.get());
      held.push_back(agent->ranges);
    }
  }
  if (receivers.empty()) return;  // the next agent to become ready takes them all
  const auto shares = resplitUsers(totalUsers(), held);
  ++generation_;
  std::vector<std::string> parts;
  for (size_t i = 0; i < receivers.size(); ++i) {
    receivers[i]->ranges = shares[i];
    parts.push_back(fmt::format("{} {}", receivers[i]->id, userCount(shares[i])));
  }
  for (auto& [id, agent] : agents_) {
    const bool receiving = std::find(receivers.begin(), receivers.end(), agent.get()) != receivers.end();
    if (!receiving) {
      if (agent->generation == 0) continue;  // never had users
      // Retired or lost: this empty, newer assignment stops its users should it come back.
      agent->ranges.clear();
    }
    agent->generation = generation_;
    sendAssignment(*agent);
  }
  event("info", fmt::format("{}: {} users over {} agent(s) (generation {}): {}", why, totalUsers(), receivers.size(),
                            generation_, fmt::join(parts, ", ")));
}

// Goodbye to a retired agent: it has nothing more to do in this run.
void Coordinator::dismiss(Agent& agent) {
  if (!agent.connection) return;
  v1::CoordinatorMessage message;
  message.mutable_finished()->set_exit_code(0);
  agent.connection->push(std::move(message));
  connections_.erase(agent.connection.get());
  agent.connection->close();
  agent.connection.reset();
}

// A retired agent (or one that joined mid-run and never got users) went
// silent before its final report: what it reported counts; it is not lost.
void Coordinator::retiredSilent(Agent& agent) {
  const char* when = agent.retired ? "after being scaled away" : "after joining mid-run, before it had users,";
  agent.retired = true;
  agent.state = AgentState::kFinished;
  agent.ended_at = std::chrono::duration<double>(MonoClock::now() - start_).count();
  agent.users = 0;
  event("warn", fmt::format("agent {} went silent {} before its final report; its {} report(s) ({} requests) are "
                            "counted; it is not lost",
                            agent.id, when, agent.applied, agent.requests));
  if (agent.connection) {
    connections_.erase(agent.connection.get());
    agent.connection->close();
    agent.connection.reset();
  }
}

}  // namespace herd::coordinator
