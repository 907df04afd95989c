#include "agent/engine/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

#include "common/core/logging.h"

namespace herd::engine {
namespace {

// --- A socket BIO that never raises SIGPIPE -------------------------------
// OpenSSL's own socket BIO writes with write(), so a peer that reset the
// connection would kill the process with SIGPIPE. A library must not change
// the process's signal dispositions, so this BIO uses send(MSG_NOSIGNAL).

int fdOf(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

int bioWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = send(fdOf(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int bioRead(BIO* bio, char* buffer, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = recv(fdOf(bio), buffer, static_cast<size_t>(size), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long bioCtrl(BIO*, int command, long, void*) {  // NOLINT(google-runtime-int): OpenSSL's signature
  // FLUSH must succeed (writes are unbuffered); every other control is unsupported.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

const BIO_METHOD* socketBioMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "herd socket");
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_ctrl(m, bioCtrl);
    return m;
  }();
  return method;
}

// --- Errors ----------------------------------------------------------------

std::string openSslError(const char* what) {
  std::string message = what;
  const unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int)
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    message += ": ";
    message += text;
  }
  ERR_clear_error();
  return message;
}

// Maps the outcome of an SSL call (`result` <= 0) to an IoResult. Reads errno
// first: SSL_get_error() may overwrite it.
IoResult failedCall(SSL* ssl, int result) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl, result)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return {IoResult::Kind::kWouldBlock, 0, 0};
    case SSL_ERROR_ZERO_RETURN: return {IoResult::Kind::kEof, 0, 0};
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      // errno 0: the peer closed without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF
      // makes that a ZERO_RETURN in OpenSSL 3; older versions land here).
      if (saved_errno == 0) return {IoResult::Kind::kEof, 0, 0};
      return {IoResult::Kind::kError, saved_errno, 0};
    default: {
      static const auto log = logger("engine");
      if (log->should_log(spdlog::level::debug)) {
        const long verify = SSL_get_verify_result(ssl);  // NOLINT(google-runtime-int)
        log->debug("TLS failure: {} (certificate: {})", openSslError("TLS"), X509_verify_cert_error_string(verify));
      }
      ERR_clear_error();
      return {IoResult::Kind::kTlsError, 0, 0};
    }
  }
}

bool isIpLiteral(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::create(bool verify_peer, std::string ca_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Error{openSslError("cannot create a TLS context"), ""};
  std::shared_ptr<TlsContext> context(new TlsContext(ctx, verify_peer));  // private constructor

  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // RELEASE_BUFFERS keeps idle connections small; PARTIAL_WRITE and
  // MOVING_WRITE_BUFFER let a large request go out as the socket drains.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Servers commonly close without close_notify after a read-until-close body.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);

  if (!verify_peer) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return context;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
      return Error{openSslError("cannot load CA certificates"), ca_file};
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Error{openSslError("cannot load the system CA certificates"), ""};
  }
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* tlsNewSession(const TlsContext& context, int fd, const std::string& origin_host) {
  // "[::1]" as written in a URL is the address ::1.
  const bool bracketed = origin_host.size() >= 2 && origin_host.front() == '[' && origin_host.back() == ']';
  const std::string host = bracketed ? origin_host.substr(1, origin_host.size() - 2) : origin_host;
  SSL* ssl = SSL_new(context.get());
  if (ssl == nullptr) return nullptr;
  BIO* bio = BIO_new(socketBioMethod());
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // one reference, owned by the SSL from here on
  SSL_set_connect_state(ssl);

  const bool ip = isIpLiteral(host);
  if (!ip) {
    // SSL_set_tlsext_host_name() without its C-style cast (-Wold-style-cast).
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  }
  if (context.verifyPeer()) {
    const int named = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
                         : SSL_set1_host(ssl, host.c_str());
    if (named != 1) {
      SSL_free(ssl);
      ERR_clear_error();
      return nullptr;
    }
  }
  return ssl;
}

IoResult tlsHandshake(SSL* ssl) {
  ERR_clear_error();  // SSL_get_error() looks at this thread's error queue
  const int result = SSL_do_handshake(ssl);
  if (result == 1) return {IoResult::Kind::kOk, 0, 0};
  return failedCall(ssl, result);
}

IoResult tlsRead(SSL* ssl, char* buffer, size_t size) {
  ERR_clear_error();
  size_t read = 0;
  const int result = SSL_read_ex(ssl, buffer, size, &read);
  if (result == 1) return {IoResult::Kind::kOk, 0, read};
  return failedCall(ssl, result);
}

IoResult tlsWrite(SSL* ssl, const char* data, size_t size) {
  ERR_clear_error();
  size_t written = 0;
  const int result = SSL_write_ex(ssl, data, size, &written);
  if (result == 1) return {IoResult::Kind::kOk, 0, written};
  return failedCall(ssl, result);
}

}  // namespace herd::engine
