#pragma once
// herd-operator's coordinator listener is TLS unless --coordinator-insecure
// says otherwise: the certificate and key come from files (a Secret mounted by
// the chart), and the CA bundle that signed them is handed to every agent pod
// (in its run's token Secret) so the agents verify the coordinator's name.
#include <string>

#include "common/core/result.h"

namespace herd::operator_main {

struct CoordinatorTlsFlags {
  std::string cert;         // --coordinator-tls-cert
  std::string key;          // --coordinator-tls-key
  std::string ca;           // --coordinator-tls-ca: the bundle agents trust
  std::string server_name;  // --coordinator-tls-server-name: agents' expected name
  bool insecure = false;    // --coordinator-insecure: plaintext, on purpose
};

// The CA bundle (PEM) agents must trust; empty with --coordinator-insecure. An
// Error (exit 2) when TLS is neither configured nor explicitly turned off, is
// half configured, or a file cannot be read.
Result<std::string> agentCaBundle(const CoordinatorTlsFlags& flags);

}  // namespace herd::operator_main
