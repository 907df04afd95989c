#pragma once
// The coordinator owns a run (docs/design.md): it admits agents, waits for the
// expected number (ready barrier), splits the users among them with absolute
// targets, broadcasts a start time a little in the future, merges their delta
// reports into one RunAggregate, evaluates thresholds (abortOnFail live, all at
// the end), detects lost agents by their silence and applies the run's policy,
// and produces the one summary. `herd run` (one in-process agent), `herd
// coordinator` (agents over gRPC) and the operator all run this same class; the
// transport only moves protocol messages in and out (connection.h).
//
// Thread-safety: receive()/disconnected() may be called from any thread (one
// per stream); run() is called once, on its own thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/core/json.h"

#include "common/coordinator/connection.h"
#include "common/coordinator/user_split.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/report/aggregate.h"
#include "common/report/latency_buckets.h"
#include "common/report/summary.h"
#include "common/report/threshold.h"
#include "common/scenario/plan.h"
#include "common/scenario/run.h"
#include "common/stats/delivery.h"
#include "herd/v1/agent.pb.h"

namespace herd::coordinator {

// What happens when an agent goes silent for `lost_after` mid-run: rebalance (its
// users are split among the remaining agents), continue (the run goes on with
// fewer users, degraded) or abort (verdict aborted, exit 3). Part of the run's
// definition (common/scenario/run.h).
using scenario::LossPolicy;
using scenario::lossPolicyName;
using scenario::parseLossPolicy;

inline constexpr uint32_t kProtocolVersion = 1;  // == herd.v1.PROTOCOL_VERSION_CURRENT

// How often the coordinator writes to an agent that reports once a second: an
// Ack for every report would be a second write per report, which at a thousand
// agents cost more than merging the reports.
inline constexpr Nanos kAckInterval = std::chrono::seconds(2);

struct CoordinatorOptions {
  std::string run_id;
  std::string token;  // empty: agents need none (in-process runs)
  size_t expect_agents = 1;
  LossPolicy loss_policy = LossPolicy::kRebalance;
  Nanos lost_after = std::chrono::seconds(3);
  Nanos heartbeat_interval = std::chrono::seconds(1);  // the agents'; their reports count as heartbeats
  // The coordinator writes to each agent at least this often and at most this
  // often without cause: an Ack of every report applied since the last one,
  // else a heartbeat. A final report or a resend is acknowledged at once.
  // Agents redial after 3 x kAckInterval of silence (coordinator_client.h).
  Nanos ack_interval = kAckInterval;
  Nanos start_delay = std::chrono::milliseconds(500);    // start time = barrier + this
  Nanos ready_timeout = std::chrono::seconds(60);        // for the barrier
  Nanos grace = std::chrono::seconds(30);                // agents' in-flight time after the stop
  Nanos collect_delay = std::chrono::milliseconds(150);  // after each second, for reports in flight
  uint64_t fd_limit = 0;                                 // for the summary (0: the agents' smallest)
  v1::Scenario scenario;                                 // sent to every agent in Welcome
  // The users the run numbers and splits (the agents' schedule: with stages more
  // users may start over the run than load.users); 0: the plan's load.users.
  int64_t total_users = 0;
  std::function<void(const report::SecondSample&)> on_second;
  // Once a second, after the second is merged: the run so far and every
  // threshold's state over it (live metrics). Called under the coordinator's lock.
  std::function<void(const report::RunAggregate&, const std::vector<report::ThresholdResult>&)> on_live;
  // Once, when an abortOnFail threshold fails and every agent is being stopped.
  std::function<void(const report::ThresholdResult&)> on_abort;
  std::function<void(double busy_percent)> on_saturated;
  std::function<void(const std::string& message)> on_event;  // things people should see
  const std::atomic<bool>* interrupted = nullptr;
};

struct RunResult {
  report::RunAggregate aggregate;  // numbered by Coordinator::plan()
  report::RunInfo info;            // info.extra carries the distributed part of the summary
  // The CLI's exit codes: 0 passed; 1 a threshold failed (also one that aborted the run);
  // 3 the run could not be carried out (agents lost under `abort`, none left).
  int exit_code = 0;
};

// What a run looks like right now (the operator writes it into the LoadTest's
// status while the run goes).
struct LiveStatus {
  std::string phase;  // waiting, running, stopping, done
  size_t expected_agents = 0;
  size_t connected_agents = 0;
  size_t ready_agents = 0;
  size_t lost_agents = 0;
  int64_t users = 0;      // alive, as last reported
  uint64_t requests = 0;  // merged so far
  uint64_t failures = 0;
  double rps = 0;                             // over the last closed second
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // of everything merged so far
  report::LatencyBuckets latency;             // the same, as Prometheus buckets
};

// What a transport hands its streams to: one run's Coordinator, or a Hub that
// serves many runs on one listener (hub.h).
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual std::shared_ptr<Connection> connect(std::string peer) = 0;
  virtual void receive(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message) = 0;
  virtual void disconnected(const std::shared_ptr<Connection>& connection, const std::string& why) = 0;
};

class Coordinator final : public StreamHandler {
 public:
  // The summary's distributed.agents names at most this many agents
  // (listedAgents() chooses them); agentsTotal and agentsByState count all.
  static constexpr size_t kAgentsListed = 100;
  Coordinator(const scenario::Plan& plan, std::vector<report::Threshold> thresholds, CoordinatorOptions options);
  ~Coordinator() override;
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // A transport calls these for every stream it carries.
  std::shared_ptr<Connection> connect(std::string peer) override;
  void receive(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message) override;
  void disconnected(const std::shared_ptr<Connection>& connection, const std::string& why) override;

  // From whoever owns the run (the operator): end it gracefully like the end of
  // its duration, or abort it (verdict aborted). Before the start, the run ends
  // without starting (run() returns the reason as an Error).
  void requestStop(const std::string& reason);
  void requestAbort(const std::string& reason);

  // The agent count changes (`kubectl scale`, thread-safe, idempotent). Growing:
  // agents are admitted until `agents` run; each one gets users as soon as it is
  // Ready, and every agent a new generation of absolute assignments that splits
  // the users evenly over the new set. Shrinking: the agents named in
  // `retiring` (agent ids) go first, then the newest ones beyond `agents`; they
  // are told to stop, what they reported up to their final report is counted
  // once, their users go to the others in a new generation, and they are not
  // lost (no loss policy, no Degraded). Before the start only the barrier's
  // count changes. An Error (nothing changed) when the run cannot grow: its
  // scenario hands out `unique` data rows or arrivals (the open model) by agent.
  Status resize(size_t agents, const std::vector<std::string>& retiring = {});

  // The run's whole life. An Error means the run could not be carried out before
  // it started (agents missing at the barrier, an agent that cannot reach the
  // target); everything after the start ends in a RunResult with a verdict.
  Result<RunResult> run();

  // One liveness pass at `now` (run() calls it every poll; a pass walks the
  // agents at most every quarter of the Ack interval or of lost_after).
  void checkLiveness(MonoTime now);

  // Thread-safe, cheap enough to call once a second.
  LiveStatus status() const;

  // The plan the run's stats are numbered by: the one given, or, when it has
  // C++ classes this process could not load (the operator), a copy bound from
  // what the first agent reported (common/scenario/code_report.h). Stable once
  // run() has returned.
  const scenario::Plan& plan() const;

  // run() failed before the start because an agent's input was invalid (its
  // C++ library refused): exit code 2 rather than 3.
  bool invalidInput() const;

  // For tests and the benchmark: what has been merged so far.
  uint64_t mergedRequests() const;
  size_t connectedAgents() const;

 private:
  enum class Phase { kWaiting, kRunning, kStopping, kDone };
  enum class AgentState { kConnected, kDisconnected, kLost, kFinished };
  struct Agent;

  // Under mutex_.
  void onHello(const std::shared_ptr<Connection>& connection, const v1::Hello& hello, MonoTime now);
  std::optional<std::pair<v1::Refused::Reason, std::string>> helloProblem(const v1::Hello& hello) const;
  Agent& rejoin(Agent& agent, const std::shared_ptr<Connection>& connection);
  Agent* join(const std::shared_ptr<Connection>& connection, const v1::Hello& hello);
  void welcome(Agent& agent);
  void onReport(Agent& agent, const v1::Report& report);
  void onReady(Agent& agent, const v1::Ready& ready);
  void onFatal(Agent& agent, const std::string& text, bool invalid_input);
  // C++ classes (coordinator_code.cc), under mutex_: whether the agent's
  // libraries are the run's (else it is refused and the run cannot start).
  bool sameCode(Agent& agent, const v1::Ready& ready);
  void refuseCode(Agent& agent, const std::string& why);
  void refuse(const std::shared_ptr<Connection>& connection, v1::Refused::Reason reason, const std::string& why);
  void sendAssignment(Agent& agent);
  void sendStart(Agent& agent);
  void broadcastStop(v1::Stop::Mode mode, Nanos grace, const std::string& reason);
  void markLost(Agent& agent, MonoTime now);
  void applyLossPolicy(Agent& agent, const std::string& how);
  void event(const std::string& level, const std::string& message);
  void ack(Agent& agent, MonoTime now);  // every report applied so far
  void heartbeat(MonoTime now);
  Agent* agentFor(const std::shared_ptr<Connection>& connection);
  bool allFinished() const;
  int64_t liveUsers() const;
  double busiest() const;

  // Taking over a running test (coordinator_adopt.cc), under mutex_.
  void adopt(Agent& agent, const v1::Resume& resume);
  bool holdReplayed(const Agent& agent, const v1::Report& report);
  std::optional<std::pair<int64_t, double>> mergeHeld(uint64_t second, bool all);
  bool adoptionGathered(MonoTime now) const;
  // Totals known to be incomplete (coordinator_missing.cc), under mutex_.
  void unadopted(const std::vector<UserRange>& users, double at_seconds);
  Json missingTotals();

  // Scaling (coordinator_scale.cc), under mutex_.
  bool active(const Agent& agent) const;  // runs (or will run) users of this run
  size_t activeAgents() const;
  std::optional<std::string> growthProblem() const;
  void retire(Agent& agent);
  void onLateReady(Agent& agent);
  void resplit(const std::string& why);
  void dismiss(Agent& agent);
  void retiredSilent(Agent& agent);

  int64_t totalUsers() const { return options_.total_users > 0 ? options_.total_users : plan_->load.users; }
  Status waitForAgents();
  void startRun();
  MonoTime runSeconds();  // returns when the load stopped
  void judgeLive(double elapsed_seconds, bool stopping);
  report::RunInfo finish(MonoTime stopped_at, int& exit_code);
  Json distributedSummary() const;
  std::set<std::string> listedAgents() const;

  const scenario::Plan* plan_;                  // the given plan, or bound_plan_
  std::unique_ptr<scenario::Plan> bound_plan_;  // bound from the first agent's Ready
  std::vector<std::string> run_sha256_;         // per class with code: the run's library ("": not known yet)
  std::vector<std::string> sha256_source_;      // who decided it, for messages
  const std::vector<report::Threshold> thresholds_;
  const CoordinatorOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Phase phase_ = Phase::kWaiting;
  std::map<std::string, std::unique_ptr<Agent>> agents_;  // by agent id: a stable, deterministic order
  // Admitted streams → their agent (owned by agents_; an entry goes when its
  // stream ends or the agent's connection changes, before the agent can go).
  std::unordered_map<const Connection*, Agent*> connections_;
  report::RunAggregate aggregate_;
  stats::DeliveryLog delivery_;  // every agent's pub/sub records, judged at the end
  int64_t start_unix_nanos_ = 0;
  MonoTime start_{};
  // checkLiveness walks every agent at most this often (a thousand agents, a
  // walk each poll, cost more than their reports' bookkeeping).
  MonoTime next_liveness_walk_{};
  std::optional<std::string> fatal_;                  // an agent could not run at all
  bool fatal_invalid_input_ = false;                  // ... because its input was invalid (exit 2)
  std::optional<report::Verdict> forced_;             // the run could not go on: the verdict it forces
  std::optional<report::ThresholdAbort> aborted_by_;  // an abortOnFail threshold ended the run
  std::vector<Json> events_;
  uint64_t generation_ = 0;
  // Adoption: a report an adopted agent sends again (its history) is held by
  // its tick until the run loop closes that second, so the series is rebuilt
  // second by second; the users and busiest generator those reports gave.
  struct HeldSecond {
    explicit HeldSecond(size_t endpoints) : stats(endpoints) {}
    stats::Recorder stats;
    int64_t users = 0;
    double busy = 0;
  };
  std::map<uint64_t, HeldSecond> held_;
  uint64_t building_ = 0;               // the second the run loop is building (0: before it runs)
  std::optional<MonoTime> adopted_at_;  // when the first running agent was adopted
  size_t expected_;                     // agents the run wants now (options_.expect_agents, then resize())
  std::set<std::string> retiring_;      // agent ids scaled away, also ones not seen yet
  // Adoption: users whose agents had not come back when the run resumed, so
  // their history up to then (unadopted_at_ seconds) is in no total.
  std::vector<UserRange> unadopted_users_;
  double unadopted_at_ = 0;
};

}  // namespace herd::coordinator
