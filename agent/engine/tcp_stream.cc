#include "agent/engine/tcp_stream.h"

#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "agent/engine/socket_io.h"
#include "agent/engine/tls.h"

namespace herd::engine {

namespace {
constexpr uint32_t kSocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr size_t kReadChunk = 16 * 1024;
}  // namespace

TcpStream::TcpStream(EventLoop& loop, TcpStreamClient& client)
    : loop_(loop), client_(client), deferred_([this] { finish(deferred_error_); }) {}

TcpStream::~TcpStream() { close(); }

void TcpStream::close() {
  loop_.disarm(deferred_);
  op_ = Op::kNone;
  into_ = nullptr;
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ < 0) return;
  loop_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

void TcpStream::connect(const Address& address, const TlsContext* tls, const std::string& host) {
  close();
  op_ = Op::kConnect;
  tls_ = tls;
  host_ = host;
  const ConnectAttempt attempt = startConnect(address);
  if (attempt.fd < 0) {
    deferFinish(attempt.error);
    return;
  }
  fd_ = attempt.fd;
  if (!loop_.watch(fd_, kSocketEvents, this)) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    deferFinish(error);
    return;
  }
  if (!attempt.in_progress) progress(EPOLLOUT);
}

// After the TCP connect: plain TCP is done; TLS starts (or goes on with) its handshake.
void TcpStream::handshake() {
  if (ssl_ == nullptr) {
    ssl_ = tlsNewSession(*tls_, fd_, host_);
    // No ALPN: the context offers http/1.1, and the protocol here is the client's own.
    if (ssl_ == nullptr || SSL_set_alpn_protos(ssl_, nullptr, 0) != 0) {
      deferFinish(kTlsFailed);
      return;
    }
  }
  const IoResult result = tlsHandshake(ssl_);
  switch (result.kind) {
    case IoResult::Kind::kOk: deferFinish(0); return;
    case IoResult::Kind::kWouldBlock: return;
    case IoResult::Kind::kError: deferFinish(result.error != 0 ? result.error : ECONNRESET); return;
    case IoResult::Kind::kEof:
    case IoResult::Kind::kTlsError: deferFinish(kTlsFailed); return;
  }
}

IoResult TcpStream::readSome(char* buffer, size_t size) {
  return ssl_ != nullptr ? tlsRead(ssl_, buffer, size) : socketRead(fd_, buffer, size);
}

IoResult TcpStream::writeSome(const char* data, size_t size) {
  return ssl_ != nullptr ? tlsWrite(ssl_, data, size) : socketWrite(fd_, data, size);
}

void TcpStream::write(std::string_view bytes) {
  out_.assign(bytes);
  written_ = 0;
  op_ = Op::kWrite;
  if (fd_ < 0) {
    deferFinish(ENOTCONN);
    return;
  }
  progress(EPOLLOUT);
}

void TcpStream::read(std::string& into) {
  into_ = &into;
  op_ = Op::kRead;
  if (fd_ < 0) {
    deferFinish(ENOTCONN);
    return;
  }
  progress(EPOLLIN);
}

void TcpStream::onIo(uint32_t events) {
  if (deferred_.armed()) return;  // the result is already known
  progress(events);
}

// Moves the operation on as far as the socket allows. Called from inside
// write() and read() too, so a result found here is deferred to the loop.
void TcpStream::progress(uint32_t events) {
  switch (op_) {
    case Op::kNone: return;
    case Op::kConnect: {
      if (ssl_ != nullptr) {
        handshake();
        return;
      }
      const auto outcome = connectOutcome(fd_, events);
      if (!outcome) return;
      if (*outcome == 0 && tls_ != nullptr) {
        handshake();
        return;
      }
      deferFinish(*outcome);
      return;
    }
    case Op::kWrite:
      while (written_ < out_.size()) {
        const IoResult result = writeSome(out_.data() + written_, out_.size() - written_);
        if (result.kind == IoResult::Kind::kWouldBlock) return;
        if (result.kind == IoResult::Kind::kTlsError) {
          deferFinish(kTlsFailed);
          return;
        }
        if (result.kind != IoResult::Kind::kOk) {
          deferFinish(result.error != 0 ? result.error : EPIPE);
          return;
        }
        written_ += result.bytes;
        bytes_sent_ += result.bytes;
      }
      deferFinish(0);
      return;
    case Op::kRead: {
      // Edge-triggered: read until the socket is drained.
      bool got = false;
      char buffer[kReadChunk];
      while (true) {
        const IoResult result = readSome(buffer, sizeof buffer);
        if (result.kind == IoResult::Kind::kOk) {
          into_->append(buffer, result.bytes);
          bytes_received_ += result.bytes;
          got = true;
          continue;
        }
        if (result.kind == IoResult::Kind::kWouldBlock) break;
        // Bytes that came before the close are delivered first; the close then
        // fails the next read.
        if (!got) {
          deferFinish(result.kind == IoResult::Kind::kEof        ? ECONNRESET
                      : result.kind == IoResult::Kind::kTlsError ? kTlsFailed
                                                                 : result.error);
        }
        if (got) deferFinish(0);
        return;
      }
      if (got) deferFinish(0);
      return;
    }
  }
}

void TcpStream::deferFinish(int error) {
  deferred_error_ = error;
  loop_.arm(deferred_, loop_.now());
}

void TcpStream::finish(int error) {
  op_ = Op::kNone;
  into_ = nullptr;
  client_.onStreamDone(error);
}

}  // namespace herd::engine
