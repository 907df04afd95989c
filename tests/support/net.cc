#include "tests/support/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace herd::test_support {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

const sockaddr* asSockaddr(const sockaddr_in& address) { return reinterpret_cast<const sockaddr*>(&address); }

uint16_t boundPort(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return ntohs(address.sin_port);
}

// A blocking TCP connection to 127.0.0.1:port, or -1.
int connectLoopback(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const auto address = loopback(port);
  if (connect(fd, asSockaddr(address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int listenLoopback(uint16_t& port, int backlog) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const auto address = loopback(0);
  if (bind(fd, asSockaddr(address), sizeof address) != 0 || listen(fd, backlog) != 0) {
    close(fd);
    return -1;
  }
  port = boundPort(fd);
  return fd;
}

uint16_t freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  const auto address = loopback(0);
  uint16_t port = 0;
  if (bind(fd, asSockaddr(address), sizeof address) == 0) port = boundPort(fd);
  close(fd);
  return port;
}

bool acceptsConnections(uint16_t port) {
  const int fd = connectLoopback(port);
  if (fd < 0) return false;
  close(fd);
  return true;
}

Result<std::string> httpGet(uint16_t port, std::string_view path) {
  const int fd = connectLoopback(port);
  if (fd < 0) return Error{std::strerror(errno), "127.0.0.1:" + std::to_string(port)};
  const std::string request = "GET " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return Error{"short write", "127.0.0.1:" + std::to_string(port)};
  }
  std::string response;
  char buffer[4096];
  while (true) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;  // EOF, or the 5 s timeout
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

SilentListener::SilentListener() { fd_ = listenLoopback(port_); }

SilentListener::~SilentListener() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace herd::test_support
