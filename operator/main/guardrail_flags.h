#pragma once
// herd-operator's guardrail flags (docs/security.md, "Guardrails"): declared on the
// command line here, turned into the reconciler's Guardrails after parsing.
#include <string>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/guardrails.h"
#include "operator/controller/policy.h"

namespace CLI {
class App;
}  // namespace CLI

namespace herd::operator_main {

struct GuardrailFlags {
  scenario::RunLimitFlags limits;  // the flags herd run has too
  std::vector<std::string> allow_images;
  bool allow_service_account = false;
  bool allow_priority_class = false;
  bool allow_secret_env = false;
};

void addGuardrailFlags(CLI::App& app, GuardrailFlags& flags);
// The flags as guardrails; each rule remembers the flag that sets it. Errors name the flag.
Result<controller::Guardrails> guardrails(const GuardrailFlags& flags);

}  // namespace herd::operator_main
