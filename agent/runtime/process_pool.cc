#include "agent/runtime/process_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "common/core/logging.h"

namespace herd::runtime {

namespace {

constexpr uint32_t kMaxFrame = uint32_t{64} << 20;
constexpr auto kExitWait = std::chrono::seconds(5);

bool writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool readAll(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("ended (status {})", status);
}

template <typename Message>
bool writeMessage(int fd, const Message& message) {
  std::string bytes(4, '\0');
  if (!message.AppendToString(&bytes) || bytes.size() - 4 > kMaxFrame) return false;
  const auto size = static_cast<uint32_t>(bytes.size() - 4);
  for (int i = 0; i < 4; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xff);
  return writeAll(fd, bytes.data(), bytes.size());
}

template <typename Message>
bool readMessage(int fd, Message& message) {
  unsigned char header[4];
  if (!readAll(fd, reinterpret_cast<char*>(header), sizeof(header))) return false;
  const uint32_t size = header[0] | (header[1] << 8) | (header[2] << 16) | (uint32_t{header[3]} << 24);
  if (size > kMaxFrame) return false;
  std::string bytes(size, '\0');
  if (!readAll(fd, bytes.data(), size)) return false;
  return message.ParseFromString(bytes);
}

}  // namespace

bool writeFrame(int fd, const v1::CoordinatorMessage& message) { return writeMessage(fd, message); }
bool writeFrame(int fd, const v1::AgentMessage& message) { return writeMessage(fd, message); }
bool readFrame(int fd, v1::CoordinatorMessage& message) { return readMessage(fd, message); }
bool readFrame(int fd, v1::AgentMessage& message) { return readMessage(fd, message); }

Result<std::unique_ptr<ProcessPool>> ProcessPool::start(size_t count, const std::string& executable,
                                                        const std::vector<std::string>& args) {
  std::unique_ptr<ProcessPool> pool(new ProcessPool());
  const pid_t parent = getpid();
  for (size_t c = 0; c < count; ++c) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return Error{fmt::format("cannot create a socket for worker process {}: {}", c, std::strerror(errno)), ""};
    }
    // Everything the child needs is built before fork(): between fork and exec
    // only async-signal-safe calls are allowed (other threads may hold locks).
    std::vector<std::string> argv_text{executable};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    argv_text.insert(argv_text.end(), {"--fd", std::to_string(fds[1]), "--index", std::to_string(c)});
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      return Error{fmt::format("cannot start worker process {}: {}", c, std::strerror(errno)), ""};
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the parent died before prctl
      fcntl(fds[1], F_SETFD, 0);            // this end stays open across exec
      execv(executable.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    auto child = std::make_unique<Child>();
    child->pid = pid;
    child->fd = fds[0];
    pool->children_.push_back(std::move(child));
  }
  for (size_t c = 0; c < count; ++c) pool->children_[c]->reader = std::thread([p = pool.get(), c] { p->read(c); });
  return pool;
}

void ProcessPool::read(size_t c) {
  auto& child = *children_[c];
  for (;;) {
    v1::AgentMessage message;
    if (!readFrame(child.fd, message)) break;
    std::lock_guard lock(mutex_);
    received_.push_back({c, std::move(message)});
  }
  // The socket closed: the child is exiting (or was killed). Reaped under the
  // mutex, so the destructor never signals a pid that is already reused.
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      int status = 0;
      const pid_t r = waitpid(child.pid, &status, WNOHANG);
      if (r == child.pid || (r < 0 && errno != EINTR)) {
        child.reaped = true;
        ended_.push_back({c, r == child.pid ? describeStatus(status) : "ended"});
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

ProcessPool::~ProcessPool() {
  for (auto& child : children_) shutdown(child->fd, SHUT_RDWR);
  const auto deadline = std::chrono::steady_clock::now() + kExitWait;
  std::unique_lock lock(mutex_);
  auto all_reaped = [&] {
    return std::all_of(children_.begin(), children_.end(), [](const auto& child) { return child->reaped; });
  };
  while (!all_reaped()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      for (auto& child : children_) {
        if (child->reaped) continue;
        logger("agent")->warn("worker process {} did not exit within 5s of the end; killing it", child->pid);
        kill(child->pid, SIGKILL);
      }
      break;
    }
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lock.lock();
  }
  lock.unlock();
  for (auto& child : children_) {
    child->reader.join();
    close(child->fd);
  }
}

bool ProcessPool::send(size_t c, const v1::CoordinatorMessage& message) {
  auto& child = *children_[c];
  std::lock_guard lock(child.write_mutex);
  return writeFrame(child.fd, message);
}

std::vector<ProcessPool::Received> ProcessPool::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(received_, {});
}

std::vector<ProcessPool::Ended> ProcessPool::takeEnded() {
  std::lock_guard lock(mutex_);
  return std::exchange(ended_, {});
}

}  // namespace herd::runtime
