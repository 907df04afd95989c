#include "common/coordinator/grpc_service.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>

#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "common/coordinator/deadlines.h"
#include "common/coordinator/grpc_tls.h"
#include "common/core/logging.h"
#include "herd/v1/agent.grpc.pb.h"

namespace herd::coordinator {

namespace {

// After its last message (Refused, Finished), how long an agent has to hang up
// before the coordinator ends the stream.
constexpr auto kHangUpWait = std::chrono::seconds(2);

// What every stream of one server shares.
struct Shared {
  Shared(StreamHandler& h, const ServerOptions& o) : handler(h), options(o) {}  // clang 14: no C++20 paren-init

  StreamHandler& handler;
  const ServerOptions options;
  std::atomic<size_t> unadmitted{0};
  std::atomic<uint64_t> over_cap{0};  // streams refused for max_unadmitted
  Deadlines deadlines;
};

// A stream refused before it costs anything: the unadmitted cap is reached.
class Refusal final : public grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage> {
 public:
  explicit Refusal(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// One agent's stream on gRPC's callback API: no thread of its own. Reads go
// to the handler as they arrive; what the handler queues on the Connection is
// written from the thread that queued it (Connection::onReady) or from the
// last write's completion. Every Start*/Finish is decided under mutex_ and
// called outside it; `finished_` makes Finish the last one.
class Stream final : public grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage>,
                     public std::enable_shared_from_this<Stream> {
 public:
  explicit Stream(Shared& shared) : shared_(shared) {}

  // gRPC holds the stream (through self_) until OnDone.
  static Stream* open(Shared& shared, grpc::CallbackServerContext* context) {
    auto stream = std::make_shared<Stream>(shared);
    stream->self_ = stream;
    stream->start(context->peer());
    return stream.get();
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      {
        std::lock_guard lock(mutex_);
        ++messages_;
      }
      shared_.handler.receive(connection_, in_);
      bool again = false;
      {
        std::lock_guard lock(mutex_);
        again = !finished_ && !connection_->closed();
      }
      if (again) {
        StartRead(&in_);
        return;
      }
    }
    readerDone();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (!ok) write_failed_ = true;  // the peer is gone; its read ends too
    }
    pump();
  }

  void OnCancel() override {
    {
      std::lock_guard lock(mutex_);
      if (!forced_) forced_ = grpc::Status::CANCELLED;
    }
    pump();
  }

  void OnDone() override {
    connection_->onReady(nullptr);
    leaveUnadmitted();
    auto last = std::move(self_);  // may destroy this stream on return
  }

 private:
  void start(std::string peer) {
    connection_ = shared_.handler.connect(std::move(peer));
    std::weak_ptr<Stream> weak = weak_from_this();
    connection_->onReady([weak] {
      if (auto stream = weak.lock()) stream->pump();
    });
    shared_.deadlines.at(MonoClock::now() + shared_.options.hello_timeout, [weak] {
      if (auto stream = weak.lock()) stream->helloDeadline();
    });
    StartRead(&in_);
  }

  // Writes the next queued message, or ends the stream when there is nothing
  // left to do: the connection closed and drained, and the agent hung up (or
  // a deadline forced the end).
  void pump() {
    std::unique_lock lock(mutex_);
    if (finished_ || writing_) return;
    if (!forced_ && !write_failed_) {
      if (auto message = connection_->pop(Nanos(0))) {
        const bool welcome = message->has_welcome();
        out_ = std::move(*message);
        writing_ = true;
        lock.unlock();
        if (welcome) leaveUnadmitted();
        StartWrite(&out_);
        return;
      }
    }
    if (!forced_) {
      if (!connection_->closed() && !write_failed_) return;  // more to come
      if (!reader_done_) {
        armHangUp();
        return;
      }
    }
    finished_ = true;
    const grpc::Status status = forced_ ? *forced_ : status_;
    lock.unlock();
    leaveUnadmitted();  // before the peer can see the end
    Finish(status);
  }

  // Under mutex_: the connection is over on our side; the agent has a moment
  // to hang up before the stream is ended from here.
  void armHangUp() {
    if (hang_up_armed_) return;
    hang_up_armed_ = true;
    std::weak_ptr<Stream> weak = weak_from_this();
    shared_.deadlines.at(MonoClock::now() + kHangUpWait, [weak] {
      auto stream = weak.lock();
      if (!stream) return;
      {
        std::lock_guard lock(stream->mutex_);
        if (stream->reader_done_ || stream->forced_) return;
        stream->forced_ = grpc::Status::OK;  // ours: the coordinator said its last word
      }
      stream->pump();
    });
  }

  void helloDeadline() {
    const auto why = fmt::format("no Hello within {:.1f}s",
                                 std::chrono::duration<double>(shared_.options.hello_timeout).count());
    {
      std::lock_guard lock(mutex_);
      if (messages_ > 0 || forced_ || finished_) return;
      why_ = why;
      forced_ = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, why);
    }
    // The peer's name from the connection: gRPC's context may be gone once the stream ends.
    logger("coordinator")->warn("{}: {}; stream closed", connection_->peer(), why);
    pump();
  }

  // The reading side is over (the agent hung up, the stream broke, or the
  // connection closed on our side): the handler hears it once, then what is
  // still queued goes out and the stream ends.
  void readerDone() {
    // A stream we did not end (no Refused, no Finished) ended early: the agent
    // went away, or gRPC dropped a message it could not accept.
    const bool ours = connection_->closed();
    std::string why;
    bool early = false;
    {
      std::lock_guard lock(mutex_);
      reader_done_ = true;
      why = why_;
      if (why.empty() && !ours) {
        early = true;
        why = fmt::format(
            "stream ended after {} message(s) without a goodbye: the agent went away, or sent "
            "bytes gRPC refused (over {} bytes, or not a herd.v1.AgentMessage)",
            messages_, shared_.options.max_message_bytes);
      }
      status_ = ours ? grpc::Status::OK : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
    }
    if (early) logger("coordinator")->warn("{}: {}", connection_->peer(), why);
    if (why.empty()) why = "the agent hung up";
    shared_.handler.disconnected(connection_, why);
    pump();
  }

  void leaveUnadmitted() {
    bool was = false;
    {
      std::lock_guard lock(mutex_);
      was = std::exchange(unadmitted_, false);
    }
    if (was) shared_.unadmitted.fetch_sub(1);
  }

  Shared& shared_;
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<Stream> self_;
  v1::AgentMessage in_;         // one read at a time
  v1::CoordinatorMessage out_;  // one write at a time
  std::mutex mutex_;            // guards what follows
  bool unadmitted_ = true;      // counted in shared_.unadmitted until the Welcome
  size_t messages_ = 0;
  bool writing_ = false;
  bool write_failed_ = false;
  bool reader_done_ = false;
  bool hang_up_armed_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> forced_;  // a deadline or a cancel ends the stream with this
  grpc::Status status_;                 // otherwise: decided when the reading ends
  std::string why_;                     // why a deadline ended it
};

class Service final : public v1::Coordinator::CallbackService {
 public:
  explicit Service(Shared& shared) : shared_(shared) {}

  grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override {
    if (shared_.unadmitted.fetch_add(1) >= shared_.options.max_unadmitted) {
      shared_.unadmitted.fetch_sub(1);
      const auto refused = shared_.over_cap.fetch_add(1) + 1;
      // One line per hundred: a flood must not flood the log too.
      if (refused % 100 == 1) {
        logger("coordinator")
            ->warn("{}: refused, {} streams already wait for admission ({} refused so far)", context->peer(),
                   shared_.options.max_unadmitted, refused);
      }
      return new Refusal(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many agents waiting for admission; redial later"));
    }
    return Stream::open(shared_, context);
  }

 private:
  Shared& shared_;
};

// What a peer that never authenticates may hold at the transport: a TLS or
// HTTP/2 handshake, or a connection with no stream, for hello_timeout at most.
void limitBeforeAdmission(grpc::ServerBuilder& builder, const ServerOptions& options) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.hello_timeout).count();
  const int limit = static_cast<int>(std::clamp<int64_t>(ms, 1, INT32_MAX));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, limit);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, limit);
}

}  // namespace

// Destroyed bottom-up: the server (all streams done) before the service and
// what the streams share.
struct GrpcServer::Impl {
  std::unique_ptr<Shared> shared;
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};
GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { shutdown(); }

Result<std::unique_ptr<GrpcServer>> GrpcServer::start(StreamHandler& coordinator, const ServerOptions& options) {
  const TlsFiles tls{options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file};
  auto credentials = serverCredentials(tls);
  if (!credentials) return credentials.error();
  if (!tls.cert.empty()) logHandshakeFailures();
  // gRPC's absl mutexes check every lock order for deadlocks by default, which
  // costs more than the coordinator's own work with hundreds of streams.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto impl = std::make_unique<Impl>();
  impl->shared = std::make_unique<Shared>(coordinator, options);
  impl->service = std::make_unique<Service>(*impl->shared);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &impl->port);
  builder.RegisterService(impl->service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  limitBeforeAdmission(builder, options);
  // No bandwidth-delay probing: a report a second per agent does not need a
  // larger flow-control window, and each probe is a PING out and an ack in,
  // so the probes doubled the wake-ups per report.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return Error{"cannot listen there (address in use, not local, or a bad certificate/key)",
                 "--listen " + options.listen};
  }
  logger("coordinator")->info("listening on {} (port {}){}", options.listen, impl->port, tlsMode(tls));
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const { return impl_->port; }

size_t GrpcServer::unadmitted() const { return impl_->shared->unadmitted.load(); }

void GrpcServer::shutdown(Nanos deadline) {
  if (!impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace herd::coordinator
