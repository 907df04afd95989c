#include "common/coordinator/grpc_tls.h"

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>

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

// gRPC appends a tree of causes to an error; its head carries OpenSSL's
// reason. A peer that rejects our certificate just closes the connection.
std::string handshakeReason(std::string_view detail) {
  std::string reason(detail.substr(0, detail.find(" {")));
  if (reason.find("Handshake read failed") != std::string::npos && detail.find("Socket closed") != std::string::npos) {
    reason += " (the peer closed the connection: it may not trust this certificate or the name in it)";
  }
  return reason;
}

// At most kBurst lines a window: a peer redialling in a loop cannot fill the log.
constexpr int kBurst = 20;
constexpr auto kWindow = std::chrono::seconds(10);

void warnRefused(const std::string& reason) {
  static std::mutex mu;
  static auto window_start = std::chrono::steady_clock::now();
  static int logged = 0, suppressed = 0;
  std::lock_guard lock(mu);
  auto log = logger("coordinator");
  if (std::chrono::steady_clock::now() - window_start >= kWindow) {
    if (suppressed > 0) log->warn("{} more connection(s) refused during the TLS handshake", suppressed);
    window_start = std::chrono::steady_clock::now();
    logged = suppressed = 0;
  }
  if (logged++ < kBurst) log->warn("refused a connection during the TLS handshake: {}", reason);
  else ++suppressed;
}

// gRPC reports a failed handshake only in its own debug log: chttp2_server's
// "Handshaking failed: ..." once per connection (OpenSSL's own line at error
// level says the same once more and is dropped). gRPC's other errors stay
// errors; the rest of its debug chatter is dropped.
void forwardGrpcLog(gpr_log_func_args* args) {
  constexpr std::string_view kFailed = "Handshaking failed: ";
  const std::string_view message = args->message != nullptr ? args->message : "";
  if (message.substr(0, kFailed.size()) == kFailed) {
    warnRefused(handshakeReason(message.substr(kFailed.size())));
  } else if (args->severity == GPR_LOG_SEVERITY_ERROR && message.find("andshake failed") == std::string_view::npos) {
    logger("grpc")->error("{}", message);
  }
}

}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(const TlsFiles& files) {
  if (files.cert.empty() && files.key.empty()) {
    if (!files.client_ca.empty())
      return Error{"client certificates need TLS: add --tls-cert and --tls-key", "--tls-client-ca"};
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
