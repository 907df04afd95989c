#include "agent/engine/tcp_stream.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "agent/engine/socket_io.h"

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
  if (fd_ < 0) return;
  loop_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

void TcpStream::connect(const Address& address) {
  close();
  op_ = Op::kConnect;
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
  if (!attempt.in_progress) deferFinish(0);
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
      const auto outcome = connectOutcome(fd_, events);
      if (outcome) deferFinish(*outcome);
      return;
    }
    case Op::kWrite:
      while (written_ < out_.size()) {
        const IoResult result = socketWrite(fd_, out_.data() + written_, out_.size() - written_);
        if (result.kind == IoResult::Kind::kWouldBlock) return;
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
        const IoResult result = socketRead(fd_, buffer, sizeof buffer);
        if (result.kind == IoResult::Kind::kOk) {
          into_->append(buffer, result.bytes);
          bytes_received_ += result.bytes;
          got = true;
          continue;
        }
        if (result.kind == IoResult::Kind::kWouldBlock) break;
        // Bytes that came before the close are delivered first; the close then
        // fails the next read.
        if (!got) deferFinish(result.kind == IoResult::Kind::kEof ? ECONNRESET : result.error);
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
