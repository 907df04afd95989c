#pragma once
// The operator's guardrails: what a LoadTest may ask for, set by the cluster's
// operator team with herd-operator's flags (chart values) and, per namespace, with
// annotations on the Namespace (docs/security.md, "Guardrails"). A LoadTest that
// breaks one is refused before anything is created for it (reconciler_policy.cc).
// Pure: the Namespace object comes in as JSON.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/core/result.h"
#include "common/scenario/guardrails.h"
#include "operator/controller/loadtest.h"

namespace herd::controller {

// The Namespace annotations, one per rule; a value replaces the operator-wide one
// for LoadTests in that namespace ("none" lifts a limit; an empty list allows any).
inline constexpr const char* kAnnotationMaxUsers = "herd.dev/max-users";
inline constexpr const char* kAnnotationMaxAgents = "herd.dev/max-agents";
inline constexpr const char* kAnnotationMaxDuration = "herd.dev/max-duration";
inline constexpr const char* kAnnotationMaxRate = "herd.dev/max-rate";
inline constexpr const char* kAnnotationAllowedHosts = "herd.dev/allowed-hosts";
inline constexpr const char* kAnnotationAllowedImages = "herd.dev/allowed-images";
inline constexpr const char* kAnnotationAllowServiceAccount = "herd.dev/allow-service-account";
inline constexpr const char* kAnnotationAllowPriorityClass = "herd.dev/allow-priority-class";
inline constexpr const char* kAnnotationAllowSecretEnv = "herd.dev/allow-secret-env";

struct Guardrails {
  scenario::RunLimits limits;
  std::vector<std::string> allowed_images;  // prefixes of spec.agentTemplate.image; empty: any
  // Whether spec.agentTemplate may set these (an agent runs with that identity,
  // priority or secret otherwise out of the LoadTest author's reach).
  bool allow_service_account = false;
  bool allow_priority_class = false;
  bool allow_secret_env = false;  // env[].valueFrom.secretKeyRef
  // Rule name -> where its value was set ("namespace annotation herd.dev/max-users");
  // a rule absent here has the operator's value.
  std::map<std::string, std::string> set_by;
};

// The guardrails for LoadTests in `ns` (a Namespace object): the operator's, with
// each annotation present replacing its rule. An annotation that does not parse
// is an error naming it: the LoadTest is refused rather than run unguarded.
Result<Guardrails> namespaceGuardrails(const Guardrails& operator_wide, const Json& ns);

// The first rule the LoadTest breaks, as the status and the Event say it: the
// rule, the value, the limit and where the limit was set.
std::optional<std::string> checkLoadTest(const Guardrails& guardrails, const LoadTestSpec& spec,
                                         const scenario::CompiledRun& run, int agents);

// What checkLoadTest says of `agents` beyond guardrails.limits.max_agents (a scale-up).
std::string agentLimitMessage(const Guardrails& guardrails, int agents);

}  // namespace herd::controller
