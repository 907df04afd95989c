// Taking over a running test: a coordinator that starts while the run's agents
// already generate load (an operator restarted, `herd coordinator` restarted
// with the same run id and token). The agents tell it the run's start, their
// users and their assignment's generation (Hello.resume); each sends its whole
// history again from sequence 1 (it keeps every report, docs/distributed.md),
// and the run loop rebuilds the run second by second from it, so the summary
// is the one an uninterrupted coordinator would have written.
#include <algorithm>

#include <fmt/format.h>

#include "common/coordinator/agent_record.h"
#include "common/coordinator/coordinator.h"
#include "common/wire/stats_codec.h"

namespace herd::coordinator {

// A new agent record for an agent that already runs users of this run (under mutex_).
void Coordinator::adopt(Agent& agent, const v1::Resume& resume) {
  agent.resume = resume;
  // Agents before first_kept_sequence hold only what was not acknowledged.
  const uint64_t first_kept = resume.first_kept_sequence() > 0 ? resume.first_kept_sequence()
                                                               : resume.acked_sequence() + 1;
  agent.applied = first_kept - 1;
  agent.replay_until = resume.last_sequence();
  if (start_unix_nanos_ == 0 && resume.start_unix_nanos() != 0) {
    // The run's real start: the seconds and the duration count from it.
    start_unix_nanos_ = resume.start_unix_nanos();
    const auto wall_now = std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch());
    start_ = MonoClock::now() + (Nanos(start_unix_nanos_) - wall_now);
  }
  if (!adopted_at_) adopted_at_ = MonoClock::now();
  std::string late;
  if (phase_ != Phase::kWaiting) {
    // Back after the others were adopted and its users were dealt to them: a
    // newer, empty assignment stops its users, so none runs twice.
    generation_ = std::max(generation_, resume.generation()) + 1;
    agent.generation = generation_;
    // Its history comes now after all: those users are not missing.
    std::vector<UserRange> counted = uncoveredUsers(totalUsers(), unadopted_users_);
    for (const auto& r : resume.ranges()) counted.push_back(UserRange{r.first(), r.count()});
    unadopted_users_ = uncoveredUsers(totalUsers(), counted);
    late = "; it came back after the run resumed, so its users now run on the others";
  }
  std::string missing;
  if (first_kept > 1) {
    missing = fmt::format("; its reports before sequence {} are no longer held by it and are not in this summary",
                          first_kept);
  }
  event(first_kept > 1 || !late.empty() ? "warn" : "info",
        fmt::format("adopted agent {} mid-run (generation {}); it sends its reports again from sequence {}{}{}",
                    agent.id, resume.generation(), first_kept, missing, late));
}

// A report from an adopted agent's history for a second the run loop has not
// closed yet waits for it (under mutex_). False: merge it now.
bool Coordinator::holdReplayed(const Agent& agent, const v1::Report& report) {
  if (report.sequence() > agent.replay_until || report.tick() <= building_) return false;
  auto& held = held_.try_emplace(report.tick(), plan_->endpoints.size()).first->second;
  wire::mergeStats(report.stats(), held.stats);
  held.users += report.final() ? 0 : report.users();
  held.busy = std::max(held.busy, std::clamp(report.generator_busy(), 0.0, 64.0));
  return true;
}

// Before `second` closes: the held reports of it and of earlier seconds (all
// of them when `all`) join the run. Returns the users and busiest generator
// the reports of exactly this second gave, if any were held for it.
std::optional<std::pair<int64_t, double>> Coordinator::mergeHeld(uint64_t second, bool all) {
  std::optional<std::pair<int64_t, double>> out;
  while (!held_.empty() && (all || held_.begin()->first <= second)) {
    auto node = held_.extract(held_.begin());
    aggregate_.add(node.mapped().stats);
    if (node.key() == second) out = std::pair{node.mapped().users, node.mapped().busy};
  }
  return out;
}

// No ready barrier when taking over: the run goes on once every expected agent
// is back with its whole history (a new one: ready), or once `lost_after`
// has passed since the first came back; users of agents still missing then
// go to those present (run() → startRun), and one that comes later is adopted
// with an empty assignment (under mutex_).
bool Coordinator::adoptionGathered(MonoTime now) const {
  if (now >= *adopted_at_ + options_.lost_after) return true;
  if (agents_.size() < expected_) return false;
  return std::all_of(agents_.begin(), agents_.end(), [](const auto& entry) {
    const Agent& agent = *entry.second;
    return agent.resume ? agent.applied >= agent.replay_until : agent.connection && agent.ready;
  });
}

}  // namespace herd::coordinator
