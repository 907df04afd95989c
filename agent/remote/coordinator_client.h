#pragma once
// `herd agent`'s link to its coordinator: one gRPC stream (herd.v1.Coordinator/
// Connect) carrying an AgentSession's messages. When the stream breaks the
// session keeps generating load and buffering reports while this redials with
// backoff; the next Welcome says what was counted and the rest is resent. This
// is the only place on the agent's side that includes gRPC.
#include <atomic>
#include <functional>
#include <string>

#include "agent/runtime/agent_session.h"
#include "common/core/clock.h"
#include "common/core/result.h"

namespace herd::remote {

struct ClientOptions {
  std::string coordinator;      // HOST:PORT
  std::string token;            // the run's token (from --token-file)
  std::string tls_ca_file;      // PEM: use TLS and trust this CA for the coordinator
  std::string tls_server_name;  // expected name in the coordinator's certificate (default: HOST)
  std::string tls_cert_file;    // PEM: this agent's certificate, for a coordinator requiring one (mTLS)
  std::string tls_key_file;     // its private key
  // Silence from the coordinator for this long counts as a broken stream. The
  // coordinator writes at least every 2 s (an Ack or a heartbeat,
  // coordinator::kAckInterval), so this is three of its intervals.
  Nanos silence_timeout = std::chrono::seconds(6);
  // Give up (exit 3) after this long without a working stream.
  Nanos reconnect_timeout = std::chrono::seconds(60);
  size_t max_message_bytes = 4 << 20;
  // Set (from a signal handler) to leave the run early: users stop, the last
  // report is delivered, then runAgent returns 0.
  const std::atomic<bool>* leave = nullptr;
  // Sees every message the session hands the transport (resent reports again),
  // on the session's thread; must not block (herd agent --metrics-listen).
  std::function<void(const v1::AgentMessage&)> on_send;
};

struct AgentOutcome {
  int exit_code = 0;
  std::string message;  // why it ended, for people
};

// Runs until the coordinator says Finished (exit 0), refuses us, or cannot be
// reached for reconnect_timeout (exit 3 for both; 2 when the scenario does not
// compile here or our C++ libraries are not the run's).
AgentOutcome runAgent(runtime::AgentSession& session, const ClientOptions& options);

}  // namespace herd::remote
