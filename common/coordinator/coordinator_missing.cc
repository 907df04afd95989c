// Totals known to be incomplete: what the coordinator can tell is missing from
// the run's counts, and roughly how much. An agent that ran users and never
// delivered its final report (lost, or too late after the stop) is missing
// from its newest merged report to its end; an adopted agent that no longer
// held its oldest reports is missing their seconds; users whose agents never
// came back to a restarted coordinator are missing up to the restart. The
// summary says so (totalsComplete, missingTotals) and the thresholds, judged on
// what was counted, are marked as such.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/coordinator/agent_record.h"
#include "common/coordinator/coordinator.h"

namespace herd::coordinator {

using json = Json;

namespace {

// The agent's own rate over the seconds its merged reports cover, times the
// seconds missing; nothing when it delivered no second to measure by.
std::optional<int64_t> estimate(uint64_t requests, double covered_seconds, double missing_seconds) {
  if (covered_seconds < 1 || missing_seconds <= 0) return std::nullopt;
  return static_cast<int64_t>(std::llround(static_cast<double>(requests) / covered_seconds * missing_seconds));
}

// The event's text: whose reports, which seconds, about how many requests.
std::string describe(const json& missing, bool unmeasured) {
  std::vector<std::string> parts;
  for (const auto& a : missing["agents"]) {
    parts.push_back(fmt::format("{} {:.0f}s-{:.0f}s",
                                a["agent"].is_string() ? a["agent"].get<std::string>() : "users without an agent",
                                a["fromSecond"].get<double>(), std::ceil(a["toSecond"].get<double>())));
  }
  std::string how_much;
  if (missing.contains("estimatedRequests")) {
    how_much = fmt::format(" (about {} requests{})", missing["estimatedRequests"].get<int64_t>(),
                           unmeasured ? " and more not measurable" : "");
  }
  return fmt::format("the totals are incomplete: no reports from {}{}; thresholds are judged on what was counted",
                     fmt::join(parts, ", "), how_much);
}

json rangesJson(const std::vector<UserRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) out.push_back({r.first, r.count});
  return out;
}

}  // namespace

// Under mutex_: the users of agents that did not come back when the run resumed.
void Coordinator::unadopted(const std::vector<UserRange>& users, double at_seconds) {
  unadopted_users_ = users;
  unadopted_at_ = std::max(0.0, at_seconds);
}

// Under mutex_: {"totalsComplete": bool, "missingTotals": {...} when not}.
json Coordinator::missingTotals() {
  json agents = json::array();
  int64_t estimated = 0;
  bool unmeasured = false;
  auto add = [&](json entry, std::optional<int64_t> guess) {
    if (guess) {
      entry["estimatedRequests"] = *guess;
      estimated += *guess;
    } else {
      unmeasured = true;
    }
    agents.push_back(std::move(entry));
  };
  for (const auto& [id, agent] : agents_) {
    if (!agent->had_users && agent->requests == 0) continue;  // never ran anything
    const double first = agent->first_tick > 0 ? static_cast<double>(agent->first_tick - 1) : 0.0;
    const double covered = static_cast<double>(agent->last_tick) - first;
    if (first > 0 && agent->resume) {
      add({{"agent", id},
           {"reason", "its oldest reports were no longer held when it was adopted"},
           {"fromSecond", 0.0},
           {"toSecond", first}},
          estimate(agent->requests, covered, first));
    }
    if (agent->final_received) continue;
    // It ran until it fell silent: no later than a heartbeat after it was last
    // heard (when it was marked lost the silence limit had passed as well).
    const double heard =
        std::chrono::duration<double>(agent->last_heard - start_ + options_.heartbeat_interval).count();
    const double end = agent->ended_at >= 0 ? std::min(agent->ended_at, heard) : heard;
    const double from = static_cast<double>(agent->last_tick);
    if (end <= from) continue;
    const char* reason = agent->state == AgentState::kLost ? "lost before it delivered these reports"
                                                           : "its last reports did not arrive before the run ended";
    add({{"agent", id}, {"reason", reason}, {"fromSecond", from}, {"toSecond", end}},
        estimate(agent->requests, covered, end - from));
  }
  if (userCount(unadopted_users_) > 0 && unadopted_at_ > 0) {
    add({{"agent", nullptr},
         {"users", rangesJson(unadopted_users_)},
         {"reason", "their agents did not come back when this coordinator took the run over"},
         {"fromSecond", 0.0},
         {"toSecond", unadopted_at_}},
        std::nullopt);
  }
  if (agents.empty()) return {{"totalsComplete", true}};
  json missing{{"agents", agents}, {"thresholds", "judged on the requests counted; the missing ones are in no total"}};
  if (!unmeasured || estimated > 0) missing["estimatedRequests"] = estimated;
  event("warn", describe(missing, unmeasured));
  return {{"totalsComplete", false}, {"missingTotals", std::move(missing)}};
}

}  // namespace herd::coordinator
