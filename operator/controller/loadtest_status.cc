#include "operator/controller/loadtest_status.h"

#include "operator/k8s/resource.h"

namespace herd::controller {

namespace {

using json = nlohmann::json;
using k8s::getInt;
using k8s::getObject;
using k8s::getString;

double number(const json& object, const char* key) {
  auto it = object.is_object() ? object.find(key) : object.end();
  return object.is_object() && it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

}  // namespace

Phase parsePhase(std::string_view name) {
  for (Phase phase : kPhases)
    if (name == phaseName(phase)) return phase;
  return Phase::kNone;
}

bool isLive(Phase phase) {
  return phase == Phase::kPending || phase == Phase::kStarting || phase == Phase::kRunning ||
         phase == Phase::kStopping;
}

LoadTestStatus LoadTestStatus::fromJson(const json& st) {
  LoadTestStatus out;
  out.phase = parsePhase(getString(st, "phase"));
  out.verdict = getString(st, "verdict");
  out.reason = getString(st, "reason");
  out.message = getString(st, "message");
  out.run_id = getString(st, "runId");
  out.run_hash = getString(st, "runHash");
  out.run_trigger = getString(st, "runTrigger");
  out.run_reason = getString(st, "runReason");
  out.start_time = getString(st, "startTime");
  out.completion_time = getString(st, "completionTime");
  out.last_schedule_time = getString(st, "lastScheduleTime");
  out.users = getInt(st, "users");
  const json& plan = getObject(st, "plan");
  out.plan = {getString(plan, "scenarioSource"), getString(plan, "scenarioSha256"), getString(plan, "duration"),
              getInt(plan, "users")};
  const json& agents = getObject(st, "agents");
  out.agents = {getInt(agents, "desired"), getInt(agents, "ready"), getInt(agents, "connected")};
  const json& totals = getObject(st, "totals");
  out.rps = number(totals, "rps");
  out.p95_ms = number(getObject(totals, "latency"), "p95");
  out.requests = getInt(totals, "requests");
  out.failures = getInt(totals, "failures");
  out.scale_refused = getString(st, "scaleRefused");
  auto cleaned = st.is_object() ? st.find("cleanedUp") : st.end();
  out.cleaned_up = st.is_object() && cleaned != st.end() && cleaned->is_boolean() && cleaned->get<bool>();
  return out;
}

std::optional<bool> LoadTestStatus::condition(const json& st, Condition type) {
  if (!st.is_object() || !st.contains("conditions") || !st["conditions"].is_array()) return std::nullopt;
  for (const auto& c : st["conditions"])
    if (getString(c, "type") == conditionName(type)) return getString(c, "status") == "True";
  return std::nullopt;
}

}  // namespace herd::controller
