#pragma once
// What an agent pod asks of its node when the LoadTest's agentTemplate does not
// say (docs/operator.md, "Agent pod resources"): memory from the users the agent
// runs, and a termination grace period long enough for the agent to stop its
// users and deliver its final report after SIGTERM.
#include <chrono>
#include <cstdint>

#include "common/core/json.h"

#include "common/core/clock.h"

namespace herd::controller {

struct AgentSizing {
  int64_t users_per_agent = 1;
  // How long the agent's users may finish after a stop (the scenario's
  // stop.grace, as the coordinator sends it).
  Nanos stop_grace = std::chrono::seconds(30);
};

// Users per agent for a run of `users` on `agents`: the largest share.
int64_t usersPerAgent(int64_t users, int agents);

// The container's resources: the defaults below, except that a resource (cpu,
// memory, ...) the template names in requests or limits is the template's alone.
//   requests.memory = 64 MiB + 16 KiB × users per agent (rounded up to MiB)
//   limits.memory   = 2 × requests.memory + 64 MiB (the reports an agent keeps)
//   requests.cpu    = 250m, no CPU limit
Json agentResources(const AgentSizing& sizing, const Json& template_resources);

// stop grace (whole seconds, rounded up) + 30 s to deliver the final report.
int64_t agentTerminationGraceSeconds(const AgentSizing& sizing);

}  // namespace herd::controller
