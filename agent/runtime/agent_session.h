#pragma once
// An agent's side of a run, whatever carries its messages: it runs exactly the
// users its newest Assignment names (one group of worker threads per user
// range), starts them at the coordinator's Start time, stops on Stop or at the
// end of the run's duration, and turns the workers' snapshots into numbered
// delta reports. It keeps every report of the run (up to
// SessionOptions::keep_bytes, then the oldest acknowledged ones go), so a broken
// stream loses nothing (the transport resends what the next Welcome has not
// counted) and a new coordinator adopting the agent mid-run gets the whole run
// again from sequence 1.
//
// `herd run` drives one session in-process; `herd agent` drives one over gRPC
// (agent/remote). Thread-safety: onMessage() may be called from the
// transport's reader thread while another thread calls poll().
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine/http_connection.h"
#include "agent/runtime/process_pool.h"
#include "agent/runtime/worker.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/scenario/plan.h"
#include "common/scenario/schedule.h"
#include "common/stats/delivery.h"
#include "herd/v1/agent.pb.h"

namespace herd::runtime {

struct SessionOptions {
  std::string agent_id;
  std::string run_id;     // the run to join; empty: the one the coordinator serves
  size_t workers = 0;     // worker threads per user range; 0: one per core
  bool insecure = false;  // accept any TLS certificate of the target
  std::string ca_file;    // extra CA for the target's TLS
  Nanos probe_timeout = std::chrono::seconds(3);
  uint64_t seed = 0;  // 0: from the clock
  // Memory for the run's reports (one a second, docs/distributed.md); beyond it
  // the oldest acknowledged reports are dropped, and a coordinator adopting the
  // agent later misses them (it says so in an event).
  size_t keep_bytes = size_t{64} << 20;  // 0: keep only what is not acknowledged (in-process runs)
  // Worker processes: 1 runs the users on threads of this process; N > 1 splits
  // every assigned range over N child processes (process_pool.h) whose reports
  // this session merges into its own, under its own identity; 0 chooses when
  // the first assignment arrives, from the open-files limit (processesFor()).
  size_t processes = 1;
  std::string executable = "/proc/self/exe";  // what the child processes run
  // How long a failing target check (a name lookup and a connect per origin)
  // is tried again before the agent gives up on the run; 0: once.
  Nanos target_wait{0};
};

class AgentSession {
 public:
  // Hands a message to the transport; never blocks. Undelivered reports are
  // not lost: they stay buffered until acknowledged.
  using Send = std::function<void(v1::AgentMessage&&)>;

  explicit AgentSession(SessionOptions options);
  ~AgentSession();
  AgentSession(const AgentSession&) = delete;
  AgentSession& operator=(const AgentSession&) = delete;

  // The session runs this plan (in-process runs compile it themselves) ...
  Status prepare(const scenario::Plan& plan, Nanos grace);
  // ... or the scenario the coordinator sent (herd agent). Both resolve and
  // probe the targets: an Error means this agent cannot run the load.
  Status prepare(const v1::Welcome& welcome);
  bool prepared() const;

  // The Hello for a new stream: identity, capacity and what it already runs.
  v1::Hello hello(const std::string& token) const;
  // A new stream; messages go to `send` once its Welcome has arrived.
  void attach(Send send);
  void detach();

  void onMessage(const v1::CoordinatorMessage& message);
  // Collects snapshots, sends reports and heartbeats; call every few tens of ms.
  void poll();

  // Leaves the run on its own (SIGTERM): stops its users with the grace time,
  // and is done once its final report is acknowledged.
  void leave();
  // This agent cannot run the load (prepare failed): done, with the reason.
  void fail(std::string why);
  bool done() const;  // Finished received, refused or failed: nothing more to do
  std::optional<std::string> failed() const;
  std::optional<std::string> refused() const;  // why the coordinator refused us
  // The scenario did not compile here, or the coordinator refused our C++
  // libraries: invalid input (exit 2) rather than a run that could not go (3).
  bool invalidInput() const;
  int exitCode() const;        // from Finished
  uint64_t unacked() const;    // reports the current coordinator has not acknowledged
  size_t keptReports() const;  // reports held for a resend
  bool delivered() const;      // the final report is sent and acknowledged
  const scenario::Plan* plan() const { return plan_; }

 private:
  struct Group;
  struct RunTables;
  // A worker process as its parent sees it (SessionOptions::processes).
  struct Child {
    int64_t users = 0;
    uint64_t tick = 0;      // the newest second it has reported
    bool finished = false;  // its final report arrived, or it ended
  };

  // Resolves and connects to every origin, again for up to options_.target_wait.
  Result<std::vector<engine::ConnectionTarget>> checkTargets(const scenario::Plan& plan,
                                                             const std::shared_ptr<engine::TlsContext>& tls) const;
  bool leaving() const {
    std::lock_guard lock(mutex_);
    return leaving_;
  }

  // Under mutex_.
  void applyAssignment();
  void applyToProcesses();
  void collectProcesses();
  std::vector<std::string> processArgs() const;
  void startGroup(const RunTables& tables, int64_t first, int64_t count, MonoTime not_before);
  void stopAll(Nanos grace);
  void collect(MonoTime now);
  void sendReport(bool final);
  void sendNow(v1::AgentMessage message);
  void keep(const v1::AgentMessage& report);
  MonoTime toMono(int64_t unix_nanos) const;

  const SessionOptions options_;
  mutable std::mutex mutex_;
  std::unique_ptr<scenario::Plan> owned_plan_;
  const scenario::Plan* plan_ = nullptr;
  Nanos grace_ = std::chrono::seconds(30);
  std::vector<engine::ConnectionTarget> targets_;
  std::shared_ptr<engine::TlsContext> tls_;                    // for C++ classes' raw connections (RunShared::tls)
  int64_t run_users_ = 0;                                      // the run's users (global indexes 0..run_users_)
  std::shared_ptr<const scenario::ArrivalSchedule> arrivals_;  // open model
  stats::DeliveryLog delivery_;  // pub/sub records of finished workers, sent with the final report
  uint64_t seed_ = 0;

  std::string run_id_;
  std::optional<v1::Assignment> assignment_;
  int64_t start_unix_ = 0;
  MonoTime start_{};
  bool stopping_ = false;
  std::vector<std::unique_ptr<Group>> groups_;
  // With worker processes (SessionOptions::processes) the users run there, not in groups_.
  std::optional<v1::Scenario> scenario_;  // from the Welcome, for the children
  size_t processes_ = 1;                  // resolved at the first assignment
  std::unique_ptr<ProcessPool> pool_;
  std::vector<Child> children_;

  Send send_;
  bool linked_ = false;  // a Welcome arrived on the current stream
  Nanos heartbeat_interval_ = std::chrono::seconds(1);
  MonoTime last_sent_{};  // a report or a heartbeat: either proves we are alive

  stats::Recorder pending_;  // measured since the last report
  uint64_t next_tick_ = 1;   // the next report goes out after start + next_tick_ s
  double busy_ = 0;
  bool final_sent_ = false;
  MonoTime first_spawn_{};
  MonoTime first_scheduled_{};
  uint64_t sequence_ = 0;
  uint64_t acked_ = 0;                 // the newest report the current coordinator holds
  std::deque<v1::AgentMessage> kept_;  // every report still held, oldest first
  size_t kept_bytes_ = 0;
  bool cap_warned_ = false;

  bool finished_ = false;
  bool leaving_ = false;
  int exit_code_ = 0;
  std::optional<std::string> refused_;
  std::optional<std::string> failed_;
  bool invalid_input_ = false;
};

}  // namespace herd::runtime
