#pragma once
// The coordinator listener's TLS: server credentials from PEM files (a client
// CA makes client certificates mandatory: mTLS), and gRPC's own record of
// failed handshakes forwarded to herd's log, so a refused peer (plaintext, an
// untrusted CA, no client certificate) is visible on the coordinator's side
// too. Used by grpc_service.cc only.
#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "common/core/result.h"

namespace herd::coordinator {

struct TlsFiles {
  std::string cert;       // PEM chain served to agents
  std::string key;        // its private key
  std::string client_ca;  // PEM: agents must present a certificate signed by it
};

// Insecure credentials when no file is given; an Error naming the flag when
// only half a pair is given or a file cannot be read.
Result<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(const TlsFiles& files);

// "with TLS", "with mTLS" or "" for the listening line.
std::string tlsMode(const TlsFiles& files);

// Installs (once per process) a gRPC log sink that reports failed handshakes
// at warn level under the "coordinator" logger and gRPC's errors as errors.
void logHandshakeFailures();

}  // namespace herd::coordinator
