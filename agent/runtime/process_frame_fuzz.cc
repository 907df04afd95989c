// libFuzzer target: the frames between an agent and its worker processes (a
// 4-byte little-endian length, then one serialized message; process_pool.h).
// Whatever bytes arrive on the socket, readFrame() returns a message or false,
// never reads past the frame it was given or allocates over the 64 MiB bound,
// and a frame it accepts goes back through writeFrame()/readFrame() unchanged.
// Both directions are read: AgentMessage (the parent reads its children's) and
// CoordinatorMessage (a child reads its parent's).
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "agent/runtime/process_pool.h"

namespace {

// Writes `bytes` into one end of a socketpair from a thread of its own (a large
// input fills the socket's buffer) and reads frames from the other until
// readFrame() says the stream is over or bad.
template <typename Message>
void readAll(const uint8_t* data, size_t size) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) std::abort();
  std::thread writer([&] {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::send(fds[1], data + done, size - done, MSG_NOSIGNAL);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    shutdown(fds[1], SHUT_WR);
  });
  Message message;
  size_t frames = 0;
  while (herd::runtime::readFrame(fds[0], message)) {
    if (++frames > size / 4) std::abort();  // each frame takes at least its 4-byte length
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) std::abort();
    const std::string before = message.SerializeAsString();
    Message again;
    if (before.size() < 100'000) {  // within one socket buffer: no second thread needed
      if (!herd::runtime::writeFrame(pair[1], message)) std::abort();
      if (!herd::runtime::readFrame(pair[0], again) || again.SerializeAsString() != before) std::abort();
    }
    close(pair[0]);
    close(pair[1]);
  }
  shutdown(fds[0], SHUT_RDWR);  // a writer still blocked on a full buffer ends
  writer.join();
  close(fds[0]);
  close(fds[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  readAll<herd::v1::AgentMessage>(data, size);
  readAll<herd::v1::CoordinatorMessage>(data, size);
  return 0;
}
