#include "agent/engine/socket_io.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace herd::engine {

ConnectAttempt startConnect(const Address& address) {
  ConnectAttempt attempt;
  const int fd = socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    attempt.error = errno;  // EMFILE here is the generator's fd limit, not the target
    return attempt;
  }
  // Requests are written whole; Nagle would only delay the last segment.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, address.get(), address.length) == 0) {
    attempt.fd = fd;
    return attempt;
  }
  if (errno == EINPROGRESS) {
    attempt.fd = fd;
    attempt.in_progress = true;
    return attempt;
  }
  attempt.error = errno;
  close(fd);
  return attempt;
}

int socketError(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

std::optional<int> connectOutcome(int fd, uint32_t events) {
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return std::nullopt;
  const int error = socketError(fd);
  if (error == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0) return ECONNRESET;
  return error;
}

IoResult socketRead(int fd, char* buffer, size_t size) {
  while (true) {
    const ssize_t n = recv(fd, buffer, size, 0);
    if (n > 0) return {IoResult::Kind::kOk, 0, static_cast<size_t>(n)};
    if (n == 0) return {IoResult::Kind::kEof, 0, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoResult::Kind::kWouldBlock, 0, 0};
    return {IoResult::Kind::kError, errno, 0};
  }
}

IoResult socketWrite(int fd, const char* data, size_t size) {
  while (true) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) return {IoResult::Kind::kOk, 0, static_cast<size_t>(n)};
    if (n == 0) return {IoResult::Kind::kWouldBlock, 0, 0};  // never for TCP; no busy loop if it were
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoResult::Kind::kWouldBlock, 0, 0};
    return {IoResult::Kind::kError, errno, 0};
  }
}

bool worthNextAddress(int error) {
  return error == ECONNREFUSED || error == ENETUNREACH || error == EHOSTUNREACH || error == EAFNOSUPPORT ||
         error == EADDRNOTAVAIL || error == ETIMEDOUT || error == ECONNRESET;
}

}  // namespace herd::engine
