#include "operator/coordinator/live_coordinator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/core/json.h"

#include "common/coordinator/coordinator.h"
#include "common/coordinator/grpc_service.h"
#include "common/coordinator/hub.h"
#include "common/core/logging.h"
#include "common/report/compress.h"
#include "common/report/html_report.h"
#include "common/report/summary.h"
#include "common/scenario/compiler.h"
#include "common/wire/run_codec.h"

namespace herd::operator_coordinator {

namespace {

using controller::RunProgress;
using json = Json;

RunProgress::Verdict toVerdict(report::Verdict verdict) {
  switch (verdict) {
    case report::Verdict::kPassed: return RunProgress::Verdict::kPassed;
    case report::Verdict::kFailed: return RunProgress::Verdict::kFailed;
    case report::Verdict::kAborted: return RunProgress::Verdict::kAborted;
    case report::Verdict::kError: return RunProgress::Verdict::kError;
  }
  return RunProgress::Verdict::kError;
}

double number(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

// One run: its compiled definition (the coordinator keeps a reference to its plan), its
// coordinator and the thread that runs it. Shared with the hub (through an
// aliasing pointer to the coordinator), so a message the hub is delivering
// keeps the whole run alive however the run is forgotten meanwhile.
struct Run {
  std::string loadtest;
  std::shared_ptr<const scenario::CompiledRun> definition;
  std::unique_ptr<coordinator::Coordinator> coordinator;
  std::thread thread;
  std::atomic<bool> finished{false};
  std::mutex mu;  // guards what follows
  std::string last_event;
  std::optional<RunProgress> final;  // once run() returned
};

// What the summary and result say, as the reconciler wants it.
RunProgress finalProgress(const scenario::Plan& plan, const Result<coordinator::RunResult>& result,
                          const std::string& last_event) {
  RunProgress p;
  p.state = RunProgress::State::kFinished;
  if (!result) {
    p.verdict = RunProgress::Verdict::kError;
    p.message = result.error().describe();
    return p;
  }
  json summary = report::buildSummary(plan, result->aggregate, result->info);
  p.summary_json = summary.dump(2);
  p.report_gz = report::gzip(report::buildHtmlReport(plan, result->aggregate, result->info));
  p.verdict = toVerdict(result->info.verdict);
  if (result->exit_code == 3) p.verdict = RunProgress::Verdict::kError;
  const json& totals = summary["totals"];
  p.totals.requests = totals.value("requests", int64_t{0});
  p.totals.failures = totals.value("failures", int64_t{0});
  p.totals.rps = number(totals, "rps");
  const json& latency = totals["latency"];
  p.totals.p50_ms = number(latency, "p50");
  p.totals.p95_ms = number(latency, "p95");
  p.totals.p99_ms = number(latency, "p99");
  p.latency = report::fleetLatencyBuckets(result->aggregate.total().totals().latency);
  p.users = result->aggregate.peakUsers();
  for (const auto& t : result->info.thresholds) {
    controller::ThresholdOutcome outcome{t.expression, t.passed, t.value};
    outcome.baseline = t.baseline;
    if (!t.skipped) outcome.bound = t.bound;
    outcome.baseline_run = t.baseline_run;
    if (t.skipped) outcome.skipped = t.skipped_why;
    p.thresholds.push_back(std::move(outcome));
  }
  const auto& shown = summary["thresholds"];
  for (size_t i = 0; i < result->info.thresholds.size() && i < shown.size(); ++i) {
    const auto& t = result->info.thresholds[i];
    if (!t.passed && p.message.empty())
      p.message = "threshold failed: " + t.expression + " (" + report::describeThreshold(shown[i]) + ")";
  }
  if (p.message.empty() && p.verdict != RunProgress::Verdict::kPassed) p.message = last_event;
  return p;
}

// In front of the Hub: right after start-up, and again from the moment this
// process becomes leader, a Hello for a run this process does not hold yet is
// kept instead of refused. After an operator restart or a failover the agents
// of a live run redial at once, before the reconciler's first pass has called
// startRun() for it; refused, the run would be lost. A standby may have been
// up for hours when it takes over, so the window cannot count from start-up
// alone. Held Hellos are replayed when the run is added; the agent redials by
// itself if that takes longer than its silence limit.
class Router final : public coordinator::StreamHandler {
 public:
  explicit Router(std::chrono::steady_clock::duration hold_for) { holdFor(hold_for); }

  void holdFor(std::chrono::steady_clock::duration hold_for) {
    std::lock_guard lock(mu_);
    hold_until_ = std::chrono::steady_clock::now() + hold_for;
  }

  std::shared_ptr<coordinator::Connection> connect(std::string peer) override { return hub_.connect(std::move(peer)); }

  void receive(const std::shared_ptr<coordinator::Connection>& connection, const v1::AgentMessage& message) override {
    {
      std::lock_guard lock(mu_);
      if (held_.count(connection)) return;  // nothing before its Welcome counts
      if (message.has_hello() && !message.hello().run_id().empty() && !runs_.count(message.hello().run_id()) &&
          std::chrono::steady_clock::now() < hold_until_) {
        logger("coordinator")
            ->info("holding agent {} of run {} from {} until this process takes the run over",
                   message.hello().agent_id().substr(0, 100), message.hello().run_id().substr(0, 100),
                   connection->peer());
        held_[connection] = message;
        return;
      }
    }
    hub_.receive(connection, message);
  }

  void disconnected(const std::shared_ptr<coordinator::Connection>& connection, const std::string& why) override {
    {
      std::lock_guard lock(mu_);
      if (held_.erase(connection)) {
        connection->close();
        return;
      }
    }
    hub_.disconnected(connection, why);
  }

  void add(const std::string& run_id, std::shared_ptr<coordinator::Coordinator> coordinator) {
    std::vector<std::pair<std::shared_ptr<coordinator::Connection>, v1::AgentMessage>> replay;
    {
      std::lock_guard lock(mu_);
      hub_.add(run_id, std::move(coordinator));
      runs_.insert(run_id);
      for (auto it = held_.begin(); it != held_.end();) {
        if (it->second.hello().run_id() != run_id) {
          ++it;
          continue;
        }
        replay.emplace_back(it->first, std::move(it->second));
        it = held_.erase(it);
      }
    }
    for (const auto& [connection, hello] : replay) hub_.receive(connection, hello);
  }

  void remove(const std::string& run_id) {
    std::lock_guard lock(mu_);
    runs_.erase(run_id);
    hub_.remove(run_id);
  }

 private:
  coordinator::Hub hub_;
  std::mutex mu_;  // guards what follows
  std::chrono::steady_clock::time_point hold_until_;
  std::set<std::string> runs_;
  std::map<std::shared_ptr<coordinator::Connection>, v1::AgentMessage> held_;
};

class LiveCoordinator final : public LiveRunCoordinator {
 public:
  LiveCoordinator(std::string advertise, std::chrono::seconds hold_unknown_runs)
      : advertise_(std::move(advertise)), hold_unknown_runs_(hold_unknown_runs), hub_(hold_unknown_runs) {}
  // The operator is stopping (SIGTERM, a rolling update, lost leadership): the
  // runs are not aborted. The listener closes, the agents keep their load and
  // redial the advertised address, where the next leader's coordinator adopts
  // them under the same run id and token. Runs still going are left to the
  // exiting process (their threads wait on their own coordinator); finished
  // ones are joined.
  ~LiveCoordinator() override {
    if (server_) server_->shutdown();
    std::lock_guard lock(mu_);
    for (auto& [id, run] : runs_) release(std::move(run));
    for (auto& run : retired_) release(std::move(run));
  }

  Status listen(const LiveCoordinatorOptions& options) {
    const auto& address = options.listen;
    coordinator::ServerOptions so;
    so.listen = address;
    so.tls_cert_file = options.tls_cert_file;
    so.tls_key_file = options.tls_key_file;
    auto server = coordinator::GrpcServer::start(hub_, so);
    if (!server) return server.error();
    server_ = std::move(*server);
    if (advertise_.empty()) {
      auto host = address.substr(0, address.rfind(':'));
      if (host.empty() || host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
      advertise_ = host + ":" + std::to_string(server_->port());
    }
    logger("operator")->info("coordinator listening on port {}; agents dial {}", server_->port(), advertise_);
    return Ok{};
  }

  Status startRun(const controller::RunRequest& request) override {
    std::lock_guard runs_lock(mu_);  // named apart from the run thread's locks below
    reap();
    if (runs_.count(request.run_id)) return Ok{};
    if (!request.run) return Error{"no compiled run for " + request.run_id, ""};
    auto run = std::make_shared<Run>();
    run->loadtest = request.loadtest;
    run->definition = request.run;
    const auto& p = run->definition->plan;
    const Nanos grace = run->definition->grace;

    coordinator::CoordinatorOptions co;
    co.run_id = request.run_id;
    co.token = request.token;
    co.expect_agents = static_cast<size_t>(std::max(1, request.expected_agents));
    co.loss_policy = run->definition->loss_policy;
    co.grace = grace;
    // The reconciler's agentsReadyTimeout decides when waiting has lasted too
    // long (it aborts the run); the coordinator waits as long as it is asked to.
    co.ready_timeout = std::chrono::hours(24);
    // The agents' view of the run: its text and the spec's overrides, so each
    // agent compiles exactly this plan.
    co.scenario = wire::encodeRun(request.scenario_text, request.scenario_name, request.overrides, *run->definition);
    co.total_users = run->definition->total_users;
    Run* raw = run.get();
    const std::string run_id = request.run_id;
    co.on_event = [raw, run_id](const std::string& message) {
      logger("operator")->info("run={} {}", run_id, message);
      std::lock_guard lock(raw->mu);
      raw->last_event = message;
    };
    run->coordinator = std::make_unique<coordinator::Coordinator>(p, run->definition->thresholds, std::move(co));
    hub_.add(run_id, std::shared_ptr<coordinator::Coordinator>(run, run->coordinator.get()));
    run->thread = std::thread([raw] {
      auto result = raw->coordinator->run();
      std::string last_event;
      {
        std::lock_guard lock(raw->mu);
        last_event = raw->last_event;
      }
      // The coordinator's plan: with C++ classes, bound from what the agents loaded.
      auto final = finalProgress(raw->coordinator->plan(), result, last_event);
      {
        std::lock_guard lock(raw->mu);
        raw->final = std::move(final);
      }
      raw->finished = true;
    });
    logger("operator")
        ->info("loadtest={} run={} coordinator started: {} agents, {} users", request.loadtest, run_id,
               request.expected_agents, run->definition->total_users);
    runs_[run_id] = std::move(run);
    return Ok{};
  }

  std::optional<RunProgress> progress(const std::string& run_id) override {
    auto run = find(run_id);
    if (!run) return std::nullopt;
    {
      std::lock_guard lock(run->mu);
      if (run->final) return run->final;
    }
    const auto live = run->coordinator->status();
    RunProgress p;
    p.state = live.phase == "waiting"   ? RunProgress::State::kWaitingForAgents
              : live.phase == "running" ? RunProgress::State::kRunning
                                        : RunProgress::State::kStopping;
    p.connected = static_cast<int>(live.connected_agents);
    p.users = live.users;
    p.totals.requests = static_cast<int64_t>(live.requests);
    p.totals.failures = static_cast<int64_t>(live.failures);
    p.totals.rps = live.rps;
    p.totals.p50_ms = live.p50_ms;
    p.totals.p95_ms = live.p95_ms;
    p.totals.p99_ms = live.p99_ms;
    if (live.latency.count > 0) p.latency = live.latency;
    p.degraded = live.lost_agents > 0;
    std::lock_guard lock(run->mu);
    p.message = run->last_event;
    return p;
  }

  Status setExpectedAgents(const std::string& run_id, int agents, const std::vector<std::string>& retiring) override {
    auto run = find(run_id);
    if (!run) return Ok{};
    return run->coordinator->resize(static_cast<size_t>(std::max(1, agents)), retiring);
  }

  void stopRun(const std::string& run_id, const std::string& reason) override {
    if (auto run = find(run_id)) run->coordinator->requestStop(reason);
  }

  void abortRun(const std::string& run_id, const std::string& reason) override {
    if (auto run = find(run_id)) run->coordinator->requestAbort(reason);
  }

  void forget(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    if (!it->second->finished) it->second->coordinator->requestAbort("the run is over for the operator");
    hub_.remove(run_id);
    retired_.push_back(std::move(it->second));
    runs_.erase(it);
    reap();
  }

  std::string agentEndpoint() const override { return advertise_; }

  void holdUnknownRuns() override { hub_.holdFor(hold_unknown_runs_); }

 private:
  std::shared_ptr<Run> find(const std::string& run_id) {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    return it == runs_.end() ? nullptr : it->second;
  }

  static void release(std::shared_ptr<Run> run) {
    if (run->finished) {
      if (run->thread.joinable()) run->thread.join();
      return;
    }
    run->thread.detach();
    // Its thread still uses it until the process exits: kept where a global
    // reaches it, never destroyed (so no leak checker counts it either).
    static auto* const abandoned = new std::vector<std::shared_ptr<Run>>;
    static std::mutex abandoned_mu;
    std::lock_guard lock(abandoned_mu);
    abandoned->push_back(std::move(run));
  }

  // Lets go of retired runs whose thread has ended (under mu_). The hub holds
  // none of them any more; a delivery still inside one keeps it alive until
  // it returns.
  void reap() {
    std::erase_if(retired_, [&](std::shared_ptr<Run>& run) {
      if (!run->finished) return false;
      if (run->thread.joinable()) run->thread.join();
      return true;
    });
  }

  std::string advertise_;
  const std::chrono::seconds hold_unknown_runs_;
  Router hub_;
  std::unique_ptr<coordinator::GrpcServer> server_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Run>> runs_;
  std::vector<std::shared_ptr<Run>> retired_;
};

}  // namespace

Result<std::unique_ptr<LiveRunCoordinator>> startLiveCoordinator(const LiveCoordinatorOptions& options) {
  auto live = std::make_unique<LiveCoordinator>(options.advertise, options.hold_unknown_runs);
  if (auto listened = live->listen(options); !listened) return listened.error();
  return std::unique_ptr<LiveRunCoordinator>(std::move(live));
}

}  // namespace herd::operator_coordinator
