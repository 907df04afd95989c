#pragma once
// The coordinator's record of one agent (private to coordinator*.cc).
#include <optional>

#include "common/coordinator/coordinator.h"

namespace herd::coordinator {

struct Coordinator::Agent {
  std::string id;
  std::string peer;
  std::shared_ptr<Connection> connection;  // null while disconnected
  AgentState state = AgentState::kConnected;
  v1::Capacity capacity;
  std::vector<UserRange> ranges;
  uint64_t generation = 0;
  uint32_t shard_index = 0;
  uint64_t applied = 0;  // the newest report sequence merged
  MonoTime last_heard{};
  MonoTime last_sent{};  // the last Ack or heartbeat sent: the agent heard from us then
  uint64_t acked = 0;    // the sequence the last Ack carried
  bool ready = false;    // said Ready: compiled the scenario and reached the targets
  bool final_received = false;
  bool retired = false;  // scaled away: stopped on purpose, its users moved, not lost
  int64_t users = 0;
  double busy = 0;
  uint64_t requests = 0;
  uint64_t failures = 0;
  int64_t first_spawn_unix = 0;
  int64_t first_spawn_late = 0;
  int reconnects = 0;
  double ended_at = -1;              // seconds since the start: final report applied, or marked lost
  std::optional<v1::Resume> resume;  // what it said it runs when it joined
  uint64_t replay_until = 0;         // adopted: the newest report it had sent before (its history ends there)
  // What the totals hold of it (coordinator_missing.cc): the seconds its first
  // and newest merged reports end at, and whether it was ever given users.
  uint64_t first_tick = 0;
  uint64_t last_tick = 0;
  bool had_users = false;
};

}  // namespace herd::coordinator
