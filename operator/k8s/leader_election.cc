#include "operator/k8s/leader_election.h"

#include <condition_variable>
#include <ctime>

#include "common/core/logging.h"

namespace herd::k8s {

using json = Json;

std::string microTimeNow() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  return buf;
}

namespace {

// Sleeps for `d` unless stop is requested first; false when stopped.
bool sleepFor(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  return !cv.wait_for(lock, stop, d, [] { return false; }) && !stop.stop_requested();
}

int seconds(std::chrono::milliseconds d) {
  return std::max(1, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count()));
}

}  // namespace

const Clock& LeaderElector::defaultClock() {
  static const SystemClock clock;
  return clock;
}

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks, const Clock& clock)
    : client_(client), config_(std::move(config)), callbacks_(std::move(callbacks)), clock_(clock) {}

json LeaderElector::newLease() const {
  auto now = microTimeNow();
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
          {"spec",
           {{"holderIdentity", config_.identity},
            {"leaseDurationSeconds", seconds(config_.lease_duration)},
            {"acquireTime", now},
            {"renewTime", now},
            {"leaseTransitions", 0}}}};
}

// Remembers when the record last changed, by our own monotonic clock.
void LeaderElector::observe(const json& spec) {
  if (spec != observed_spec_) {
    observed_spec_ = spec;
    observed_at_ = clock_.now();
  }
  std::string holder = getString(spec, "holderIdentity");
  if (holder != last_reported_leader_) {
    last_reported_leader_ = holder;
    if (!holder.empty() && callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
  }
}

ApiResult<bool> LeaderElector::tryAcquireOrRenew() {
  std::lock_guard lock(mu_);
  auto current = client_.get(resources::kLeases, config_.ns, config_.name);
  if (!current.ok()) {
    if (!current.error().isNotFound()) return current.error();
    auto created = client_.create(resources::kLeases, config_.ns, newLease());
    if (!created.ok()) return created.error().isAlreadyExists() ? ApiResult<bool>(false) : created.error();
    observe(getObject(*created, "spec"));
    return true;
  }
  json lease = std::move(*current);
  json spec = getObject(lease, "spec");
  observe(spec);
  const std::string holder = getString(spec, "holderIdentity");
  const bool ours = holder == config_.identity;
  if (!holder.empty() && !ours && clock_.now() < observed_at_ + config_.lease_duration) {
    return false;  // someone else holds it and has renewed recently
  }
  auto now = microTimeNow();
  if (!ours) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = getInt(spec, "leaseTransitions") + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = seconds(config_.lease_duration);
  spec["renewTime"] = now;
  lease["spec"] = spec;
  // lease still carries the resourceVersion we read: a concurrent winner makes
  // this PUT fail with 409 and we simply lose this round.
  auto written = client_.replace(resources::kLeases, lease);
  if (!written.ok()) return written.error().isConflict() ? ApiResult<bool>(false) : written.error();
  observe(getObject(*written, "spec"));
  return true;
}

ApiStatus LeaderElector::release() {
  std::lock_guard lock(mu_);
  auto current = client_.get(resources::kLeases, config_.ns, config_.name);
  if (!current.ok()) return current.error();
  if (getString(getObject(*current, "spec"), "holderIdentity") != config_.identity) return Ok{};
  json& spec = (*current)["spec"];
  // client-go's release: no holder, a 1 s duration, so candidates take it at once.
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["renewTime"] = microTimeNow();
  auto written = client_.replace(resources::kLeases, *current);
  if (!written.ok()) return written.error();
  return Ok{};
}

bool LeaderElector::campaign(std::stop_token stop, MonoTime& won_round_began) {
  auto log = herd::logger("k8s");
  for (;;) {
    won_round_began = clock_.now();
    auto won = tryAcquireOrRenew();
    if (won.ok() && *won) return true;
    if (!won.ok()) log->warn("leader election {}/{}: {}", config_.ns, config_.name, won.error().describe());
    if (!sleepFor(stop, config_.retry_period)) return false;
  }
}

// last_renew: when the last successful round began (the Lease's renewTime is
// at or after it, so no other candidate can take the Lease before it plus
// leaseDuration). The first is the round that won, however long the
// on_started_leading callback took since.
void LeaderElector::renewLoop(std::stop_token stop, MonoTime last_renew) {
  auto log = herd::logger("k8s");
  const auto round_bound = 2 * std::chrono::duration_cast<std::chrono::milliseconds>(config_.request_timeout);
  while (sleepFor(stop, config_.retry_period)) {
    const MonoTime began = clock_.now();
    if (began + round_bound > last_renew + config_.renew_deadline) {
      log->warn(
          "leader election {}/{}: not renewed for {} ms; a renewal now could end past the renew deadline, "
          "stopping",
          config_.ns, config_.name, std::chrono::duration_cast<std::chrono::milliseconds>(began - last_renew).count());
      return;
    }
    auto renewed = tryAcquireOrRenew();
    if (renewed.ok() && *renewed) {
      last_renew = began;
      continue;
    }
    if (!renewed.ok()) {
      log->warn("leader election: renew failed: {}", renewed.error().describe());
      continue;  // retried while a round can still end before the renew deadline
    }
    log->warn("leader election {}/{}: lost the lease", config_.ns, config_.name);
    return;
  }
}

void LeaderElector::run(std::stop_token stop) {
  MonoTime won_round_began{};
  if (!campaign(stop, won_round_began)) return;
  leading_ = true;
  herd::logger("k8s")->info("leader election {}/{}: {} is leading", config_.ns, config_.name, config_.identity);
  if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  renewLoop(stop, won_round_began);
  leading_ = false;
  if (stop.stop_requested() && config_.release_on_stop) {
    if (auto released = release(); !released.ok()) {
      herd::logger("k8s")->warn("leader election: release failed: {}", released.error().describe());
    }
  }
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

}  // namespace herd::k8s
