#include "operator/main/guardrail_flags.h"

// See main.cc: the pragma covers CLI11's own code only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include <fmt/format.h>

#include "common/scenario/guardrails.h"

namespace herd::operator_main {

void addGuardrailFlags(CLI::App& app, GuardrailFlags& flags) {
  const char* group = "Guardrails (per namespace: herd.dev/* annotations on the Namespace)";
  const auto& help = scenario::kRunLimitFlagHelp;
  auto& limits = flags.limits;
  app.add_option("--max-users", limits.max_users, help.max_users)->check(CLI::NonNegativeNumber)->group(group);
  app.add_option("--max-agents", limits.max_agents, help.max_agents)->check(CLI::NonNegativeNumber)->group(group);
  app.add_option("--max-duration", limits.max_duration, help.max_duration)->group(group);
  app.add_option("--max-rate", limits.max_rate, help.max_rate)->check(CLI::NonNegativeNumber)->group(group);
  app.add_option("--allow-host", limits.allow_hosts, help.allow_hosts)->group(group);
  app.add_option("--allow-image", flags.allow_images,
                 "a prefix spec.agentTemplate.image must start with (repeatable; none: any image)")
      ->group(group);
  app.add_option("--allow-service-account", flags.allow_service_account,
                 "whether spec.agentTemplate.serviceAccountName may be set")
      ->capture_default_str()
      ->group(group);
  app.add_option("--allow-priority-class", flags.allow_priority_class,
                 "whether spec.agentTemplate.priorityClassName may be set")
      ->capture_default_str()
      ->group(group);
  app.add_option("--allow-secret-env", flags.allow_secret_env,
                 "whether spec.agentTemplate.env may take values from Secrets")
      ->capture_default_str()
      ->group(group);
}

Result<controller::Guardrails> guardrails(const GuardrailFlags& flags) {
  controller::Guardrails g;
  auto limits = scenario::runLimits(flags.limits);
  if (!limits.ok()) return limits.error();
  g.limits = std::move(*limits);
  g.allowed_images = flags.allow_images;
  g.allow_service_account = flags.allow_service_account;
  g.allow_priority_class = flags.allow_priority_class;
  g.allow_secret_env = flags.allow_secret_env;
  for (const char* rule : {"maxUsers", "maxAgents", "maxDuration", "maxRate", "allowedHosts"})
    g.set_by[rule] = fmt::format("herd-operator {}", scenario::runLimitFlag(rule));
  g.set_by["allowedImages"] = "herd-operator --allow-image";
  g.set_by["allowServiceAccount"] = "herd-operator --allow-service-account";
  g.set_by["allowPriorityClass"] = "herd-operator --allow-priority-class";
  g.set_by["allowSecretEnv"] = "herd-operator --allow-secret-env";
  return g;
}

}  // namespace herd::operator_main
