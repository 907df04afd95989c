// The guardrails' place in a run's start (policy.h): after the scenario compiles and
// before anything is created for the run, the LoadTest is checked against the
// operator's guardrails as its Namespace's annotations adjust them. A refusal is
// terminal for this definition of the run, like a scenario that does not compile:
// a change of the spec or of the herd.dev/run annotation checks again.
#include "common/core/logging.h"
#include "operator/controller/policy.h"
#include "operator/controller/reconciler_steps.h"

namespace herd::controller {

namespace {
constexpr const char* kPolicyViolation = "PolicyViolation";
}  // namespace

Result<std::optional<std::string>> Reconciler::policyViolation(Pass& pass, const scenario::CompiledRun& run) {
  auto ns = client_.get(k8s::resources::kNamespaces, "", pass.ns);
  // Without the Namespace its annotations are unknown: retry rather than run unguarded.
  if (!ns.ok() && !ns.error().isNotFound()) return ns.error().toError();
  auto guardrails = namespaceGuardrails(settings_.guardrails, ns.ok() ? *ns : json::object());
  if (!guardrails.ok()) return std::optional<std::string>(guardrails.error().describe());
  return checkLoadTest(*guardrails, pass.spec, run, desiredAgents(pass.spec, run.total_users));
}

std::optional<Result<ReconcileResult>> Reconciler::refuseByPolicy(Pass& pass, const scenario::CompiledRun& run) {
  auto violation = policyViolation(pass, run);
  if (!violation.ok()) return Result<ReconcileResult>(violation.error());
  if (!*violation) return std::nullopt;
  const auto message = **violation;
  const auto hash = runDefinitionHash(pass.lt);
  const auto trigger = annotation(pass.lt, kAnnotationRun);
  auto w = writeStatus(pass, [&](json& st) {
    st = pass.status;
    st.erase("runId");
    st["phase"] = kFailed;
    st["reason"] = kPolicyViolation;
    st["message"] = message;
    st["runHash"] = hash;
    st["runTrigger"] = trigger;
    setCondition(st, Condition::kValidated, false, kPolicyViolation, message, pass.generation, now());
    setCondition(st, Condition::kComplete, true, kPolicyViolation, "no run: refused by the guardrails",
                 pass.generation, now());
  });
  if (!w.ok()) return Result<ReconcileResult>(w.error());
  logger("operator")->warn("loadtest={} refused: {}", pass.key, message);
  event(pass.lt, "Warning", kPolicyViolation, message);
  return Result<ReconcileResult>(ReconcileResult{});
}

}  // namespace herd::controller
