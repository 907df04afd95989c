#pragma once
// A worker is one thread with one event loop that owns a share of the run's
// virtual users, their connections and timers, a PRNG and a stats recorder. It
// shares nothing mutable with other threads: once a second it hands its interval
// recorder to the collector through a mutex-guarded outbox (one lock per second,
// never per request) and starts a fresh one.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/engine/event_loop.h"
#include "agent/engine/http2_exchange.h"
#include "agent/engine/http_connection.h"
#include "agent/runtime/feeder.h"
#include "agent/runtime/spawner.h"
#include "common/core/clock.h"
#include "common/core/random.h"
#include "common/scenario/extract.h"
#include "common/scenario/plan.h"
#include "common/scenario/schedule.h"
#include "common/scenario/template.h"
#include "common/stats/delivery.h"
#include "common/stats/recorder.h"

namespace herd::runtime {

class CookieJar;
class VirtualUser;

// What every worker of a run reads and nobody writes once the run starts.
struct RunShared {
  const scenario::Plan* plan = nullptr;
  std::vector<engine::ConnectionTarget> targets;              // one per plan origin, resolved
  std::shared_ptr<engine::TlsContext> tls;                    // the run's TLS settings (null: no https, no C++ class)
  std::vector<uint16_t> user_classes;                         // class of each global user index
  std::vector<int64_t> class_indexes;                         // each global user's number within its class
  int64_t first_user_index = 0;                               // global index of this process's user 0
  MonoTime start;                                             // offsets in slots and arrivals count from here
  std::vector<scenario::UserSlot> slots;                      // closed model: per global user index
  std::shared_ptr<const scenario::ArrivalSchedule> arrivals;  // open model (null: closed)
  int64_t max_users = 0;                                      // open model, the whole run's
  // Open model over several agents: this agent takes the arrivals k ≡
  // arrival_shard (mod arrival_shards), dealt on round-robin to its workers.
  int64_t arrival_shard = 0;
  int64_t arrival_shards = 1;
  // Snapshots are published at tick_origin + 1 s, + 2 s, ... (default: start), so
  // users handed to an agent mid-run keep the run's second boundaries.
  std::optional<MonoTime> tick_origin;
};

// One second's worth of a worker's stats, handed to the collector.
struct Snapshot {
  uint64_t tick = 0;  // seconds since the run's start this interval ends at
  stats::Recorder interval;
  int64_t users = 0;            // users alive at the end of the interval
  double busy_fraction = 0;     // the worker thread's CPU time / wall time in the interval
  bool final = false;           // the worker has stopped; nothing follows
  stats::DeliveryLog delivery;  // pub/sub records, handed over once, with the final snapshot
  MonoTime first_spawn{};       // when this worker spawned its first user (epoch: not yet)
};

class Worker {
 public:
  Worker(const RunShared& shared, size_t index, size_t count, uint64_t seed);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // Thread-safe. Stops spawning; idle users end at once, users waiting on a
  // response end when it arrives; at `abandon_at` whatever is still in flight is
  // cancelled and not counted.
  void stop(MonoTime abandon_at);
  // Thread-safe: the snapshots produced since the last call.
  std::vector<Snapshot> takeSnapshots();
  void join();

  // For the users this worker owns (called on the worker thread only).
  engine::EventLoop& loop() { return loop_; }
  Rng& rng() { return rng_; }
  stats::Recorder& recorder() { return recorder_; }
  const RunShared& shared() const { return shared_; }
  bool stopping() const { return stopping_; }
  bool abandoning() const { return abandoning_; }
  // The serialised request for a step, rendered for this user (with its cookies
  // when `cookies` is set); valid until the next call.
  // `body_prefix` goes before the rendered body (a publish's marker);
  // `extra_headers` are whole "Name: value\r\n" lines (a long-poll's position).
  std::string_view renderRequest(const scenario::RequestStep& step, const scenario::RenderContext& context,
                                 const CookieJar* cookies, std::string_view body_prefix = {},
                                 std::string_view extra_headers = {});
  // After renderRequest() of a gRPC step whose message has expressions: why
  // the rendered JSON did not convert to the message (empty when it did).
  const std::string& grpcError() const { return grpc_error_; }
  stats::DeliveryLog& delivery() { return delivery_; }
  scenario::ResponseReader& reader() { return reader_; }
  std::string& scratch() { return scratch_; }
  void userFinished();
  // A new user with global slot `global` (this process's numbering), not yet begun.
  VirtualUser& addUser(int64_t global);
  Spawner& spawner() { return spawner_; }
  Feeders& feeders() { return feeders_; }
  // The Host header's value for plan origin `origin`.
  const std::string& hostHeader(size_t origin) const { return host_headers_[origin]; }
  // This worker's HTTP/2 connections to plan origin `origin`, shared by its users.
  engine::Http2Pool& http2Pool(size_t origin);

 private:
  void tick();
  void beginStop(MonoTime abandon_at);
  void abandonAll();
  void publish(bool final);
  void finishIfIdle();
  void serialise(const scenario::RequestStep& step, const scenario::RenderContext& context, const CookieJar* cookies,
                 std::string_view body_prefix, std::string_view extra_headers, std::string& out);

  const RunShared& shared_;
  engine::EventLoop loop_;
  Rng rng_;
  stats::Recorder recorder_;
  // Before users_: the users' exchanges detach from these pools when destroyed.
  std::vector<std::unique_ptr<engine::Http2Pool>> http2_pools_;  // by origin, made on first use
  std::string grpc_error_;
  std::vector<std::unique_ptr<VirtualUser>> users_;
  int64_t alive_ = 0;
  bool stopping_ = false;
  bool abandoning_ = false;
  bool finished_ = false;
  uint64_t tick_ = 0;
  Nanos last_cpu_{};
  MonoTime last_tick_wall_;
  MonoTime first_spawn_{};  // for the start-skew report
  Spawner spawner_;
  engine::Timer tick_timer_;
  engine::Timer abandon_timer_;
  // Requests whose every part is literal are serialised once, not per request.
  std::unordered_map<const scenario::RequestStep*, std::string> static_requests_;
  std::vector<std::string> host_headers_;  // Host header value per origin
  std::string request_buffer_;
  std::string body_buffer_;
  std::string scratch_;
  scenario::ResponseReader reader_;
  Feeders feeders_;
  stats::DeliveryLog delivery_;

  std::mutex outbox_mutex_;
  std::vector<Snapshot> outbox_;
  std::thread thread_;
};

}  // namespace herd::runtime
