#include "agent/runtime/local_run.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "agent/engine/resolver.h"
#include "agent/engine/tls.h"
#include "agent/runtime/generator_health.h"
#include "agent/runtime/user_mix.h"
#include "agent/runtime/worker.h"
#include "common/core/logging.h"

namespace herd::runtime {

namespace {

constexpr auto kCollectDelay = std::chrono::milliseconds(50);  // after each second, let workers publish
constexpr auto kPoll = std::chrono::milliseconds(20);

std::string makeRunId(const std::string& scenario, uint64_t seed) {
  return fmt::format("{}-{:06x}", scenario, seed & 0xffffff);
}

Result<std::vector<engine::ConnectionTarget>> resolveTargets(const scenario::Plan& plan,
                                                             const LocalRunOptions& options,
                                                             std::shared_ptr<engine::TlsContext>& tls) {
  std::vector<engine::ConnectionTarget> targets;
  for (const auto& origin : plan.origins) {
    auto addresses = engine::resolve(origin);
    if (!addresses) return Error{addresses.error().message, origin.toString()};
    engine::ConnectionTarget target;
    target.origin = origin;
    target.addresses = std::move(*addresses);
    if (origin.scheme == "https") {
      if (!tls) {
        auto created = engine::TlsContext::create(!options.insecure, options.ca_file);
        if (!created) return created.error();
        tls = std::move(*created);
      }
      target.tls = tls;
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

// Sleeps until `deadline` or an interrupt, whichever is first.
void sleepUntil(MonoTime deadline, const std::atomic<bool>* interrupted) {
  while (MonoClock::now() < deadline) {
    if (interrupted && interrupted->load()) return;
    std::this_thread::sleep_for(std::min<Nanos>(kPoll, deadline - MonoClock::now()));
  }
}

// Collects what the workers published; returns true when all have finished.
bool collect(std::vector<std::unique_ptr<Worker>>& workers, std::vector<int64_t>& users,
             std::vector<bool>& finished, double& busy, report::RunAggregate& aggregate,
             stats::DeliveryLog& delivery) {
  bool all = true;
  for (size_t i = 0; i < workers.size(); ++i) {
    for (auto& snapshot : workers[i]->takeSnapshots()) {
      aggregate.add(snapshot.interval);
      users[i] = snapshot.final ? 0 : snapshot.users;
      busy = std::max(busy, snapshot.busy_fraction);
      finished[i] = finished[i] || snapshot.final;
      if (snapshot.final) delivery.merge(std::move(snapshot.delivery));
    }
    all = all && finished[i];
  }
  return all;
}

}  // namespace

Result<LocalRunResult> runLocal(const scenario::Plan& plan, const std::vector<report::Threshold>& thresholds,
                                const LocalRunOptions& options) {
  auto log = logger("runner");
  std::shared_ptr<engine::TlsContext> tls;
  auto targets = resolveTargets(plan, options, tls);
  if (!targets) return targets.error();
  if (auto probe = probeTargets(plan, *targets, options.probe_timeout); !probe) return probe.error();

  const uint64_t seed = options.seed ? options.seed : std::random_device{}();
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t worker_count = std::clamp<size_t>(options.workers ? options.workers : cores, 1,
                                                 static_cast<size_t>(plan.load.users));

  RunShared shared;
  shared.plan = &plan;
  shared.targets = std::move(*targets);
  if (plan.load.model == scenario::Load::Model::kOpen) {
    shared.arrivals = std::make_shared<const ArrivalSchedule>(plan.load);
    shared.max_users = plan.load.max_users;
    shared.user_classes = assignClasses(plan, plan.load.max_users);
  } else {
    shared.slots = closedSchedule(plan.load);
    shared.user_classes = assignClasses(plan, static_cast<int64_t>(shared.slots.size()));
  }
  std::vector<int64_t> per_class(plan.classes.size(), 0);
  for (const auto cls : shared.user_classes) shared.class_indexes.push_back(per_class[cls]++);
  // Starting a little in the future lets every worker thread be up before the first spawn.
  shared.start = MonoClock::now() + std::chrono::milliseconds(100);

  LocalRunResult result{report::RunAggregate(plan.endpoints.size()), {}};
  auto& info = result.info;
  info.run_id = makeRunId(plan.name, seed);
  info.fd_limit = options.fd_limit;
  info.start = std::chrono::system_clock::now() + std::chrono::milliseconds(100);
  log->info("run {}: {} users on {} worker thread(s), spawn rate {}/s, duration {}s", info.run_id,
            plan.load.users, worker_count, plan.load.spawn_rate,
            std::chrono::duration<double>(plan.load.duration).count());

  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t i = 0; i < worker_count; ++i) {
    workers.push_back(std::make_unique<Worker>(shared, i, worker_count, seed + i));
  }
  for (auto& worker : workers) worker->start();

  std::vector<int64_t> users(worker_count, 0);
  std::vector<bool> finished(worker_count, false);
  const auto stop_at = shared.start + plan.load.duration;
  MonoTime stopped_at{};
  stats::DeliveryLog delivery;
  bool stopping = false;
  bool warned = false;
  std::optional<report::ThresholdAbort> aborted_by;
  for (uint64_t second = 1;; ++second) {
    const auto boundary = shared.start + std::chrono::seconds(second);
    if (!stopping) {
      sleepUntil(std::min(boundary + kCollectDelay, stop_at), options.interrupted);
      const bool interrupted = options.interrupted && options.interrupted->load();
      if (MonoClock::now() >= stop_at || interrupted) {
        stopping = true;
        stopped_at = std::min(MonoClock::now(), stop_at);
        // Subscribers may listen on for the drain; in-flight requests get the grace.
        const auto abandon_at = MonoClock::now() + std::max<Nanos>(options.grace, plan.drain + std::chrono::seconds(1));
        for (auto& worker : workers) worker->stop(abandon_at);
      }
    }
    sleepUntil(boundary + kCollectDelay, nullptr);
    double busy = 0;
    const bool done = collect(workers, users, finished, busy, result.aggregate, delivery);
    int64_t alive = 0;
    for (auto u : users) alive += u;
    const double elapsed = std::chrono::duration<double>(std::min(MonoClock::now(), boundary) - shared.start).count();
    const auto& sample = result.aggregate.closeSecond(elapsed, alive, busy);
    if (options.on_second) options.on_second(sample);
    auto live = report::evaluateLive(thresholds, plan, result.aggregate.total(), elapsed);
    if (live.abort && !stopping) {
      // An abortOnFail threshold failed: stop now, gracefully, like an interrupt.
      aborted_by = report::ThresholdAbort{*live.abort, live.results[*live.abort]};
      if (options.on_abort) options.on_abort(aborted_by->result);
      stopping = true;
      stopped_at = MonoClock::now();
      for (auto& worker : workers) worker->stop(MonoClock::now() + options.grace);
    }
    if (options.on_live) options.on_live(result.aggregate, live.results);
    if (!warned && busy * 100 > info.saturation_percent) {
      warned = true;
      if (options.on_saturated) options.on_saturated(busy * 100);
    }
    if (done) break;
  }
  for (auto& worker : workers) worker->join();

  info.duration_seconds = std::chrono::duration<double>(stopped_at - shared.start).count();
  info.end = info.start + std::chrono::duration_cast<std::chrono::system_clock::duration>(stopped_at - shared.start);
  // Messages are judged once every subscriber stopped listening.
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  info.delivery = stats::judgeDelivery(delivery, plan.streams.size(),
                                       std::chrono::duration_cast<std::chrono::microseconds>(plan.lost_after).count(),
                                       now_us);
  info.thresholds = report::finalResults(thresholds, plan, result.aggregate.total(), info.duration_seconds, aborted_by,
                                         info.delivery);
  info.verdict = report::verdictOf(info.thresholds);
  return result;
}

}  // namespace herd::runtime
