// `herd run`'s guardrails: the limits a shared CI runner sets on what a scenario
// (or its author's flags) may do, checked by the same rules and spelled with the
// same flags as the operator's (common/scenario/guardrails.h). The error names the
// flag that refuses the run.
#include <fmt/format.h>

#include "agent/cli/cli11.h"
#include "agent/cli/commands.h"
#include "common/scenario/compiler.h"
#include "common/scenario/guardrails.h"

namespace herd::cli {

void addGuardrailFlags(CLI::App& command, scenario::RunLimitFlags& flags) {
  const char* group = "Guardrails (a run beyond them is refused, exit 2)";
  const auto& help = scenario::kRunLimitFlagHelp;
  command.add_option("--max-users", flags.max_users, help.max_users)->check(CLI::NonNegativeNumber)->group(group);
  command.add_option("--max-duration", flags.max_duration, help.max_duration)->group(group);
  command.add_option("--max-rate", flags.max_rate, help.max_rate)->check(CLI::NonNegativeNumber)->group(group);
  command.add_option("--allow-host", flags.allow_hosts, help.allow_hosts)->group(group);
}

Status checkGuardrails(const scenario::RunLimitFlags& flags, const Compiled& compiled) {
  auto limits = scenario::runLimits(flags);
  if (!limits) return limits.error();
  auto violation = scenario::checkRun(compiled, 1, *limits);
  if (!violation) return Ok{};
  return Error{fmt::format("{} is not allowed (limit: {})", violation->value, violation->limit),
               std::string(scenario::runLimitFlag(violation->rule))};
}

}  // namespace herd::cli
