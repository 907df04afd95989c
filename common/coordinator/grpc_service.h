#pragma once
// The coordinator over gRPC: one bidirectional stream per agent
// (herd.v1.Coordinator/Connect). This is the only place on the coordinator's
// side that includes gRPC; everything it receives goes to Coordinator.
#include <cstddef>
#include <memory>
#include <string>

#include "common/coordinator/coordinator.h"
#include "common/core/result.h"

namespace herd::coordinator {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free one
  std::string tls_cert_file;           // PEM; with tls_key_file, the stream uses TLS
  std::string tls_key_file;
  std::string tls_client_ca_file;  // PEM; agents must present a certificate it signed (mTLS)
  // A message bigger than this is refused by gRPC before it is parsed; a report
  // of every bucket of every endpoint of a large scenario stays far below it.
  size_t max_message_bytes = 4 << 20;
  // Before an agent is admitted (its Welcome) it has proved nothing: a stream
  // that sends no Hello within hello_timeout is ended (DEADLINE_EXCEEDED), and
  // beyond max_unadmitted streams waiting for admission a new one is refused
  // at once (RESOURCE_EXHAUSTED; agents redial). A connection that completes
  // no handshake, or carries no stream, is closed after hello_timeout too.
  Nanos hello_timeout = std::chrono::seconds(10);
  size_t max_unadmitted = 1024;
};

class GrpcServer {
 public:
  // Serves one run (a Coordinator) or many (a Hub).
  static Result<std::unique_ptr<GrpcServer>> start(StreamHandler& handler, const ServerOptions& options);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const;
  // Streams open now that have not been admitted (for tests and logs).
  size_t unadmitted() const;
  // Ends every stream and stops listening; waits at most `deadline` for agents to hang up.
  void shutdown(Nanos deadline = std::chrono::seconds(2));

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herd::coordinator
