#include "agent/metrics/metrics_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace herd::metrics {

namespace {

constexpr int kPollMillis = 100;           // how soon stop() is noticed
constexpr int kIoTimeoutSeconds = 2;       // per read/write on a client connection
constexpr size_t kMaxRequestBytes = 8192;  // request line and headers

void setTimeouts(int fd) {
  timeval tv{kIoTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the client went away or timed out: nothing to do
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string response(std::string_view status, std::string_view content_type, std::string_view body) {
  return fmt::format("HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", status,
                     content_type, body.size(), body);
}

std::string addressOf(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(v6->sin6_port));
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
  ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
  return fmt::format("{}:{}", host, ntohs(v4->sin_port));
}

}  // namespace

Result<HostPort> parseHostPort(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return Error{fmt::format("expected HOST:PORT, got \"{}\"", text), ""};
  std::string_view host = text.substr(0, colon);
  const auto port_text = text.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return Error{fmt::format("unclosed '[' in \"{}\"", text), ""};
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Error{fmt::format("write an IPv6 address in brackets: [{}]:PORT", host), ""};
  }
  unsigned port = 0;
  const auto* end = port_text.data() + port_text.size();
  const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port > 65535) {
    return Error{fmt::format("port \"{}\" is not a number from 0 to 65535", port_text), ""};
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(std::string_view host_port) {
  auto parsed = parseHostPort(host_port);
  if (!parsed) return parsed.error();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const auto port = std::to_string(parsed->port);
  if (const int rc = ::getaddrinfo(parsed->host.empty() ? nullptr : parsed->host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return Error{fmt::format("cannot resolve \"{}\": {}", parsed->host, ::gai_strerror(rc)), std::string(host_port)};
  }
  std::string last_error = "no address";
  int fd = -1;
  for (auto* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 16) != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return Error{fmt::format("cannot listen: {}", last_error), std::string(host_port)};
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  std::unique_ptr<MetricsServer> server(new MetricsServer(fd, addressOf(bound)));
  server->thread_ = std::thread([s = server.get()] { s->serve(); });
  return server;
}

MetricsServer::MetricsServer(int fd, std::string address) : listen_fd_(fd), address_(std::move(address)) {}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void MetricsServer::publish(std::string text) {
  std::lock_guard lock(mutex_);
  text_.swap(text);
}

void MetricsServer::serve() {
  while (!stopping_.load()) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, kPollMillis) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    setTimeouts(client);
    answer(client);
    ::close(client);
  }
}

void MetricsServer::answer(int client) {
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequestBytes) {
    const auto n = ::recv(client, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed, reset or timed out before a whole request
    request.append(buffer, static_cast<size_t>(n));
  }
  if (request.find("\r\n\r\n") == std::string::npos) {
    sendAll(client, response("431 Request Header Fields Too Large", "text/plain", "request too large\n"));
    return;
  }
  const auto line = std::string_view(request).substr(0, request.find("\r\n"));
  const auto first_space = line.find(' ');
  const auto method = line.substr(0, first_space);
  auto target = first_space == std::string_view::npos ? std::string_view{} : line.substr(first_space + 1);
  target = target.substr(0, target.find(' '));
  target = target.substr(0, target.find('?'));
  if (method != "GET") {
    sendAll(client, response("405 Method Not Allowed", "text/plain", "only GET\n"));
  } else if (target == "/metrics") {
    std::string body;
    {
      std::lock_guard lock(mutex_);
      body = text_;
    }
    sendAll(client, response("200 OK", "text/plain; version=0.0.4; charset=utf-8", body));
  } else {
    sendAll(client, response("404 Not Found", "text/plain", "herd serves its metrics at /metrics\n"));
  }
}

}  // namespace herd::metrics
