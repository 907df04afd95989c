#include "common/coordinator/grpc_tls.h"

#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include <grpc/support/log.h>
#include <grpcpp/security/server_credentials.h>

#include "common/core/logging.h"

namespace herd::coordinator {

namespace {

Result<std::string> readPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the file", std::string(flag) + " " + path};
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return Error{"not a PEM file", std::string(flag) + " " + path};
  }
  return text.str();
}

// gRPC reports a failed handshake only in its own debug log ("Handshaking
// failed: ..." with OpenSSL's reason); the sink keeps those and gRPC's errors
// and drops the rest of the debug chatter.
void forwardGrpcLog(gpr_log_func_args* args) {
  const char* message = args->message != nullptr ? args->message : "";
  if (std::strstr(message, "andshak") != nullptr && std::strstr(message, "ailed") != nullptr) {
    logger("coordinator")->warn("refused a connection during the TLS handshake: {}", message);
  } else if (args->severity == GPR_LOG_SEVERITY_ERROR) {
    logger("grpc")->error("{}", message);
  }
}

}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(const TlsFiles& files) {
  if (files.cert.empty() && files.key.empty()) {
    if (!files.client_ca.empty()) return Error{"client certificates need TLS: add --tls-cert and --tls-key", "--tls-client-ca"};
    return grpc::InsecureServerCredentials();
  }
  if (files.cert.empty() || files.key.empty()) {
    return Error{"TLS needs both a certificate and a key", "--tls-cert/--tls-key"};
  }
  auto cert = readPem(files.cert, "--tls-cert");
  if (!cert) return cert.error();
  auto key = readPem(files.key, "--tls-key");
  if (!key) return key.error();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!files.client_ca.empty()) {
    auto ca = readPem(files.client_ca, "--tls-client-ca");
    if (!ca) return ca.error();
    ssl.pem_root_certs = *ca;
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

std::string tlsMode(const TlsFiles& files) {
  if (files.cert.empty()) return "";
  return files.client_ca.empty() ? " with TLS" : " with mTLS (client certificates required)";
}

void logHandshakeFailures() {
  static std::once_flag once;
  std::call_once(once, [] {
    gpr_set_log_function(forwardGrpcLog);
    gpr_set_log_verbosity(GPR_LOG_SEVERITY_DEBUG);
  });
}

}  // namespace herd::coordinator
