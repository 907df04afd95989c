#include "common/coordinator/grpc_service.h"

#include <atomic>
#include <thread>

#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "common/coordinator/grpc_tls.h"
#include "common/core/logging.h"
#include "herd/v1/agent.grpc.pb.h"

namespace herd::coordinator {

namespace {

constexpr auto kWriterPoll = std::chrono::milliseconds(500);  // close() wakes it at once
// After its last message (Refused, Finished), how long an agent has to hang up
// before the coordinator cancels the stream.
constexpr auto kHangUpWait = std::chrono::seconds(2);

class Service final : public v1::Coordinator::Service {
 public:
  Service(StreamHandler& coordinator, size_t max_message_bytes)
      : coordinator_(coordinator), max_message_bytes_(max_message_bytes) {}

  grpc::Status Connect(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<v1::CoordinatorMessage, v1::AgentMessage>* stream) override {
    auto connection = coordinator_.connect(context->peer());
    std::atomic<bool> reader_done{false};
    // The writer sends what the coordinator queued; this thread reads. gRPC's
    // sync streams allow one reader and one writer at a time.
    std::thread writer([&] {
      MonoTime drained{};
      for (;;) {
        if (auto message = connection->pop(kWriterPoll)) {
          if (!stream->Write(*message)) break;
          continue;
        }
        if (!connection->closed()) continue;
        if (reader_done.load()) break;
        if (drained == MonoTime{}) drained = MonoClock::now();
        if (MonoClock::now() - drained >= kHangUpWait) {
          context->TryCancel();  // the agent did not hang up: end the stream from here
          break;
        }
      }
    });
    v1::AgentMessage message;
    size_t messages = 0;
    while (stream->Read(&message)) {
      ++messages;
      coordinator_.receive(connection, message);
      if (connection->closed()) break;
    }
    reader_done.store(true);
    // A stream we did not end (no Refused, no Finished) ended early: the agent
    // went away, or gRPC dropped a message it could not accept.
    const bool ours = connection->closed();
    std::string why = "the agent hung up";
    if (!ours) {
      why = fmt::format("stream ended after {} message(s) without a goodbye: the agent went away, or sent bytes "
                        "gRPC refused (over {} bytes, or not a herd.v1.AgentMessage)",
                        messages, max_message_bytes_);
      logger("coordinator")->warn("{}: {}", context->peer(), why);
    }
    coordinator_.disconnected(connection, why);
    writer.join();
    return ours ? grpc::Status::OK : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
  }

 private:
  StreamHandler& coordinator_;
  const size_t max_message_bytes_;
};

}  // namespace

struct GrpcServer::Impl {
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
  impl->service = std::make_unique<Service>(coordinator, options.max_message_bytes);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &impl->port);
  builder.RegisterService(impl->service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return Error{"cannot listen there (address in use, not local, or a bad certificate/key)", "--listen " + options.listen};
  }
  logger("coordinator")->info("listening on {} (port {}){}", options.listen, impl->port,
                              tlsMode(tls));
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const { return impl_->port; }

void GrpcServer::shutdown(Nanos deadline) {
  if (!impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace herd::coordinator
