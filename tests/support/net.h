#pragma once
// Small blocking socket helpers for test fixtures (never for the engine).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace herd::test_support {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read
// back, closed). Another process may take it before the caller binds it, so
// servers started on it retry with a fresh port when bind fails.
uint16_t freeLoopbackPort();

// A port on 127.0.0.1 with nothing listening: connecting is refused.
inline uint16_t closedLoopbackPort() { return freeLoopbackPort(); }

// Whether a TCP connection to 127.0.0.1:port succeeds right now.
bool acceptsConnections(uint16_t port);

// GET `path` from 127.0.0.1:port with "Connection: close"; returns the whole
// raw response (status line, headers, body). Bounded by a 5 s socket timeout.
Result<std::string> httpGet(uint16_t port, std::string_view path);

// A socket listening on 127.0.0.1 that never accepts: the kernel completes
// TCP handshakes into the backlog, and nothing ever answers. Closed on destruction.
class SilentListener {
 public:
  SilentListener();  // check ok()
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Listens on 127.0.0.1, port 0; returns the fd (or -1) and sets `port`.
int listenLoopback(uint16_t& port, int backlog = 128);

}  // namespace herd::test_support
