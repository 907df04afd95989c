#include "agent/runtime/generator_health.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace herd::runtime {

FdLimit raiseFdLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return FdLimit{static_cast<uint64_t>(limit.rlim_cur), static_cast<uint64_t>(limit.rlim_max)};
}

uint64_t socketsNeeded(const scenario::Plan& plan) {
  return static_cast<uint64_t>(plan.load.users) * plan.origins.size() + kReservedFds;
}

namespace {

// A blocking-with-timeout connect: non-blocking socket, poll for writability.
int connectWithin(const engine::Address& address, Nanos timeout) {
  const int fd = socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int error = 0;
  if (connect(fd, address.get(), address.length) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
      const int ready = poll(&p, 1, ms);
      if (ready == 0) {
        error = ETIMEDOUT;
      } else {
        socklen_t len = sizeof(error);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      }
    }
  }
  close(fd);
  return error;
}

}  // namespace

Status probeTargets(const scenario::Plan& plan, const std::vector<engine::ConnectionTarget>& targets, Nanos timeout) {
  for (size_t i = 0; i < targets.size(); ++i) {
    int error = EHOSTUNREACH;
    for (const auto& address : targets[i].addresses) {
      error = connectWithin(address, timeout);
      if (error == 0) break;
    }
    if (error != 0) {
      return Error{fmt::format("target unreachable: {}", std::strerror(error)), plan.origins[i].toString()};
    }
  }
  return Ok{};
}

}  // namespace herd::runtime
