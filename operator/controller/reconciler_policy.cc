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

// The guardrails for the pass's namespace, or (inner error) why its annotations do
// not parse; the outer error is the apiserver's, worth retrying.
Result<Result<Guardrails>> Reconciler::guardrailsFor(Pass& pass) {
  auto ns = client_.get(k8s::resources::kNamespaces, "", pass.ns);
  // Without the Namespace its annotations are unknown: retry rather than run unguarded.
  if (!ns.ok() && !ns.error().isNotFound()) return ns.error().toError();
  return namespaceGuardrails(settings_.guardrails, ns.ok() ? *ns : json::object());
}

Result<std::optional<std::string>> Reconciler::policyViolation(Pass& pass, const scenario::CompiledRun& run) {
  auto guardrails = guardrailsFor(pass);
  if (!guardrails.ok()) return guardrails.error();
  if (!guardrails->ok()) return std::optional<std::string>(guardrails->error().describe());
  return checkLoadTest(**guardrails, pass.spec, run, desiredAgents(pass.spec, run.total_users));
}

// `kubectl scale` grows a live run without a new start: maxAgents holds there too.
bool Reconciler::scaleRefusedByPolicy(Pass& pass, Drive& drive) {
  const auto previous = static_cast<int>(pass.status.desiredAgents());
  if (previous <= 0 || drive.desired <= previous) return false;
  auto guardrails = guardrailsFor(pass);
  std::string why;
  if (!guardrails.ok()) why = guardrails.error().describe();
  else if (!guardrails->ok()) why = guardrails->error().describe();
  else if (auto max = (*guardrails)->limits.max_agents; max && drive.desired > *max)
    why = agentLimitMessage(**guardrails, drive.desired);
  if (why.empty()) return false;
  drive.scale_refused = "run " + pass.status.run_id + " keeps " + std::to_string(previous) + " agent(s): " + why;
  if (pass.status.scale_refused != drive.scale_refused) event(pass.lt, "Warning", "ScaleRefused", drive.scale_refused);
  drive.desired = previous;
  return true;
}

std::optional<Result<ReconcileResult>> Reconciler::refuseByPolicy(Pass& pass, const scenario::CompiledRun& run) {
  auto violation = policyViolation(pass, run);
  if (!violation.ok()) return Result<ReconcileResult>(violation.error());
  if (!*violation) return std::nullopt;
  const auto message = **violation;
  auto w = refuseRun(pass, kPolicyViolation, message, "no run: refused by the guardrails");
  if (!w.ok()) return Result<ReconcileResult>(w.error());
  logger("operator")->warn("loadtest={} refused: {}", pass.key, message);
  event(pass.lt, "Warning", kPolicyViolation, message);
  return Result<ReconcileResult>(ReconcileResult{});
}

}  // namespace herd::controller
