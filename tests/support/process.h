#pragma once
// Child processes for test fixtures: started in their own process group, tied
// to the test process's life, and always reaped.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace herd::test_support {

// Runs `argv` (argv[0] looked up in PATH) to completion with stdout and stderr
// appended to `log`; returns its exit status, or an Error if it could not start,
// was killed by a signal or ran past `timeout` (then it is killed).
Result<int> runCommand(const std::vector<std::string>& argv, const std::filesystem::path& log,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Starts `argv` (argv[0] an absolute path) in the background in a new process
// group, with stdout and stderr appended to `log`. The child gets SIGTERM if
// the thread that started it dies (PR_SET_PDEATHSIG), so fixtures do not leak
// processes when a test crashes.
Result<pid_t> spawnChild(const std::vector<std::string>& argv, const std::filesystem::path& log);

// The child's state without blocking: true if it has exited (and is now reaped).
bool childExited(pid_t pid);

// Sends SIGTERM, waits up to `grace`, then SIGKILLs the child's whole process
// group, and reaps the child. Safe to call for a child already reaped by childExited().
void stopChild(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(5));

}  // namespace herd::test_support
