#pragma once
// TLS for the engine's HTTP client: OpenSSL over the engine's own non-blocking
// sockets. A TlsContext is built once per run (it loads the CA store, which is
// slow) and shared read-only by every worker; OpenSSL's SSL_CTX is thread-safe
// for that. Each connection then owns one SSL object, created per TCP connection.
//
// Idle memory: SSL_MODE_RELEASE_BUFFERS frees the 16 KiB+ record buffers
// whenever a connection has nothing buffered, so an idle TLS connection keeps
// only the SSL object and its session.
#include <memory>
#include <string>

#include "agent/engine/socket_io.h"
#include "common/core/result.h"

// OpenSSL's handle types, declared as <openssl/types.h> declares them, so that
// only this folder's .cc files include OpenSSL.
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace herd::engine {

class TlsContext {
 public:
  // verify_peer = false is --insecure: any certificate and name is accepted.
  // Otherwise the server's chain must verify against `ca_file` (PEM, may hold
  // several certificates) or, when empty, the system's default CA store, and
  // its name must match the origin's host (DNS name or IP address).
  static Result<std::shared_ptr<TlsContext>> create(bool verify_peer, std::string ca_file = "");

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  bool verifyPeer() const { return verify_peer_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify_peer) : ctx_(ctx), verify_peer_(verify_peer) {}

  SSL_CTX* ctx_;
  bool verify_peer_;
};

// A client SSL object on the connected socket `fd` (not owned), with SNI and
// name verification for `host` (SNI is left out for IP literals, as RFC 6066
// requires). Null when OpenSSL cannot allocate. Free it with SSL_free().
SSL* tlsNewSession(const TlsContext& context, int fd, const std::string& host);

// One step of the handshake / I/O on a non-blocking SSL. kWouldBlock covers
// both WANT_READ and WANT_WRITE: the caller retries on any socket event, which
// is what edge-triggered registration for both directions gives it.
IoResult tlsHandshake(SSL* ssl);
IoResult tlsRead(SSL* ssl, char* buffer, size_t size);
IoResult tlsWrite(SSL* ssl, const char* data, size_t size);

}  // namespace herd::engine
