#include "agent/runtime/agent_session.h"

#include <sys/resource.h>

#include <algorithm>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "agent/engine/resolver.h"
#include "agent/engine/tls.h"
#include "agent/runtime/generator_health.h"
#include "common/core/logging.h"
#include "common/scenario/compiler.h"
#include "common/scenario/run.h"
#include "common/scenario/schedule.h"
#include "common/scenario/user_mix.h"
#include "common/wire/run_codec.h"
#include "common/wire/stats_codec.h"

namespace herd::runtime {

namespace {

// Workers publish at start + k s; the report for second k goes out a little
// later so it holds every worker's interval.
constexpr auto kReportDelay = std::chrono::milliseconds(80);
constexpr size_t kDeliveryPieceBytes = size_t{1} << 20;  // well under gRPC's 4 MiB message limit
// With worker processes, second k is reported once every running child has
// reported it (each at k + kReportDelay), and at the latest this late.
constexpr auto kProcessReportLimit = std::chrono::milliseconds(400);
constexpr auto kTargetRetryPause = std::chrono::seconds(1);

int64_t wallNanos() {
  return std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The run's TLS settings, shared by its https targets; a C++ class may open a
// raw TLS connection (user.connect(port, {.tls = true})) in a run without
// https, so it gets them too, made before the run rather than on the hot path.
// Null when the run needs none.
Result<std::shared_ptr<engine::TlsContext>> runTls(const scenario::Plan& plan, const SessionOptions& options) {
  const bool https = std::any_of(plan.origins.begin(), plan.origins.end(),
                                 [](const auto& origin) { return origin.scheme == "https"; });
  const bool code = std::any_of(plan.classes.begin(), plan.classes.end(), [](const auto& c) { return c.code; });
  if (!https && !code) return std::shared_ptr<engine::TlsContext>{};
  return engine::TlsContext::create(!options.insecure, options.ca_file);
}

Result<std::vector<engine::ConnectionTarget>> resolveTargets(const scenario::Plan& plan,
                                                             const std::shared_ptr<engine::TlsContext>& tls) {
  std::vector<engine::ConnectionTarget> targets;
  for (const auto& origin : plan.origins) {
    auto addresses = engine::resolve(origin);
    if (!addresses) return Error{addresses.error().message, origin.toString()};
    engine::ConnectionTarget target;
    target.origin = origin;
    target.addresses = std::move(*addresses);
    if (origin.scheme == "https") target.tls = tls;
    targets.push_back(std::move(target));
  }
  return targets;
}

}  // namespace

struct AgentSession::Group {
  int64_t first = 0;
  int64_t count = 0;
  RunShared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<int64_t> users;
  std::vector<bool> finished;
  bool stopped = false;
  MonoTime scheduled_first{};  // when its first user is due

  bool allFinished() const {
    return std::all_of(finished.begin(), finished.end(), [](bool f) { return f; });
  }
};

AgentSession::AgentSession(SessionOptions options)
    : options_(std::move(options)), run_id_(options_.run_id), processes_(options_.processes) {}

AgentSession::~AgentSession() {
  std::lock_guard lock(mutex_);
  for (auto& group : groups_) {
    for (auto& worker : group->workers) worker->stop(MonoClock::now());
  }
  for (auto& group : groups_) {
    for (auto& worker : group->workers) worker->join();
  }
}

Result<std::vector<engine::ConnectionTarget>> AgentSession::checkTargets(
    const scenario::Plan& plan, const std::shared_ptr<engine::TlsContext>& tls) const {
  const auto give_up = MonoClock::now() + options_.target_wait;
  for (int attempt = 1;; ++attempt) {
    auto targets = resolveTargets(plan, tls);
    Status probe = targets ? probeTargets(plan, *targets, options_.probe_timeout) : Status(targets.error());
    if (probe) return targets;
    // Names and connections may fail for a while in a cluster: a Service
    // created with the run, a pod whose DNS answers late. Bounded; each failure
    // is said.
    const auto next = MonoClock::now() + kTargetRetryPause;
    if (next >= give_up || leaving()) return probe.error();
    logger("agent")->warn("target check {} failed: {}; trying again for {:.0f}s more", attempt,
                          probe.error().describe(), std::chrono::duration<double>(give_up - MonoClock::now()).count());
    std::this_thread::sleep_until(next);
  }
}

Status AgentSession::prepare(const scenario::Plan& plan, Nanos grace) {
  auto tls = runTls(plan, options_);
  if (!tls) return tls.error();
  auto targets = checkTargets(plan, *tls);
  if (!targets) return targets.error();
  std::lock_guard lock(mutex_);
  plan_ = &plan;
  grace_ = grace;
  targets_ = std::move(*targets);
  tls_ = std::move(*tls);
  if (plan.load.model == scenario::Load::Model::kOpen) {
    arrivals_ = std::make_shared<const scenario::ArrivalSchedule>(plan.load);
  }
  // The per-user tables of the whole run (class, number within the class, slot)
  // are made again for each group and only its range is kept: a worker process
  // of a 100,000-user run would otherwise hold about 2.6 MB for users it never runs.
  run_users_ = static_cast<int64_t>(scenario::assignClasses(plan, scenario::totalUsers(plan)).size());
  seed_ = options_.seed ? options_.seed : std::random_device{}();
  pending_ = stats::Recorder(plan.endpoints.size());
  return Ok{};
}

Status AgentSession::prepare(const v1::Welcome& welcome) {
  auto run = wire::decodeRun(welcome.scenario());
  if (!run) {
    std::lock_guard lock(mutex_);
    invalid_input_ = true;
    return Error{"the coordinator's scenario does not compile here: " + run.error().describe(), ""};
  }
  owned_plan_ = std::make_unique<scenario::Plan>(std::move(run->plan));
  return prepare(*owned_plan_, run->grace);
}

bool AgentSession::prepared() const {
  std::lock_guard lock(mutex_);
  return plan_ != nullptr;
}

v1::Hello AgentSession::hello(const std::string& token) const {
  std::lock_guard lock(mutex_);
  v1::Hello hello;
  hello.set_protocol_version(1);
  hello.set_herd_version("0.1.0");
  hello.set_agent_id(options_.agent_id);
  hello.set_run_id(run_id_);
  hello.set_token(token);
  rlimit fds{};
  getrlimit(RLIMIT_NOFILE, &fds);
  hello.mutable_capacity()->set_cores(
      static_cast<uint32_t>(options_.workers ? options_.workers : std::max(1u, std::thread::hardware_concurrency())));
  hello.mutable_capacity()->set_fd_limit(static_cast<uint64_t>(fds.rlim_cur));
  if (assignment_ && start_unix_ != 0) {
    auto& resume = *hello.mutable_resume();
    resume.set_generation(assignment_->generation());
    *resume.mutable_ranges() = assignment_->ranges();
    resume.set_start_unix_nanos(start_unix_);
    resume.set_acked_sequence(acked_);
    resume.set_first_kept_sequence(kept_.empty() ? sequence_ + 1 : kept_.front().report().sequence());
    resume.set_last_sequence(sequence_);
  }
  return hello;
}

void AgentSession::attach(Send send) {
  std::lock_guard lock(mutex_);
  send_ = std::move(send);
  linked_ = false;
}

void AgentSession::detach() {
  std::lock_guard lock(mutex_);
  send_ = nullptr;
  linked_ = false;
}

void AgentSession::sendNow(v1::AgentMessage message) {
  if (!send_ || !linked_) return;
  last_sent_ = MonoClock::now();
  send_(std::move(message));
}

MonoTime AgentSession::toMono(int64_t unix_nanos) const { return MonoClock::now() + Nanos(unix_nanos - wallNanos()); }

void AgentSession::onMessage(const v1::CoordinatorMessage& message) {
  std::lock_guard lock(mutex_);
  auto log = logger("agent");
  switch (message.body_case()) {
    case v1::CoordinatorMessage::kWelcome: {
      const auto& w = message.welcome();
      if (!run_id_.empty() && w.run_id() != run_id_) {
        refused_ = fmt::format("the coordinator now runs \"{}\", not our run \"{}\"", w.run_id(), run_id_);
        finished_ = true;
        return;
      }
      run_id_ = w.run_id();
      if (w.has_scenario() && !scenario_) scenario_ = w.scenario();
      if (w.heartbeat_interval_ms() > 0) heartbeat_interval_ = std::chrono::milliseconds(w.heartbeat_interval_ms());
      // Everything up to applied_sequence is counted by this coordinator; the
      // rest goes again, in order. Less than was acknowledged before: a new
      // coordinator instance (an operator restart) that rebuilds the run from
      // what the agents kept.
      if (w.applied_sequence() < acked_) {
        log->info(
            "the coordinator holds our reports up to {} (we had {} acknowledged): a new coordinator; "
            "resending from {}",
            w.applied_sequence(), acked_, w.applied_sequence() + 1);
      }
      acked_ = w.applied_sequence();
      linked_ = true;
      if (plan_) {
        v1::AgentMessage ready;
        wire::encodeCode(*plan_, *ready.mutable_ready());  // the C++ libraries this agent runs
        sendNow(std::move(ready));
      }
      size_t resent = 0;
      for (const auto& report : kept_) {
        if (report.report().sequence() <= acked_) continue;
        sendNow(v1::AgentMessage(report));
        ++resent;
      }
      if (resent > 0) log->info("resent {} report(s) after (re)connecting", resent);
      break;
    }
    case v1::CoordinatorMessage::kRefused:
      // A coordinator that does not know our run may be about to: an operator
      // that has just become leader adopts the run once its reconciler gets to
      // it. Not the end; the client redials until its reconnect limit.
      if (message.refused().reason() == v1::Refused::UNKNOWN_RUN && !run_id_.empty()) {
        log->warn("the coordinator does not know run \"{}\" (yet): {}", run_id_, message.refused().message());
        break;
      }
      refused_ = message.refused().message();
      invalid_input_ = message.refused().reason() == v1::Refused::CODE_MISMATCH;
      finished_ = true;
      break;
    case v1::CoordinatorMessage::kAssignment:
      if (!assignment_ || message.assignment().generation() > assignment_->generation()) {
        assignment_ = message.assignment();
        applyAssignment();
      }
      break;
    case v1::CoordinatorMessage::kStart:
      if (start_unix_ == 0 && plan_) {
        start_unix_ = message.start().start_unix_nanos();
        start_ = toMono(start_unix_);
        applyAssignment();
      }
      break;
    case v1::CoordinatorMessage::kAck:
      acked_ = std::max(acked_, message.ack().sequence());
      if (leaving_ && final_sent_ && acked_ >= sequence_) finished_ = true;
      break;
    case v1::CoordinatorMessage::kStop: {
      const auto& stop = message.stop();
      if (stop.mode() == v1::Stop::ABORT) log->warn("the coordinator aborts the run: {}", stop.reason());
      stopAll(stop.grace_nanos() > 0 ? std::min(Nanos(stop.grace_nanos()), grace_) : Nanos(0));
      break;
    }
    case v1::CoordinatorMessage::kFinished:
      finished_ = true;
      exit_code_ = message.finished().exit_code();
      break;
    default: break;  // heartbeats only prove the stream is alive
  }
}

// What every user of the run is, whichever agent runs it: its class, its
// number within the class and (closed model) its slot in the spawn schedule.
// Built once per assignment, however many ranges it brings (a rebalance may
// hand an agent many), and sliced by each new group.
struct AgentSession::RunTables {
  RunTables(const scenario::Plan& plan, bool closed)
      : classes(scenario::assignClasses(plan, scenario::totalUsers(plan))) {
    class_indexes.reserve(classes.size());
    std::vector<int64_t> per_class(plan.classes.size(), 0);
    for (const auto cls : classes) class_indexes.push_back(per_class[cls]++);
    if (closed) slots = scenario::closedSchedule(plan.load);
  }
  std::vector<uint16_t> classes;
  std::vector<int64_t> class_indexes;
  std::vector<scenario::UserSlot> slots;
};

// Makes the running groups match the newest assignment (under mutex_).
void AgentSession::applyAssignment() {
  if (!assignment_ || start_unix_ == 0 || stopping_ || !plan_) return;
  if (processes_ == 0) {
    int64_t users = 0;
    for (const auto& r : assignment_->ranges()) users += r.count();
    const auto per_user = socketsPerUser(*plan_);
    const auto fds = raiseFdLimit(socketsPerProcess(users, per_user, 1));
    processes_ = processesFor(users, per_user, fds.soft);
    if (processes_ > 1) {
      logger("agent")->info(
          "{} users need more sockets than the open-files limit ({}) allows one process: {} processes", users, fds.soft,
          processes_);
    }
  }
  if (processes_ > 1) {
    applyToProcesses();
    return;
  }
  const auto now = MonoClock::now();
  const bool first = groups_.empty();
  if (first && owned_plan_ && assignment_->shard_count() > 0) {
    // `unique` data rows are dealt by this agent's shard (before any worker reads the plan).
    owned_plan_->shard_index = assignment_->shard_index();
    owned_plan_->shard_count = assignment_->shard_count();
  }
  for (auto& group : groups_) {
    const bool wanted = std::any_of(assignment_->ranges().begin(), assignment_->ranges().end(), [&](const auto& r) {
      return r.first() == group->first && r.count() == group->count;
    });
    if (!wanted && !group->stopped) {
      group->stopped = true;
      for (auto& worker : group->workers) worker->stop(now + grace_);
    }
  }
  std::optional<RunTables> tables;  // built for the first new group, shared by the rest
  for (const auto& range : assignment_->ranges()) {
    const bool have = std::any_of(groups_.begin(), groups_.end(), [&](const auto& g) {
      return g->first == range.first() && g->count == range.count() && !g->stopped;
    });
    // The open model's arrivals stay with the agent they were dealt to: users
    // handed over later would take this agent's arrivals a second time.
    if (!have && arrivals_ && !groups_.empty()) continue;
    if (!have && range.count() > 0 && range.first() >= 0 && range.first() + range.count() <= run_users_) {
      if (!tables) tables.emplace(*plan_, !arrivals_);
      startGroup(*tables, range.first(), range.count(), now);
    }
  }
  if (first && !groups_.empty()) {
    first_scheduled_ = groups_.front()->scheduled_first;
    for (const auto& g : groups_) first_scheduled_ = std::min(first_scheduled_, g->scheduled_first);
  }
}

void AgentSession::startGroup(const RunTables& tables, int64_t first, int64_t count, MonoTime not_before) {
  auto group = std::make_unique<Group>();
  group->first = first;
  group->count = count;
  auto& shared = group->shared;
  shared.plan = plan_;
  shared.targets = targets_;
  shared.tls = tls_;
  shared.user_classes.assign(tables.classes.begin() + first, tables.classes.begin() + first + count);
  shared.class_indexes.assign(tables.class_indexes.begin() + first, tables.class_indexes.begin() + first + count);
  shared.first_user_index = first;
  shared.start = start_;  // the schedule's offsets count from the run's start
  if (arrivals_) {
    shared.arrivals = arrivals_;
    shared.max_users = count;
    // Agent a of S takes the arrivals k ≡ a (mod S).
    shared.arrival_shards = std::max<int64_t>(1, assignment_->shard_count());
    shared.arrival_shard = std::min<int64_t>(assignment_->shard_index(), shared.arrival_shards - 1);
    group->scheduled_first = start_;
  } else {
    // User i of the run starts at its slot's offset, whichever agent runs it;
    // users handed over mid-run (a rebalance) ramp up from now at the spawn rate.
    shared.slots.assign(tables.slots.begin() + first, tables.slots.begin() + first + count);
    const auto late = not_before - start_;
    const Nanos interval = plan_->load.spawn_rate > 0 ? Nanos(static_cast<int64_t>(1e9 / plan_->load.spawn_rate))
                                                      : Nanos(0);
    for (size_t j = 0; j < shared.slots.size() && late > Nanos(0); ++j) {
      shared.slots[j].start = std::max(shared.slots[j].start, late + interval * static_cast<int64_t>(j));
    }
    group->scheduled_first = start_ + (shared.slots.empty() ? Nanos(0) : shared.slots.front().start);
  }
  // Every group publishes on the run's second boundaries, whenever its first
  // user spawns, so each report holds whole seconds of every group.
  shared.tick_origin = not_before > start_
                           ? start_ + std::chrono::duration_cast<std::chrono::seconds>(not_before - start_)
                           : start_;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t n = std::clamp<size_t>(options_.workers ? options_.workers : cores, 1, static_cast<size_t>(count));
  for (size_t i = 0; i < n; ++i) {
    group->workers.push_back(
        std::make_unique<Worker>(group->shared, i, n, seed_ + static_cast<uint64_t>(first) * 7919 + i));
  }
  group->users.assign(n, 0);
  group->finished.assign(n, false);
  for (auto& worker : group->workers) worker->start();
  logger("agent")->info("running users {}..{} on {} worker thread(s)", first, first + count - 1, n);
  groups_.push_back(std::move(group));
}

void AgentSession::stopAll(Nanos grace) {
  const auto abandon_at = MonoClock::now() + grace;
  stopping_ = true;
  if (pool_) {
    v1::CoordinatorMessage stop;
    stop.mutable_stop()->set_mode(v1::Stop::STOP);
    stop.mutable_stop()->set_grace_nanos(grace.count());
    for (size_t c = 0; c < pool_->size(); ++c) pool_->send(c, stop);
  }
  for (auto& group : groups_) {
    group->stopped = true;
    for (auto& worker : group->workers) worker->stop(abandon_at);
  }
}

void AgentSession::collect(MonoTime) {
  if (pool_) collectProcesses();
  for (auto& group : groups_) {
    for (size_t i = 0; i < group->workers.size(); ++i) {
      for (auto& snapshot : group->workers[i]->takeSnapshots()) {
        pending_.merge(snapshot.interval);
        group->users[i] = snapshot.final ? 0 : snapshot.users;
        busy_ = std::max(busy_, snapshot.busy_fraction);
        group->finished[i] = group->finished[i] || snapshot.final;
        if (snapshot.final) delivery_.merge(std::move(snapshot.delivery));
        if (snapshot.first_spawn != MonoTime{} && (first_spawn_ == MonoTime{} || snapshot.first_spawn < first_spawn_)) {
          first_spawn_ = snapshot.first_spawn;
        }
      }
    }
  }
}

void AgentSession::sendReport(bool final) {
  std::vector<v1::DeliveryRecords> delivery;
  if (final) {
    // Pub/sub records travel with the last reports, at most ~1 MiB per message:
    // every piece but the last in a report of its own before the final one.
    delivery = wire::encodeDelivery(delivery_, kDeliveryPieceBytes);
    delivery_ = {};
    for (size_t i = 0; i + 1 < delivery.size(); ++i) {
      v1::AgentMessage piece;
      auto& r = *piece.mutable_report();
      r.set_sequence(++sequence_);
      r.set_tick(next_tick_);
      r.mutable_stats();
      *r.mutable_delivery() = std::move(delivery[i]);
      keep(piece);
      sendNow(std::move(piece));
    }
  }
  v1::AgentMessage message;
  auto& r = *message.mutable_report();
  if (!delivery.empty()) *r.mutable_delivery() = std::move(delivery.back());
  r.set_sequence(++sequence_);
  r.set_tick(next_tick_);
  wire::encodeStats(pending_, *r.mutable_stats());
  int64_t users = 0;
  for (const auto& group : groups_) {
    for (auto u : group->users) users += u;
  }
  for (const auto& child : children_) users += child.users;
  r.set_users(final ? 0 : users);
  r.set_generator_busy(busy_);
  r.set_final(final);
  if (first_spawn_ != MonoTime{}) {
    r.set_first_spawn_unix_nanos(wallNanos() - (MonoClock::now() - first_spawn_).count());
    r.set_first_spawn_late_nanos((first_spawn_ - first_scheduled_).count());
  }
  pending_.reset();
  busy_ = 0;
  keep(message);
  sendNow(std::move(message));
  if (final) {
    // Worth a line for a remote agent (what a new coordinator could still get);
    // in-process (`herd run`) it would only interrupt the live output.
    logger("agent")->log(options_.keep_bytes > 0 ? spdlog::level::info : spdlog::level::debug,
                         "final report {} sent; {} report(s) held for a resend ({} KiB)", sequence_, kept_.size(),
                         kept_bytes_ / 1024);
  }
}

// Holds a report for the rest of the run; over keep_bytes, the oldest
// acknowledged ones go (unacknowledged ones are never dropped).
void AgentSession::keep(const v1::AgentMessage& report) {
  kept_.push_back(report);
  kept_bytes_ += report.ByteSizeLong();
  size_t dropped = 0;
  while (kept_bytes_ > options_.keep_bytes && kept_.size() > 1 && kept_.front().report().sequence() <= acked_) {
    kept_bytes_ -= kept_.front().ByteSizeLong();
    kept_.pop_front();
    ++dropped;
  }
  if (dropped > 0 && !cap_warned_ && options_.keep_bytes > 0) {
    cap_warned_ = true;
    logger("agent")->warn(
        "the run's reports exceed {} bytes: dropped the oldest {} acknowledged one(s); a new "
        "coordinator adopting this agent would miss reports before {}",
        options_.keep_bytes, dropped, kept_.front().report().sequence());
  }
}

void AgentSession::poll() {
  std::lock_guard lock(mutex_);
  const auto now = MonoClock::now();
  if (linked_ && now - last_sent_ >= heartbeat_interval_) {
    last_sent_ = now;
    v1::AgentMessage heartbeat;
    heartbeat.mutable_heartbeat()->set_sent_unix_nanos(wallNanos());
    sendNow(std::move(heartbeat));
  }
  if (!plan_ || final_sent_) return;
  if (start_unix_ != 0 && !stopping_ && now >= start_ + plan_->load.duration) stopAll(grace_);
  collect(now);
  const bool all_done = std::all_of(groups_.begin(), groups_.end(), [](const auto& g) { return g->allFinished(); }) &&
                        std::all_of(children_.begin(), children_.end(), [](const auto& c) { return c.finished; });
  if (stopping_ && all_done) {
    final_sent_ = true;
    sendReport(true);
    return;
  }
  const bool children_reported = std::all_of(children_.begin(), children_.end(),
                                             [&](const auto& c) { return c.finished || c.tick >= next_tick_; });
  const auto delay = children_.empty()   ? Nanos(kReportDelay)
                     : children_reported ? Nanos(0)
                                         : Nanos(kProcessReportLimit);
  if (start_unix_ != 0 && now >= start_ + std::chrono::seconds(next_tick_) + std::max<Nanos>(delay, kReportDelay)) {
    sendReport(false);
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - start_).count();
    next_tick_ = std::max<uint64_t>(next_tick_ + 1, static_cast<uint64_t>(elapsed) + 1);
  }
}

void AgentSession::leave() {
  std::lock_guard lock(mutex_);
  if (leaving_) return;
  leaving_ = true;
  logger("agent")->info("leaving the run: stopping users, then delivering the last report");
  stopAll(grace_);
  // Before the start there is nothing to deliver.
  if (start_unix_ == 0 || (final_sent_ && acked_ >= sequence_)) finished_ = true;
}

void AgentSession::fail(std::string why) {
  std::lock_guard lock(mutex_);
  failed_ = std::move(why);
  finished_ = true;
}

std::optional<std::string> AgentSession::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

bool AgentSession::done() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

std::optional<std::string> AgentSession::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

bool AgentSession::invalidInput() const {
  std::lock_guard lock(mutex_);
  return invalid_input_;
}

int AgentSession::exitCode() const {
  std::lock_guard lock(mutex_);
  return exit_code_;
}

bool AgentSession::delivered() const {
  std::lock_guard lock(mutex_);
  return final_sent_ && acked_ >= sequence_;
}

uint64_t AgentSession::unacked() const {
  std::lock_guard lock(mutex_);
  return sequence_ - std::min(acked_, sequence_);
}

size_t AgentSession::keptReports() const {
  std::lock_guard lock(mutex_);
  return kept_.size();
}

}  // namespace herd::runtime
