#include "operator/main/coordinator_tls.h"

#include <fstream>
#include <sstream>

namespace herd::operator_main {

Result<std::string> agentCaBundle(const CoordinatorTlsFlags& flags) {
  const bool any = !flags.cert.empty() || !flags.key.empty() || !flags.ca.empty();
  if (flags.insecure) {
    if (any) return Error{"plaintext was asked for, yet TLS files were given", "--coordinator-insecure"};
    return std::string();
  }
  if (flags.cert.empty() || flags.key.empty() || flags.ca.empty()) {
    return Error{
        "the coordinator serves agents over TLS: pass --coordinator-tls-cert, --coordinator-tls-key and "
        "--coordinator-tls-ca (the CA agents trust), or --coordinator-insecure for plaintext",
        "--coordinator-tls-*"};
  }
  std::ifstream in(flags.ca, std::ios::binary);
  if (!in) return Error{"cannot read the file", "--coordinator-tls-ca " + flags.ca};
  std::ostringstream pem;
  pem << in.rdbuf();
  if (pem.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Error{"no PEM certificate in the file", "--coordinator-tls-ca " + flags.ca};
  }
  return pem.str();
}

}  // namespace herd::operator_main
