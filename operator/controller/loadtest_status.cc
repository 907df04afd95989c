#include "operator/controller/loadtest_status.h"

#include <algorithm>

#include "common/k8s/resource.h"

namespace herd::controller {

namespace {

using json = Json;
using k8s::getInt;
using k8s::getObject;
using k8s::getString;

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

double number(const json& object, const char* key) {
  const json* v = member(object, key);
  return v && v->is_number() ? v->get<double>() : 0.0;
}

std::optional<int64_t> optionalInt(const json& object, const char* key) {
  const json* v = member(object, key);
  if (!v || !v->is_number()) return std::nullopt;
  return getInt(object, key);
}

template <typename T, typename Read>
std::optional<std::vector<T>> optionalArray(const json& object, const char* key, Read read) {
  const json* v = member(object, key);
  if (!v || !v->is_array()) return std::nullopt;
  std::vector<T> out;
  for (const auto& e : *v) out.push_back(read(e));
  return out;
}

json arrayOrNull(const json& object, const char* key) {
  const json* v = member(object, key);
  return v && v->is_array() ? *v : json();
}

StatusCondition conditionFromJson(const json& c) {
  return {getString(c, "type"),
          getString(c, "status"),
          getString(c, "reason"),
          getString(c, "message"),
          getString(c, "lastTransitionTime"),
          getInt(c, "observedGeneration")};
}

json toJson(const StatusCondition& c) {
  return {{"type", c.type},
          {"status", c.status},
          {"reason", c.reason},
          {"message", c.message},
          {"observedGeneration", c.observed_generation},
          {"lastTransitionTime", c.last_transition_time}};
}

void readRun(const json& st, LoadTestStatus& out) {
  out.observed_generation = optionalInt(st, "observedGeneration");
  out.phase = parsePhase(getString(st, "phase"));
  out.verdict = getString(st, "verdict");
  out.reason = getString(st, "reason");
  out.message = getString(st, "message");
  out.run_id = getString(st, "runId");
  out.run_hash = getString(st, "runHash");
  out.run_trigger = getString(st, "runTrigger");
  out.run_reason = getString(st, "runReason");
  out.selector = getString(st, "selector");
  out.run_generation = optionalInt(st, "runGeneration");
  out.start_time = getString(st, "startTime");
  out.completion_time = getString(st, "completionTime");
  out.last_schedule_time = getString(st, "lastScheduleTime");
  out.next_schedule_time = getString(st, "nextScheduleTime");
  out.users = optionalInt(st, "users");
  out.scale_refused = getString(st, "scaleRefused");
  out.summary_config_map = getString(st, "summaryConfigMap");
  const json* cleaned = member(st, "cleanedUp");
  if (cleaned && cleaned->is_boolean()) out.cleaned_up = cleaned->get<bool>();
}

// status.latencyHistogram; bounds and counts of unequal length (a status
// edited by hand) read as no histogram at all.
std::optional<report::LatencyBuckets> latencyFromJson(const json& h) {
  report::LatencyBuckets out;
  const json* bounds = member(h, "boundsSeconds");
  const json* cumulative = member(h, "cumulative");
  if (!bounds || !cumulative || !bounds->is_array() || !cumulative->is_array() || bounds->size() != cumulative->size())
    return std::nullopt;
  for (const auto& b : *bounds) out.bounds_seconds.push_back(b.is_number() ? b.get<double>() : 0.0);
  for (const auto& c : *cumulative)
    out.cumulative.push_back(c.is_number_integer() && c.get<int64_t>() > 0 ? static_cast<uint64_t>(c.get<int64_t>())
                                                                           : 0);
  out.count = static_cast<uint64_t>(std::max<int64_t>(getInt(h, "count"), 0));
  out.sum_seconds = number(h, "sumSeconds");
  return out;
}

void readParts(const json& st, LoadTestStatus& out) {
  if (const json* plan = member(st, "plan"); plan && plan->is_object())
    out.plan = LoadTestStatus::Plan{getString(*plan, "scenarioSource"), getString(*plan, "scenarioSha256"),
                                    getString(*plan, "duration"), getInt(*plan, "users")};
  if (const json* agents = member(st, "agents"); agents && agents->is_object())
    out.agents = LoadTestStatus::Agents{getInt(*agents, "desired"), getInt(*agents, "ready"),
                                        getInt(*agents, "connected")};
  if (const json* totals = member(st, "totals"); totals && totals->is_object()) out.totals = totalsFromJson(*totals);
  if (const json* h = member(st, "latencyHistogram"); h && h->is_object()) out.latency_histogram = latencyFromJson(*h);
  out.lost_agents = optionalArray<std::string>(
      st, "lostAgents", [](const json& e) { return e.is_string() ? e.get<std::string>() : std::string(); });
  out.thresholds = optionalArray<StatusThreshold>(st, "thresholds", thresholdFromJson);
  if (const json* baseline = member(st, "baseline"); baseline && baseline->is_object())
    out.baseline = StatusBaseline{getString(*baseline, "loadTest"), getString(*baseline, "runId"),
                                  getString(*baseline, "source"), getString(*baseline, "message")};
  out.endpoints = arrayOrNull(st, "endpoints");
  out.delivery = arrayOrNull(st, "delivery");
  out.history = arrayOrNull(st, "history");
  if (const json* conditions = member(st, "conditions"); conditions && conditions->is_array())
    for (const auto& c : *conditions) out.conditions.push_back(conditionFromJson(c));
}

void putString(json& st, const char* key, const std::string& value) {
  if (!value.empty()) st[key] = value;
}

template <typename T>
void putOptional(json& st, const char* key, const std::optional<T>& value) {
  if (value) st[key] = *value;
}

void writeRun(const LoadTestStatus& in, json& st) {
  putOptional(st, "observedGeneration", in.observed_generation);
  putString(st, "phase", phaseName(in.phase));
  putString(st, "verdict", in.verdict);
  putString(st, "reason", in.reason);
  putString(st, "message", in.message);
  putString(st, "runId", in.run_id);
  putString(st, "runHash", in.run_hash);
  putString(st, "runTrigger", in.run_trigger);
  putString(st, "runReason", in.run_reason);
  putString(st, "selector", in.selector);
  putOptional(st, "runGeneration", in.run_generation);
  putString(st, "startTime", in.start_time);
  putString(st, "completionTime", in.completion_time);
  putString(st, "lastScheduleTime", in.last_schedule_time);
  putString(st, "nextScheduleTime", in.next_schedule_time);
  putOptional(st, "users", in.users);
  putString(st, "scaleRefused", in.scale_refused);
  putString(st, "summaryConfigMap", in.summary_config_map);
  putOptional(st, "cleanedUp", in.cleaned_up);
}

void writeParts(const LoadTestStatus& in, json& st) {
  if (in.plan)
    st["plan"] = {{"scenarioSource", in.plan->scenario_source},
                  {"scenarioSha256", in.plan->scenario_sha256},
                  {"users", in.plan->users},
                  {"duration", in.plan->duration}};
  if (in.agents)
    st["agents"] = {{"desired", in.agents->desired}, {"ready", in.agents->ready}, {"connected", in.agents->connected}};
  if (in.totals) st["totals"] = toJson(*in.totals);
  if (in.latency_histogram)
    st["latencyHistogram"] = {{"boundsSeconds", in.latency_histogram->bounds_seconds},
                              {"cumulative", in.latency_histogram->cumulative},
                              {"count", in.latency_histogram->count},
                              {"sumSeconds", in.latency_histogram->sum_seconds}};
  putOptional(st, "lostAgents", in.lost_agents);
  if (in.thresholds) {
    json thresholds = json::array();
    for (const auto& t : *in.thresholds) thresholds.push_back(toJson(t));
    st["thresholds"] = std::move(thresholds);
  }
  if (in.baseline) {
    json baseline = json::object();
    putString(baseline, "loadTest", in.baseline->load_test);
    putString(baseline, "runId", in.baseline->run_id);
    putString(baseline, "source", in.baseline->source);
    putString(baseline, "message", in.baseline->message);
    st["baseline"] = std::move(baseline);
  }
  if (!in.endpoints.is_null()) st["endpoints"] = in.endpoints;
  if (!in.delivery.is_null()) st["delivery"] = in.delivery;
  if (!in.history.is_null()) st["history"] = in.history;
  if (!in.conditions.empty()) {
    json conditions = json::array();
    for (const auto& c : in.conditions) conditions.push_back(toJson(c));
    st["conditions"] = std::move(conditions);
  }
}

}  // namespace

Phase parsePhase(std::string_view name) {
  for (Phase phase : kPhases)
    if (name == phaseName(phase)) return phase;
  return Phase::kNone;
}

bool isLive(Phase phase) {
  return phase == Phase::kPending || phase == Phase::kStarting || phase == Phase::kRunning || phase == Phase::kStopping;
}

json toJson(const StatusTotals& t) {
  return {{"requests", t.requests},
          {"failures", t.failures},
          {"rps", t.rps},
          {"failurePercent", t.failure_percent},
          {"latency", {{"p50", t.p50_ms}, {"p95", t.p95_ms}, {"p99", t.p99_ms}}}};
}

StatusTotals totalsFromJson(const json& totals) {
  const json& latency = getObject(totals, "latency");
  return {
      getInt(totals, "requests"), getInt(totals, "failures"), number(totals, "rps"), number(totals, "failurePercent"),
      number(latency, "p50"),     number(latency, "p95"),     number(latency, "p99")};
}

json toJson(const StatusThreshold& t) {
  json out{{"expression", t.expression}, {"passed", t.passed}, {"value", t.value}};
  if (t.baseline) out["baseline"] = *t.baseline;
  if (t.bound) out["bound"] = *t.bound;
  if (!t.baseline_run.empty()) out["baselineRunId"] = t.baseline_run;
  if (!t.skipped.empty()) {
    out["reason"] = "NoBaseline";
    out["message"] = t.skipped;
  }
  return out;
}

StatusThreshold thresholdFromJson(const json& e) {
  const json* passed = member(e, "passed");
  StatusThreshold t{getString(e, "expression"), passed && passed->is_boolean() && passed->get<bool>(),
                    number(e, "value")};
  if (const json* baseline = member(e, "baseline"); baseline && baseline->is_number())
    t.baseline = baseline->get<double>();
  if (const json* bound = member(e, "bound"); bound && bound->is_number()) t.bound = bound->get<double>();
  t.baseline_run = getString(e, "baselineRunId");
  if (getString(e, "reason") == "NoBaseline") t.skipped = getString(e, "message");
  return t;
}

LoadTestStatus LoadTestStatus::fromJson(const json& st) {
  LoadTestStatus out;
  readRun(st, out);
  readParts(st, out);
  return out;
}

json LoadTestStatus::toJson() const {
  json st = json::object();
  writeRun(*this, st);
  writeParts(*this, st);
  return st;
}

std::optional<bool> LoadTestStatus::condition(Condition type) const {
  for (const auto& c : conditions)
    if (c.type == conditionName(type)) return c.status == "True";
  return std::nullopt;
}

std::optional<bool> LoadTestStatus::condition(const json& st, Condition type) { return fromJson(st).condition(type); }

bool LoadTestStatus::setCondition(Condition type, bool value, const std::string& why, const std::string& detail,
                                  int64_t generation, const std::string& now) {
  return setCondition(std::string(conditionName(type)), value, why, detail, generation, now);
}

bool LoadTestStatus::setCondition(const std::string& type, bool value, const std::string& why,
                                  const std::string& detail, int64_t generation, const std::string& now) {
  const char* s = value ? "True" : "False";
  for (auto& c : conditions) {
    if (c.type != type) continue;
    const bool changed = c.status != s;
    if (changed) c.last_transition_time = now;
    c.status = s;
    c.reason = why;
    c.message = detail;
    c.observed_generation = generation;
    return changed;
  }
  conditions.push_back({type, s, why, detail, now, generation});
  return true;
}

}  // namespace herd::controller
