#include "tests/support/scripted_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "tests/support/net.h"

namespace herd::test_support {
namespace {

// Content-Length of the header section `head` (0 when absent).
size_t contentLength(std::string_view head) {
  for (size_t at = 0; at < head.size();) {
    const size_t end = head.find("\r\n", at);
    const std::string_view line = head.substr(at, end == std::string_view::npos ? head.npos : end - at);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && colon == 14 && strncasecmp(line.data(), "content-length", 14) == 0) {
      return std::strtoull(std::string(line.substr(colon + 1)).c_str(), nullptr, 10);
    }
    if (end == std::string_view::npos) break;
    at = end + 2;
  }
  return 0;
}

// Length of the first complete request in `input`, or 0 when it is incomplete.
size_t completeRequest(const std::string& input) {
  const size_t head_end = input.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  const size_t total = head_end + 4 + contentLength(std::string_view(input).substr(0, head_end));
  return input.size() >= total ? total : 0;
}

void writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the client is gone; nothing more to say
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void resetAndClose(int fd) {
  const linger abort_on_close{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  close(fd);
}

}  // namespace

struct ScriptedServer::Client {
  int fd = -1;
  int index = 0;      // connection number, in accept order
  int requests = 0;   // handled on this connection
  std::string input;  // bytes received and not yet handled
};

std::string okResponse(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

Result<std::unique_ptr<ScriptedServer>> ScriptedServer::start(Handler handler) {
  std::unique_ptr<ScriptedServer> server(new ScriptedServer(std::move(handler)));
  server->listen_fd_ = listenLoopback(server->port_);
  if (server->listen_fd_ < 0) return Error{std::strerror(errno), "ScriptedServer listen"};
  if (pipe2(server->wake_fds_, O_CLOEXEC) != 0) return Error{std::strerror(errno), "ScriptedServer pipe"};
  server->thread_ = std::thread([raw = server.get()] { raw->serve(); });
  return server;
}

ScriptedServer::~ScriptedServer() {
  if (thread_.joinable()) {
    const char stop = 1;
    [[maybe_unused]] auto written = write(wake_fds_[1], &stop, 1);
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_fds_[0], wake_fds_[1]}) {
    if (fd >= 0) close(fd);
  }
}

void ScriptedServer::serve() {
  std::vector<Client> clients;
  std::vector<pollfd> polled;
  char buffer[64 * 1024];
  while (true) {
    polled.assign({{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    for (const auto& client : clients) polled.push_back({client.fd, POLLIN, 0});
    if (poll(polled.data(), polled.size(), 1000) < 0 && errno != EINTR) break;
    if (polled[0].revents != 0) break;  // stop requested
    std::vector<Client> alive;
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& client = clients[i];
      if (polled[i + 2].revents != 0) {
        const ssize_t n = recv(client.fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
          close(client.fd);
          continue;
        }
        client.input.append(buffer, static_cast<size_t>(n));
      }
      if (answer(client)) alive.push_back(std::move(client));
    }
    clients.swap(alive);
    if ((polled[1].revents & POLLIN) != 0) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) clients.push_back({fd, connections_++, 0, {}});
    }
  }
  for (const auto& client : clients) close(client.fd);
}

bool ScriptedServer::answer(Client& client) {
  for (size_t length; (length = completeRequest(client.input)) > 0;) {
    const std::string text = client.input.substr(0, length);
    client.input.erase(0, length);
    ++requests_;
    const ScriptedReply reply = handler_(client.index, client.requests++, text);
    writeAll(client.fd, reply.bytes);
    if (reply.then == ScriptedReply::Then::kClose) {
      close(client.fd);
      return false;
    }
    if (reply.then == ScriptedReply::Then::kReset) {
      resetAndClose(client.fd);
      return false;
    }
  }
  return true;
}

}  // namespace herd::test_support
