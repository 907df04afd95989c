#pragma once
// herd-operator's guardrail flags (docs/security.md, "Guardrails"): declared on the
// command line here, turned into the reconciler's Guardrails after parsing.
#include <string>
#include <vector>

#include "common/core/result.h"
#include "operator/controller/policy.h"

namespace CLI {
class App;
}  // namespace CLI

namespace herd::operator_main {

struct GuardrailFlags {
  int64_t max_users = 0;     // 0: no limit
  int64_t max_agents = 0;    // 0: no limit
  std::string max_duration;  // empty: no limit
  double max_rate = 0;       // 0: no limit
  std::vector<std::string> allow_hosts;
  std::vector<std::string> allow_images;
  bool allow_service_account = false;
  bool allow_priority_class = false;
  bool allow_secret_env = false;
};

void addGuardrailFlags(CLI::App& app, GuardrailFlags& flags);
// The flags as guardrails; each rule remembers the flag that sets it. Errors name the flag.
Result<controller::Guardrails> guardrails(const GuardrailFlags& flags);

}  // namespace herd::operator_main
