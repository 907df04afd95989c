#include "operator/main/http_endpoints.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace herd::operator_main {

namespace {

class Server final : public HttpEndpoints {
 public:
  Server(int fd, int port, Handler handler) : fd_(fd), port_(port), handler_(std::move(handler)) {
    thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
  }
  ~Server() override {
    thread_.request_stop();
    thread_.join();
    ::close(fd_);
  }
  int port() const override { return port_; }

 private:
  void loop(std::stop_token stop) {
    while (!stop.stop_requested()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;  // wakes to notice stop
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }

  void serve(int c) {
    // One request line is all we need; give a slow client 2 s, no more.
    std::string req;
    char buf[2048];
    while (req.find("\r\n") == std::string::npos && req.size() < 8192) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      auto n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    auto sp1 = req.find(' ');
    auto sp2 = req.find(' ', sp1 + 1);
    std::string path = sp1 == std::string::npos || sp2 == std::string::npos ? "/" : req.substr(sp1 + 1, sp2 - sp1 - 1);
    auto [status, body] = handler_(path);
    std::string head = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                       "\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    std::string out = head + body;
    size_t off = 0;
    while (off < out.size()) {
      auto n = ::write(c, out.data() + off, out.size() - off);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  int fd_;
  int port_;
  Handler handler_;
  std::jthread thread_;
};

}  // namespace

Result<std::unique_ptr<HttpEndpoints>> serveHttp(const std::string& listen, Handler handler) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Error{"expected HOST:PORT", listen};
  std::string host = listen.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return Error{"bad port", listen};
  }
  if (port < 0 || port > 65535) return Error{"bad port", listen};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return Error{"host must be an IPv4 address", listen};
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::strerror(errno), listen};
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return Error{err, listen};
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return std::unique_ptr<HttpEndpoints>(std::make_unique<Server>(fd, ntohs(addr.sin_port), std::move(handler)));
}

}  // namespace herd::operator_main
