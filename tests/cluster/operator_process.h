#pragma once
// herd-operator as a child process of a test, and a plain HTTP GET for its
// health and metrics endpoints.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace herd::k8s::testing {

// One herd-operator process; killed (SIGKILL) when destroyed if still running.
class OperatorProcess {
 public:
  explicit OperatorProcess(std::vector<std::string> args);
  ~OperatorProcess();
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  // SIGTERM and wait (at most 15 s); the exit code, or -1.
  int stop();
  // SIGKILL and reap, as a node failure or `kubectl delete pod --force` does.
  void kill();
  int waitExit(std::chrono::seconds limit);
  std::string log() const;
  pid_t pid() const { return pid_; }
  // The port a "... listening on port N" log line announced (waits up to 10 s).
  int port(const std::string& what);

 private:
  static inline int counter_ = 0;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// GET http://127.0.0.1:PORT/PATH: the raw response, or "" when nothing listens.
std::string httpGet(int port, const std::string& path);

}  // namespace herd::k8s::testing
