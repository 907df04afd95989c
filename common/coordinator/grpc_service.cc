#include "common/coordinator/grpc_service.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>

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
  v1::Coordinator::AsyncService service;
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  std::atomic<size_t> unadmitted{0};
  std::atomic<uint64_t> over_cap{0};  // streams refused for max_unadmitted
  // Every operation on a stream starts under a shared lock of this and only
  // while `open`: the completion queue must not see one after its shutdown,
  // and streams start them from other threads (the handler's, the deadlines').
  std::shared_mutex starting;
  bool open = true;
  Deadlines deadlines;
};

// One agent's stream on gRPC's completion-queue API. All of a server's streams
// share one thread that takes their completions from one queue and polls the
// sockets itself: a report costs a read on that thread and no hand-over
// between threads (the callback API passed each completion from its poller to
// another thread, a futex wake-up per message). Reads go to the handler as
// they arrive; what the handler queues on the Connection is written from the
// thread that queued it (Connection::onReady) or from the last write's
// completion. Every operation is decided and started under mutex_ (its
// completion always comes back on the queue's thread, never inside the
// call that started it); `finished_` makes Finish the last one.
class Stream final : public std::enable_shared_from_this<Stream> {
 public:
  explicit Stream(Shared& shared) : shared_(shared), rw_(&context_) {}

  // Waits for the next call. The queue holds the stream (through self_)
  // until each operation it started has come back.
  static void listen(Shared& shared) {
    auto stream = std::make_shared<Stream>(shared);
    Stream& s = *stream;
    s.self_ = std::move(stream);
    std::shared_lock open(shared.starting);
    if (!shared.open) {
      s.self_.reset();
      return;
    }
    s.context_.AsyncNotifyWhenDone(&s.done_tag_);
    shared.service.RequestConnect(&s.context_, &s.rw_, shared.cq.get(), shared.cq.get(), &s.accept_tag_);
  }

  // One completion from the queue (on its thread).
  struct Tag {
    Stream* stream;
    void (Stream::*on)(bool ok);
  };

 private:
  void accepted(bool ok) {
    if (!ok) {  // the server is shutting down: no call came, and no done will
      self_.reset();
      return;
    }
    listen(shared_);  // the next agent's
    std::unique_lock lock(mutex_);
    if (shared_.unadmitted.fetch_add(1) >= shared_.options.max_unadmitted) {
      shared_.unadmitted.fetch_sub(1);
      unadmitted_ = false;
      refuse();
      return;
    }
    lock.unlock();
    start(context_.peer());
  }

  // Under mutex_: a stream refused before it costs anything (the unadmitted cap is reached).
  void refuse() {
    const auto refused = shared_.over_cap.fetch_add(1) + 1;
    // One line per hundred: a flood must not flood the log too.
    if (refused % 100 == 1) {
      logger("coordinator")
          ->warn("{}: refused, {} streams already wait for admission ({} refused so far)", context_.peer(),
                 shared_.options.max_unadmitted, refused);
    }
    finished_ = true;
    finishing_ = startOp([&] {
      rw_.Finish(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many agents waiting for admission; redial later"),
          &finish_tag_);
    });
  }

  void start(std::string peer) {
    connection_ = shared_.handler.connect(std::move(peer));
    std::weak_ptr<Stream> weak = weak_from_this();
    connection_->onReady([weak] {
      if (auto stream = weak.lock()) stream->pump();
    });
    shared_.deadlines.at(MonoClock::now() + shared_.options.hello_timeout, [weak] {
      if (auto stream = weak.lock()) stream->helloDeadline();
    });
    {
      std::lock_guard lock(mutex_);
      reading_ = startOp([&] { rw_.Read(nextMessage(), &read_tag_); });
      if (reading_) return;
    }
    readerDone();  // the server is closing
  }

  void readDone(bool ok) {
    {
      std::lock_guard lock(mutex_);
      reading_ = false;
      if (ok) ++messages_;
    }
    if (!ok) {
      readerDone();
      release();
      return;
    }
    shared_.handler.receive(connection_, *in_);
    // Handled: its memory goes back now, not when the next read starts.
    arena_.Reset();
    in_ = nullptr;
    if (const auto after = connection_->takeReadAfter(); after > MonoClock::now() && deferRead()) {
      // Nothing is expected before then (the agent's next report). A read
      // that waits for a message makes gRPC answer the message with a
      // flow-control update, a write per report; one that finds it there
      // does not. The window (64 KiB) still gets its update when a read
      // finds nothing, about once in tens of reports.
      std::weak_ptr<Stream> weak = weak_from_this();
      shared_.deadlines.at(after, [weak] {
        if (auto stream = weak.lock()) stream->resumeRead();
      });
      return;
    }
    readNext();
  }

  // Under mutex_: whether the stream is still read (not ending on either side).
  bool readable() const { return !finished_ && !call_over_ && !connection_->closed(); }

  // Whether the next read may wait.
  bool deferRead() {
    std::lock_guard lock(mutex_);
    read_deferred_ = readable();
    return read_deferred_;
  }

  // The deferred read falls due (on the deadlines' thread); done() may have
  // ended the reading meanwhile.
  void resumeRead() {
    {
      std::lock_guard lock(mutex_);
      if (!std::exchange(read_deferred_, false)) return;
    }
    readNext();
  }

  // Starts the next read, or ends the reading side when the stream is over.
  void readNext() {
    {
      std::lock_guard lock(mutex_);
      if (readable()) reading_ = startOp([&] { rw_.Read(nextMessage(), &read_tag_); });
      if (reading_) return;
    }
    readerDone();
    release();
  }

  void writeDone(bool ok) {
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (!ok) write_failed_ = true;  // the peer is gone; its read ends too
    }
    pump();
    release();
  }

  void finishDone(bool) {
    {
      std::lock_guard lock(mutex_);
      finishing_ = false;
    }
    release();
  }

  // The call is over: ended by Finish, or cancelled (the agent went away, or
  // the server shut down), which also fails the read and write in flight.
  void done(bool) {
    bool deferred = false;
    {
      std::lock_guard lock(mutex_);
      call_over_ = true;
      if (context_.IsCancelled() && !forced_) forced_ = grpc::Status::CANCELLED;
      deferred = std::exchange(read_deferred_, false);
    }
    if (deferred) readerDone();  // no read is out to fail: the reading ends here
    if (connection_) pump();
    release();
  }

  // Drops the queue's hold once nothing it started is still out.
  void release() {
    {
      std::lock_guard lock(mutex_);
      if (!call_over_ || reading_ || writing_ || finishing_ || !self_) return;
    }
    if (connection_) connection_->onReady(nullptr);
    leaveUnadmitted();
    auto last = std::move(self_);  // may destroy this stream on return
  }

  // Under mutex_, with no read out and the last message handled: a fresh one to read into.
  v1::AgentMessage* nextMessage() {
    arena_.Reset();
    in_ = google::protobuf::Arena::CreateMessage<v1::AgentMessage>(&arena_);
    return in_;
  }

  static google::protobuf::ArenaOptions arenaOptions() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 4096;  // a heartbeat fits; a report takes a few
    options.max_block_size = 64 * 1024;
    return options;
  }

  // Under mutex_: starts one operation unless the server is closing; whether it started.
  template <class Op>
  bool startOp(Op&& op) {
    std::shared_lock open(shared_.starting);
    if (!shared_.open) return false;
    op();
    return true;
  }

  // Writes the next queued message, or ends the stream when there is nothing
  // left to do: the connection closed and drained, and the agent hung up (or
  // a deadline forced the end).
  void pump() {
    std::unique_lock lock(mutex_);
    if (finished_ || writing_) return;
    if (!forced_ && !write_failed_ && !call_over_) {
      if (auto message = connection_->pop(Nanos(0))) {
        if (message->has_welcome() && std::exchange(unadmitted_, false)) shared_.unadmitted.fetch_sub(1);
        out_ = std::move(*message);
        writing_ = startOp([&] { rw_.Write(out_, &write_tag_); });
        return;
      }
    }
    if (!forced_ && !call_over_) {
      if (!connection_->closed() && !write_failed_) return;  // more to come
      if (!reader_done_) {
        armHangUp();
        return;
      }
    }
    finished_ = true;
    if (std::exchange(unadmitted_, false)) shared_.unadmitted.fetch_sub(1);  // before the peer can see the end
    if (call_over_) return;
    const grpc::Status status = forced_ ? *forced_ : status_;
    finishing_ = startOp([&] { rw_.Finish(status, &finish_tag_); });
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
    // The peer's name from the connection: the call may be over once the stream ends.
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
    std::lock_guard lock(mutex_);
    if (std::exchange(unadmitted_, false)) shared_.unadmitted.fetch_sub(1);
  }

  Shared& shared_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<v1::CoordinatorMessage, v1::AgentMessage> rw_;
  Tag accept_tag_{this, &Stream::accepted};
  Tag read_tag_{this, &Stream::readDone};
  Tag write_tag_{this, &Stream::writeDone};
  Tag finish_tag_{this, &Stream::finishDone};
  Tag done_tag_{this, &Stream::done};
  std::shared_ptr<Connection> connection_;  // set once when the call starts, on the queue's thread
  std::shared_ptr<Stream> self_;
  // One read at a time, parsed into arena_: a report's parts (a histogram's
  // packed arrays per endpoint) come from a few blocks instead of a malloc
  // each, and go at once when the next read starts.
  google::protobuf::Arena arena_{arenaOptions()};
  v1::AgentMessage* in_ = nullptr;
  v1::CoordinatorMessage out_;  // one write at a time
  std::mutex mutex_;            // guards what follows
  bool unadmitted_ = true;      // counted in shared_.unadmitted until the Welcome
  size_t messages_ = 0;
  bool reading_ = false;        // a Read, Write or Finish is out
  bool read_deferred_ = false;  // the next Read waits for a deadline (readAfter)
  bool writing_ = false;
  bool finishing_ = false;
  bool write_failed_ = false;
  bool reader_done_ = false;
  bool hang_up_armed_ = false;
  bool finished_ = false;
  bool call_over_ = false;              // the done notification came
  std::optional<grpc::Status> forced_;  // a deadline or a cancel ends the stream with this
  grpc::Status status_;                 // otherwise: decided when the reading ends
  std::string why_;                     // why a deadline ended it
};

// Takes every completion of the server's queue until the queue is shut down
// and drained.
void serve(grpc::ServerCompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
    auto* t = static_cast<Stream::Tag*>(tag);
    (t->stream->*t->on)(ok);
  }
}

// What a peer that never authenticates may hold at the transport: a TLS or
// HTTP/2 handshake, or a connection with no stream, for hello_timeout at most.
void limitBeforeAdmission(grpc::ServerBuilder& builder, const ServerOptions& options) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.hello_timeout).count();
  const int limit = static_cast<int>(std::clamp<int64_t>(ms, 1, INT32_MAX));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, limit);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, limit);
}

}  // namespace

// Destroyed bottom-up: the queue's thread (joined by shutdown), the server,
// then the service and what the streams share.
struct GrpcServer::Impl {
  std::unique_ptr<Shared> shared;
  std::unique_ptr<grpc::Server> server;
  std::thread thread;
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
  Shared& shared = *impl->shared;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &impl->port);
  builder.RegisterService(&shared.service);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  limitBeforeAdmission(builder, options);
  // No bandwidth-delay probing: a report a second per agent does not need a
  // larger flow-control window, and each probe is a PING out and an ack in,
  // so the probes doubled the wake-ups per report.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  shared.cq = builder.AddCompletionQueue();
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    impl->server.reset();
    shared.cq->Shutdown();
    serve(*shared.cq);  // drains it: a queue is destroyed empty
    return Error{"cannot listen there (address in use, not local, or a bad certificate/key)",
                 "--listen " + options.listen};
  }
  Stream::listen(shared);
  impl->thread = std::thread([&shared] { serve(*shared.cq); });
  logger("coordinator")->info("listening on {} (port {}){}", options.listen, impl->port, tlsMode(tls));
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const { return impl_->port; }

size_t GrpcServer::unadmitted() const { return impl_->shared->unadmitted.load(); }

void GrpcServer::shutdown(Nanos deadline) {
  if (!impl_->server) return;
  // Streams still open after the deadline are cancelled; the queue's thread
  // goes on taking their completions meanwhile.
  impl_->server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline));
  impl_->server->Wait();
  {
    std::unique_lock lock(impl_->shared->starting);
    impl_->shared->open = false;
  }
  impl_->shared->cq->Shutdown();
  impl_->thread.join();
  impl_->server.reset();
}

}  // namespace herd::coordinator
