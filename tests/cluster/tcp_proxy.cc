#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace herd::k8s::testing {

namespace {

constexpr int kPollMs = 100;  // how soon the threads see stop_

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int dial(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  ::close(fd);
  return -1;
}

// Copies what `from` has to `to`; false when `from` ended or either broke.
bool forward(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t done = 0; done < n;) {
    ssize_t w = ::send(to, buf + done, static_cast<size_t>(n - done), MSG_NOSIGNAL);
    if (w <= 0) return false;
    done += w;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::function<int()> pick) : pick_(std::move(pick)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("tcp proxy: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mu_);
  for (auto& t : pumps_) t.join();
}

void TcpProxy::acceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int backend_port = pick_();
    const int generation = generation_.load();
    const int backend = backend_port > 0 ? dial(backend_port) : -1;
    if (backend < 0) {
      ::close(client);  // no ready endpoint
      continue;
    }
    ++forwarded_;
    std::lock_guard lock(mu_);
    pumps_.emplace_back([this, client, backend, generation] { pump(client, backend, generation); });
  }
}

// Both directions until either side ends or the proxy stops; then both close,
// so the other side sees the connection break as it would behind a Service.
void TcpProxy::pump(int client, int backend, int generation) {
  while (!stop_ && generation_ == generation) {
    pollfd p[2] = {{client, POLLIN, 0}, {backend, POLLIN, 0}};
    if (::poll(p, 2, kPollMs) < 0) break;
    if (p[0].revents && !forward(client, backend)) break;
    if (p[1].revents && !forward(backend, client)) break;
  }
  ::close(client);
  ::close(backend);
}

}  // namespace herd::k8s::testing
