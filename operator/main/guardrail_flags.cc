#include "operator/main/guardrail_flags.h"

// See main.cc: the pragma covers CLI11's own code only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "common/scenario/compiler.h"

namespace herd::operator_main {

void addGuardrailFlags(CLI::App& app, GuardrailFlags& flags) {
  const char* group = "Guardrails (per namespace: herd.dev/* annotations on the Namespace)";
  app.add_option("--max-users", flags.max_users, "most users a LoadTest's run may have (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
  app.add_option("--max-agents", flags.max_agents, "most agent pods a LoadTest's run may start (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
  app.add_option("--max-duration", flags.max_duration, "longest load.duration a LoadTest may ask for, e.g. 30m")
      ->group(group);
  app.add_option("--max-rate", flags.max_rate, "highest open-model arrival rate, iterations/s (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
  app.add_option("--allow-host", flags.allow_hosts,
                 "a host pattern every URL of a LoadTest must match: name, *.suffix or IPv4 CIDR (repeatable; "
                 "none: any host)")
      ->group(group);
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
  auto& limits = g.limits;
  if (flags.max_users > 0) limits.max_users = flags.max_users;
  if (flags.max_agents > 0) limits.max_agents = flags.max_agents;
  if (!flags.max_duration.empty()) {
    auto duration = scenario::parseDuration(flags.max_duration);
    if (!duration.ok()) return Error{duration.error().message, "--max-duration"};
    limits.max_duration = *duration;
  }
  if (flags.max_rate > 0) limits.max_rate = flags.max_rate;
  limits.allowed_hosts = flags.allow_hosts;
  g.allowed_images = flags.allow_images;
  g.allow_service_account = flags.allow_service_account;
  g.allow_priority_class = flags.allow_priority_class;
  g.allow_secret_env = flags.allow_secret_env;
  g.set_by = {{"maxUsers", "herd-operator --max-users"},
              {"maxAgents", "herd-operator --max-agents"},
              {"maxDuration", "herd-operator --max-duration"},
              {"maxRate", "herd-operator --max-rate"},
              {"allowedHosts", "herd-operator --allow-host"},
              {"allowedImages", "herd-operator --allow-image"},
              {"allowServiceAccount", "herd-operator --allow-service-account"},
              {"allowPriorityClass", "herd-operator --allow-priority-class"},
              {"allowSecretEnv", "herd-operator --allow-secret-env"}};
  return g;
}

}  // namespace herd::operator_main
