#pragma once
// Guardrails: limits a cluster's operators (or a shared CI runner) put on a run,
// checked against the compiled run (run.h) before anything starts. Pure: the
// operator reads its limits from flags and Namespace annotations, `herd run` from
// flags; both ask this one checker, so a rule reads the same everywhere.
//
// The hosts a run can reach are its plan's origins: the target and every absolute
// URL in the scenario (the engine follows no redirects and a template never
// changes the origin), so checking them checks every request.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/scenario/run.h"

namespace herd::scenario {

struct RunLimits {
  std::optional<int64_t> max_users;      // totalUsers(plan)
  std::optional<int64_t> max_agents;     // the agents the front end will start
  std::optional<Duration> max_duration;  // load.duration (the stop grace comes on top)
  // Open model: the highest arrival rate of any stage, in iterations per second.
  // A closed-model run has no rate of its own; max_users bounds it.
  std::optional<double> max_rate;
  // Host patterns (hostMatches); empty: any host.
  std::vector<std::string> allowed_hosts;
};

// Which rule a run breaks and with what value. `rule` is the limit's name
// ("maxUsers", "allowedHosts", ...); front ends say where it was set.
struct Violation {
  std::string rule;
  std::string value;  // the run's value: "50 users", "http://10.0.0.1:80"
  std::string limit;  // "20 users", "[*.perf.svc, 127.0.0.1]"; empty for a yes/no rule
  std::string describe() const {
    return rule + ": " + value + " is not allowed" + (limit.empty() ? "" : " (limit: " + limit + ")");
  }
};

// "example.com" matches that host only; '*' stands for any run of characters
// ("*.perf.svc" matches "shop.perf.svc" and "a.b.perf.svc", not "perf.svc");
// "10.1.0.0/16" matches IPv4 addresses in the block; "*" matches any host.
// Case-insensitive; IPv6 hosts are written without brackets.
bool hostMatches(std::string_view pattern, std::string_view host);

// The first rule the run breaks, in the order the fields above are declared.
std::optional<Violation> checkRun(const CompiledRun& run, int64_t agents, const RunLimits& limits);

// The run limits as command-line flags, shared by `herd run` and herd-operator so
// both spell, explain and read them alike (each declares them with its own
// argument parser). Zero or empty means no limit.
struct RunLimitFlags {
  int64_t max_users = 0;
  int64_t max_agents = 0;
  std::string max_duration;  // "10m"
  double max_rate = 0;
  std::vector<std::string> allow_hosts;
};
struct RunLimitFlagHelp {
  const char* max_users = "most users a run may have (0: no limit)";
  const char* max_agents = "most agents a run may start (0: no limit)";
  const char* max_duration = "longest load duration a run may have, e.g. 30m (the stop grace comes on top)";
  const char* max_rate = "highest open-model arrival rate, iterations per second (0: no limit)";
  const char* allow_hosts =
      "a host pattern every URL must match: name, *.suffix or IPv4 CIDR (repeatable; none: any host)";
};
inline constexpr RunLimitFlagHelp kRunLimitFlagHelp{};
// The flags as limits; a bad duration is an error naming --max-duration.
Result<RunLimits> runLimits(const RunLimitFlags& flags);
// The flag that sets a rule of RunLimits ("maxUsers" -> "--max-users").
std::string_view runLimitFlag(std::string_view rule);

// Limits as flags and annotations write them (errors say what was expected).
Result<int64_t> parseLimitCount(std::string_view text);  // a whole number >= 1
Result<double> parseLimitRate(std::string_view text);    // a number > 0
// "a, b,,c" -> {a, b, c}: comma-separated, blanks dropped.
std::vector<std::string> splitList(std::string_view text);

// The open model's peak arrival rate (iterations per second); 0 for a closed model.
double peakRate(const Plan& plan);

}  // namespace herd::scenario
