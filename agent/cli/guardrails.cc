// `herd run`'s guardrails: the limits a shared CI runner sets on what a scenario
// (or its author's flags) may do, checked by the same rules as the operator's
// (common/scenario/guardrails.h). The error names the flag that refuses the run.
#include <fmt/format.h>

#include "agent/cli/cli11.h"
#include "agent/cli/commands.h"
#include "common/scenario/compiler.h"
#include "common/scenario/guardrails.h"

namespace herd::cli {

void addGuardrailFlags(CLI::App& command, GuardrailOptions& options) {
  const char* group = "Guardrails (a run beyond them is refused, exit 2)";
  command.add_option("--max-users", options.max_users, "Most users the run may have")
      ->check(CLI::PositiveNumber)
      ->group(group);
  command.add_option("--max-duration", options.max_duration, "Longest load duration the run may have, e.g. 10m")
      ->group(group);
  command.add_option("--max-rate", options.max_rate, "Highest open-model arrival rate, iterations per second")
      ->check(CLI::PositiveNumber)
      ->group(group);
  command
      .add_option("--allow-host", options.allow_hosts,
                  "A host pattern every URL must match: name, *.suffix or IPv4 CIDR (repeatable)")
      ->group(group);
}

Status checkGuardrails(const GuardrailOptions& options, const Compiled& compiled) {
  scenario::RunLimits limits;
  if (options.max_users > 0) limits.max_users = options.max_users;
  if (!options.max_duration.empty()) {
    auto duration = scenario::parseDuration(options.max_duration);
    if (!duration) return Error{duration.error().message, "--max-duration"};
    limits.max_duration = *duration;
  }
  if (options.max_rate > 0) limits.max_rate = options.max_rate;
  limits.allowed_hosts = options.allow_hosts;
  auto violation = scenario::checkRun(compiled, 1, limits);
  if (!violation) return Ok{};
  const char* flag = violation->rule == "maxUsers"      ? "--max-users"
                     : violation->rule == "maxDuration" ? "--max-duration"
                     : violation->rule == "maxRate"     ? "--max-rate"
                                                        : "--allow-host";
  return Error{fmt::format("{} is not allowed (limit: {})", violation->value, violation->limit), flag};
}

}  // namespace herd::cli
