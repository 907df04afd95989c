#pragma once
// Child processes of one agent, each a herd engine of its own (`herd
// worker-process`), spoken to in the agent protocol over a socketpair: the
// parent plays the coordinator for them (Welcome, Assignment, Start, Stop, Ack,
// Finished) and reads their Reports and Events. Frames are a 4-byte
// little-endian length, then one serialized message (v1::CoordinatorMessage
// towards a child, v1::AgentMessage back).
//
// Children die with the parent (PR_SET_PDEATHSIG, SIGKILL; the signal follows
// the thread that forked, so start() is called from a thread that outlives the
// children) and exit when their socket closes. The pool's destructor closes the
// sockets, waits up to 5 s for the children to exit, then kills the rest.
#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/core/result.h"
#include "herd/v1/agent.pb.h"

namespace herd::runtime {

// One frame: false when the socket closed, failed or sent a frame over 64 MiB
// or one that does not parse.
bool writeFrame(int fd, const v1::CoordinatorMessage& message);
bool writeFrame(int fd, const v1::AgentMessage& message);
bool readFrame(int fd, v1::CoordinatorMessage& message);
bool readFrame(int fd, v1::AgentMessage& message);

class ProcessPool {
 public:
  struct Received {
    size_t child = 0;
    v1::AgentMessage message;
  };
  struct Ended {
    size_t child = 0;
    std::string how;  // "exited with code 3", "was killed by signal 9"
  };

  // Runs `count` children: `executable` with `args`, then `--fd N` and
  // `--index C` (the child's end of its socket and its number).
  static Result<std::unique_ptr<ProcessPool>> start(size_t count, const std::string& executable,
                                                    const std::vector<std::string>& args);
  ~ProcessPool();
  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;

  size_t size() const { return children_.size(); }
  pid_t pid(size_t child) const { return children_[child]->pid; }
  // False when the child's socket is closed (it has ended).
  bool send(size_t child, const v1::CoordinatorMessage& message);
  // What arrived since the last call, in order per child.
  std::vector<Received> take();
  // Children whose socket closed since the last call, and how they ended.
  std::vector<Ended> takeEnded();

 private:
  struct Child {
    pid_t pid = -1;
    int fd = -1;
    std::mutex write_mutex;
    std::thread reader;
    bool reaped = false;  // under ProcessPool::mutex_
  };
  ProcessPool() = default;
  void read(size_t child);

  std::vector<std::unique_ptr<Child>> children_;
  std::mutex mutex_;
  std::vector<Received> received_;
  std::vector<Ended> ended_;
};

}  // namespace herd::runtime
