#include "agent/runtime/generator_health.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

namespace herd::runtime {

FdLimit raiseFdLimit(uint64_t wanted) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (wanted > limit.rlim_max) {
    // The kernel's ceiling for any process; setrlimit fails above it, and for
    // an unprivileged process above the current hard limit (then nothing changes).
    uint64_t ceiling = 0;
    if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
      if (std::fscanf(f, "%" SCNu64, &ceiling) != 1) ceiling = 0;
      std::fclose(f);
    }
    const auto target = static_cast<rlim_t>(std::min(wanted, ceiling));
    if (target > limit.rlim_max) {
      const rlimit raised{target, target};
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return FdLimit{static_cast<uint64_t>(limit.rlim_cur), static_cast<uint64_t>(limit.rlim_max)};
}

namespace {

// Adds the origins `steps` send to; false when a step opens connections of its own.
bool addOrigins(const std::vector<scenario::Step>& steps, std::set<size_t>& used) {
  for (const auto& step : steps) {
    bool ok = true;
    std::visit(
        [&](const auto& s) {
          using T = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<T, scenario::RequestStep>) {
            used.insert(s.origin);
            if (s.socket_steps) ok = addOrigins(s.socket_steps->steps, used);
          } else if constexpr (std::is_same_v<T, scenario::LoopStep>) {
            if (s.body) ok = addOrigins(s.body->steps, used);
          } else if constexpr (std::is_same_v<T, scenario::IfStep>) {
            if (s.then_steps) ok = addOrigins(s.then_steps->steps, used);
            if (ok && s.else_steps) ok = addOrigins(s.else_steps->steps, used);
          } else if constexpr (std::is_same_v<T, scenario::ParallelStep>) {
            ok = false;
          }
        },
        step);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

uint64_t socketsPerUser(const scenario::Plan& plan) {
  uint64_t most = 0;
  for (const auto& cls : plan.classes) {
    std::set<size_t> used;
    bool ok = !cls.code && addOrigins(cls.on_start, used) && addOrigins(cls.steps, used) &&
              addOrigins(cls.on_stop, used);
    for (const auto& task : cls.tasks) ok = ok && addOrigins(task.steps, used);
    most = std::max<uint64_t>(most, ok ? used.size() : plan.origins.size());
  }
  return std::max<uint64_t>(most, 1);
}

uint64_t socketsNeeded(const scenario::Plan& plan) {
  return socketsPerProcess(plan.load.users, socketsPerUser(plan), 1);
}

uint64_t socketsPerProcess(int64_t users, uint64_t sockets_per_user, size_t processes) {
  const auto n = static_cast<uint64_t>(std::max<size_t>(processes, 1));
  const auto share = (static_cast<uint64_t>(std::max<int64_t>(users, 0)) + n - 1) / n;
  return share * sockets_per_user + kReservedFds;
}

size_t processesFor(int64_t users, uint64_t sockets_per_user, uint64_t fd_limit) {
  const uint64_t sockets = static_cast<uint64_t>(std::max<int64_t>(users, 0)) * sockets_per_user;
  if (sockets + kReservedFds <= fd_limit || fd_limit <= kReservedFds + sockets_per_user) return 1;
  auto n = static_cast<size_t>((sockets + (fd_limit - kReservedFds) - 1) / (fd_limit - kReservedFds));
  // ⌈users / n⌉ rounds a share up by at most one user: one more process if that overflows.
  while (socketsPerProcess(users, sockets_per_user, n) > fd_limit) ++n;
  return n;
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
