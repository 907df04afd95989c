#pragma once
// Lease-based leader election (coordination.k8s.io/v1), following client-go's
// leaderelection so herd's operator behaves like every other controller:
//  - a candidate takes the Lease when it is free, or when the holder has not
//    renewed it for leaseDuration *as observed locally* (time since this
//    process last saw the record change, so clocks of different nodes never
//    need to agree);
//  - the leader renews every retryPeriod; if it cannot renew for renewDeadline
//    it stops leading (renewDeadline < leaseDuration, so it stops before anyone
//    else may start). Every Lease request is bounded by requestTimeout (the
//    client's own timeout, which the caller sets), and a renewal that could
//    not end before renewDeadline is not begun: a hung apiserver cannot keep
//    the leader waiting in a request past the moment it must stop;
//  - writes are conditional on the Lease's resourceVersion, so two candidates
//    can never both win one round;
//  - on a clean stop the leader releases the Lease, and a successor takes over
//    within a retryPeriod instead of a leaseDuration.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>

#include "common/core/json.h"

#include "common/core/clock.h"
#include "operator/k8s/client.h"

namespace herd::k8s {

struct LeaderElectionConfig {
  std::string ns;
  std::string name;
  std::string identity;  // unique per process: pod name plus a random suffix
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
  // The Client given to the elector must time its requests out after this;
  // one round (GET, then PUT or POST) takes at most twice as long.
  std::chrono::seconds request_timeout{std::chrono::seconds(2)};
  bool release_on_stop = true;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;  // must return promptly
  std::function<void()> on_stopped_leading;  // leadership lost or given up
  std::function<void(const std::string& identity)> on_new_leader;
};

class LeaderElector {
 public:
  LeaderElector(Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks,
                const Clock& clock = defaultClock());

  // Campaigns until leading, then renews until the lease is lost or `stop` is
  // requested. Returns after on_stopped_leading (if it ever led).
  void run(std::stop_token stop);
  bool isLeader() const { return leading_.load(); }

  // One round: take or renew the Lease. true when we hold it afterwards.
  ApiResult<bool> tryAcquireOrRenew();
  // Gives the Lease up if we hold it.
  ApiStatus release();

 private:
  static const Clock& defaultClock();
  bool campaign(std::stop_token stop, MonoTime& won_round_began);
  void renewLoop(std::stop_token stop, MonoTime last_renew);
  Json newLease() const;
  void observe(const Json& spec);

  Client& client_;
  const LeaderElectionConfig config_;
  const LeaderCallbacks callbacks_;
  const Clock& clock_;
  std::atomic<bool> leading_{false};
  std::mutex mu_;  // guards the observation below against release() from another thread
  Json observed_spec_;
  MonoTime observed_at_{};
  std::string last_reported_leader_;
};

// A Kubernetes MicroTime ("2025-01-02T03:04:05.123456Z") for the wall clock now.
std::string microTimeNow();

}  // namespace herd::k8s
