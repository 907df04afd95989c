#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace herd::test_support {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);

// Forks and execs; `in_path` selects execvp over execv. Everything the child
// runs between fork and exec is async-signal-safe.
Result<pid_t> forkExec(const std::vector<std::string>& argv, const std::filesystem::path& log, bool in_path,
                       bool own_group) {
  if (argv.empty()) return Error{"empty command", ""};
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno), argv[0]};
  if (pid == 0) {
    if (own_group) setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the parent died before prctl()
    const int null_fd = open("/dev/null", O_RDONLY);
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null_fd >= 0) dup2(null_fd, 0);
    if (log_fd >= 0) {
      dup2(log_fd, 1);
      dup2(log_fd, 2);
    }
    if (in_path) {
      execvp(args[0], args.data());
    } else {
      execv(args[0], args.data());
    }
    _exit(127);
  }
  return pid;
}

}  // namespace

Result<int> runCommand(const std::vector<std::string>& argv, const std::filesystem::path& log,
                       std::chrono::milliseconds timeout) {
  auto pid = forkExec(argv, log, /*in_path=*/true, /*own_group=*/false);
  if (!pid.ok()) return pid.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(*pid, &status, WNOHANG);
    if (done == *pid) break;
    if (done < 0 && errno != EINTR) return Error{std::string("waitpid: ") + std::strerror(errno), argv[0]};
    if (std::chrono::steady_clock::now() > deadline) {
      kill(*pid, SIGKILL);
      waitpid(*pid, &status, 0);
      return Error{"timed out", argv[0]};
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  if (!WIFEXITED(status)) return Error{"killed by a signal", argv[0]};
  return WEXITSTATUS(status);
}

Result<pid_t> spawnChild(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  return forkExec(argv, log, /*in_path=*/false, /*own_group=*/true);
}

bool childExited(pid_t pid) {
  int status = 0;
  const pid_t done = waitpid(pid, &status, WNOHANG);
  return done == pid || (done < 0 && errno == ECHILD);
}

void stopChild(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0 || childExited(pid)) return;
  kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (childExited(pid)) return;
    std::this_thread::sleep_for(kPollInterval);
  }
  // The child leads its own group (spawnChild), so this takes its workers too.
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace herd::test_support
