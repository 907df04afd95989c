#include "agent/runtime/worker_process.h"

#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

#include "agent/runtime/process_pool.h"
#include "common/core/logging.h"

namespace herd::runtime {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(20);

}  // namespace

int runWorkerProcess(int fd, SessionOptions options) {
  // Ctrl-C reaches the whole process group; the parent decides how the run
  // stops and tells its children (Stop with the grace time).
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  AgentSession session(std::move(options));
  std::mutex write_mutex;
  auto send = [&](const v1::AgentMessage& message) {
    std::lock_guard lock(write_mutex);
    writeFrame(fd, message);
  };
  session.attach([&](v1::AgentMessage&& message) { send(message); });
  std::atomic<bool> orphaned{false};
  std::thread reader([&] {
    v1::CoordinatorMessage message;
    while (readFrame(fd, message)) {
      if (message.has_welcome() && !session.prepared()) {
        if (auto prepared = session.prepare(message.welcome()); !prepared) {
          v1::AgentMessage fatal;
          fatal.mutable_event()->set_level("fatal");
          fatal.mutable_event()->set_message(prepared.error().describe());
          send(fatal);
          session.fail(prepared.error().describe());
          return;
        }
      }
      session.onMessage(message);
      if (session.done()) return;
    }
    orphaned.store(true);
  });
  while (!session.done() && !orphaned.load()) {
    session.poll();
    std::this_thread::sleep_for(kPoll);
  }
  shutdown(fd, SHUT_RDWR);  // ends the reader's read
  reader.join();
  if (orphaned.load()) {
    logger("agent")->warn("worker process: the parent herd process went away; stopping");
    return 3;
  }
  return session.failed() ? 3 : session.exitCode();
}

}  // namespace herd::runtime
