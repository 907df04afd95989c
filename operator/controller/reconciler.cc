#include "operator/controller/reconciler.h"

#include <ctime>
#include <set>

#include "common/core/clock.h"
#include "common/core/logging.h"
#include "operator/controller/cron.h"
#include "operator/controller/reconciler_steps.h"

namespace herd::controller {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using TimePoint = std::chrono::system_clock::time_point;

std::optional<std::chrono::system_clock::time_point> parseRfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  // Fractions of a second: Kubernetes timestamps are seconds; ours have ms.
  const char* rest = text.c_str() + consumed;
  if (*rest == '.') {
    double frac = std::atof(rest);
    t += duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(frac));
  }
  return t;
}

Reconciler::Reconciler(k8s::Client& client, k8s::EventRecorder& events, RunCoordinator& coordinator,
                       ReconcilerSettings settings, WallClock wall_clock, uint64_t seed)
    : client_(client),
      events_(events),
      coordinator_(coordinator),
      settings_(std::move(settings)),
      wall_clock_(std::move(wall_clock)),
      rng_(seed) {}

std::string Reconciler::now() const { return formatRfc3339(wall_clock_()); }

uint64_t Reconciler::random() {
  std::lock_guard lock(mu_);
  return rng_.next();
}

void Reconciler::event(const json& loadtest, const std::string& type, const std::string& reason,
                       const std::string& message) {
  auto recorded = events_.record(loadtest, type, reason, message);
  if (!recorded.ok())
    logger("operator")
        ->warn("loadtest={} event {} not recorded: {}", k8s::keyOf(loadtest), reason, recorded.error().describe());
}

Status Reconciler::writeStatus(Pass& pass, const std::function<void(LoadTestStatus& status)>& edit) {
  auto written = k8s::updateStatus(client_, kLoadTests, pass.ns, pass.name, [&](json& obj) {
    const json& before = getObject(obj, "status");
    auto status = LoadTestStatus::fromJson(before);
    edit(status);
    status.observed_generation = k8s::getInt(getObject(obj, "metadata"), "generation");
    json after = status.toJson();
    const bool changed = after != before;
    obj["status"] = std::move(after);
    return changed;
  });
  if (!written.ok()) return written.error().toError();
  pass.lt = *written;
  pass.status = LoadTestStatus::fromJson(getObject(pass.lt, "status"));
  return Ok{};
}

Result<ScenarioSource> readScenario(k8s::Client& client, const std::string& ns, const std::string& name,
                                    const LoadTestSpec& spec) {
  if (spec.inline_scenario) return ScenarioSource{*spec.inline_scenario, ns + "/" + name + ":spec.scenario.inline"};
  auto cm = client.get(k8s::resources::kConfigMaps, ns, spec.config_map_name);
  if (!cm.ok()) {
    if (cm.error().isNotFound())
      return Error{"ConfigMap " + spec.config_map_name + " not found", "spec.scenario.configMapRef"};
    return cm.error().toError();
  }
  const json& data = getObject(*cm, "data");
  if (!data.contains(spec.config_map_key) || !data[spec.config_map_key].is_string())
    return Error{"ConfigMap " + spec.config_map_name + " has no key " + spec.config_map_key,
                 "spec.scenario.configMapRef"};
  return ScenarioSource{data[spec.config_map_key].get<std::string>(),
                        "configmap/" + spec.config_map_name + "/" + spec.config_map_key};
}

Result<scenario::CompiledRun> compileLoadTest(const ScenarioSource& source, const LoadTestSpec& spec) {
  return scenario::compileRun(source.text, source.name, runOverrides(spec));
}

namespace {

// Why a new run starts now: creation, a change of the run-defining spec, or a new
// herd.dev/run annotation; "" when none does. With spec.schedule only the
// annotation starts one here (schedule() decides the rest).
std::string whyStart(const LoadTestStatus& current, const Json& lt, bool scheduled) {
  const auto hash = runDefinitionHash(lt);
  const auto trigger = annotation(lt, kAnnotationRun);
  if (current.run_id.empty() && current.phase != Phase::kFailed && !scheduled) return "created";
  if (!scheduled && !current.run_hash.empty() && current.run_hash != hash) return "spec changed";
  if (!trigger.empty() && trigger != current.run_trigger)
    return "annotation " + std::string(kAnnotationRun) + "=" + trigger;
  return "";
}

}  // namespace

Result<ReconcileResult> Reconciler::reconcile(const std::string& key) {
  Pass pass;
  auto found = readPass(key, pass);
  if (!found.ok()) return found.error();
  if (!*found) return ReconcileResult{};
  auto spec = parseSpec(pass.lt);
  if (!spec.ok()) return invalidSpec(pass, spec.error());
  pass.spec = std::move(*spec);

  const bool scheduled = pass.spec.schedule.has_value();
  const auto why = whyStart(pass.status, pass.lt, scheduled);
  const bool live = isLive(pass.status.phase) && !pass.status.run_id.empty();
  if (!why.empty()) {
    if (live) supersede(pass, why);
    return startRun(pass, why);
  }
  std::optional<milliseconds> schedule_wake;
  if (scheduled) {
    auto decision = schedule(pass, live);
    if (!decision.ok()) return decision.error();
    if (decision->start) {
      if (live) supersede(pass, decision->why);
      return startRun(pass, decision->why);
    }
    schedule_wake = decision->wake;
  }
  auto result = live ? driveRun(pass) : afterRun(pass);
  if (result.ok() && schedule_wake && (!result->requeue_after || *schedule_wake < *result->requeue_after))
    result->requeue_after = schedule_wake;
  return result;
}

// The LoadTest and its status into `pass`; false when it is gone or being
// deleted (its run, if any, is aborted).
Result<bool> Reconciler::readPass(const std::string& key, Pass& pass) {
  pass.key = key;
  std::tie(pass.ns, pass.name) = k8s::splitKey(key);
  auto got = client_.get(kLoadTests, pass.ns, pass.name);
  if (!got.ok() && !got.error().isNotFound()) return got.error().toError();
  if (!got.ok() || !k8s::metaString(*got, "deletionTimestamp").empty()) {
    onDeleted(key);
    return false;
  }
  pass.lt = std::move(*got);
  pass.status = LoadTestStatus::fromJson(getObject(pass.lt, "status"));
  pass.now = wall_clock_();
  pass.generation = k8s::getInt(getObject(pass.lt, "metadata"), "generation");
  return true;
}

// The schema should have refused the spec; say so instead of retrying forever.
Result<ReconcileResult> Reconciler::invalidSpec(Pass& pass, const Error& error) {
  const auto message = error.describe();
  auto w = writeStatus(pass, [&](LoadTestStatus& st) {
    st.phase = Phase::kFailed;
    st.reason = "InvalidSpec";
    st.message = message;
    st.setCondition(Condition::kValidated, false, "InvalidSpec", message, pass.generation, now());
  });
  if (!w.ok()) return w.error();
  return ReconcileResult{};
}

namespace {

// The latest due time not after `now` and the first after it. Runs missed while
// the operator was down (or while suspended) are not made up for: only the
// latest is run.
std::pair<std::optional<TimePoint>, std::optional<TimePoint>> dueTimes(const CronSchedule& cron, TimePoint base,
                                                                       TimePoint now) {
  std::optional<TimePoint> latest;
  auto next = cron.next(base);
  for (int guard = 0; next && *next <= now && guard < 100000; ++guard) {
    latest = next;
    next = cron.next(*next);
  }
  return {latest, next};
}

}  // namespace

// Whether the scenario compiles as the next run would compile it: "scenario NAME
// compiles", or the error.
Result<std::string> Reconciler::checkScenario(Pass& pass) {
  auto source = readScenario(client_, pass.ns, pass.name, pass.spec);
  if (!source.ok()) return source.error();
  auto run = compileLoadTest(*source, pass.spec);
  if (!run.ok()) return run.error();
  return "scenario " + source->name + " compiles";
}

Result<Reconciler::ScheduleDecision> Reconciler::schedule(Pass& pass, bool live) {
  const Schedule& sched = *pass.spec.schedule;
  ScheduleDecision out;
  auto cron = CronSchedule::parse(sched.cron, sched.time_zone);
  if (!cron.ok()) {
    auto message = cron.error().describe();
    auto w = writeStatus(pass, [&](LoadTestStatus& st) {
      st.reason = "InvalidSchedule";
      st.message = message;
      st.next_schedule_time.clear();
    });
    if (!w.ok()) return w.error();
    return out;  // nothing is ever due; a spec change brings us back
  }
  if (sched.suspend) {
    auto w = writeStatus(pass, [&](LoadTestStatus& st) { st.next_schedule_time.clear(); });
    if (!w.ok()) return w.error();
    return out;
  }
  auto base = parseRfc3339(pass.status.last_schedule_time);
  if (!base) base = parseRfc3339(k8s::metaString(pass.lt, "creationTimestamp"));
  if (!base) base = pass.now;
  const auto [latest, next] = dueTimes(*cron, *base, pass.now);
  const auto next_text = next ? formatRfc3339(*next) : std::string();
  std::string last_text = latest ? formatRfc3339(*latest) : pass.status.last_schedule_time;
  if (latest) {
    const auto& policy = sched.concurrency_policy;
    if (!live || policy == "Replace") {
      pass.status.last_schedule_time = last_text;
      if (next) pass.status.next_schedule_time = next_text;
      out.start = true;
      out.why = "schedule " + last_text;
      return out;
    }
    if (policy == "Allow") {
      // Runs one after the other: this one starts when the live run ends.
      last_text = pass.status.last_schedule_time;
    } else {
      event(pass.lt, "Normal", "RunSkipped",
            "run due at " + last_text + " skipped: run " + pass.status.run_id +
                " is still going (concurrencyPolicy Forbid)");
    }
  }
  // Between runs, say now whether the scenario compiles, not at 3 a.m.
  std::optional<Error> invalid;
  std::string compiled;
  if (!live) {
    auto checked = checkScenario(pass);
    if (checked.ok()) compiled = *checked;
    else invalid = checked.error();
  }
  auto w = writeStatus(pass, [&](LoadTestStatus& st) {
    if (invalid)
      st.setCondition(Condition::kValidated, false, "InvalidScenario", invalid->describe(), pass.generation, now());
    else if (!compiled.empty())
      st.setCondition(Condition::kValidated, true, "Compiled", compiled, pass.generation, now());
    if (!last_text.empty()) st.last_schedule_time = last_text;
    st.next_schedule_time = next_text;  // empty (left out) when there is no next time
  });
  if (!w.ok()) return w.error();
  if (next) out.wake = duration_cast<milliseconds>(*next - pass.now) + milliseconds(50);
  return out;
}

void Reconciler::onDeleted(const std::string& key) {
  std::string run_id;
  {
    std::lock_guard lock(mu_);
    auto it = live_runs_.find(key);
    if (it == live_runs_.end()) return;
    run_id = it->second;
    live_runs_.erase(it);
    started_.erase(run_id);
  }
  // The garbage collector deletes the pods (owner references); the
  // coordinator stops the load now rather than when the agents vanish.
  logger("operator")->info("loadtest={} run={} deleted mid-run: aborting", key, run_id);
  coordinator_.abortRun(run_id, "LoadTest deleted");
  coordinator_.forget(run_id);
}

void Reconciler::supersede(Pass& pass, const std::string& why) {
  const auto run_id = pass.status.run_id;
  coordinator_.abortRun(run_id, "superseded: " + why);
  coordinator_.forget(run_id);
  forgetRun(pass.key, run_id);
  (void)deleteRunPods(pass.ns, run_id, false);
  json entry{{"runId", run_id},         {"trigger", pass.status.run_reason},  {"startTime", pass.status.start_time},
             {"completionTime", now()}, {"phase", phaseName(Phase::kFailed)}, {"verdict", "Aborted"},
             {"reason", "Superseded"}};
  pushHistoryEntry(pass.status.history, std::move(entry), pass.spec.history_limit);
  event(pass.lt, "Normal", "RunSuperseded", "run " + run_id + " stopped: " + why);
}

}  // namespace herd::controller
