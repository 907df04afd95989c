#pragma once
// Thin, non-throwing wrappers over the socket calls the HTTP client makes, with
// the outcome folded into one small value so plain TCP and TLS look the same to
// HttpConnection. Nothing here allocates or logs.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "agent/engine/resolver.h"

namespace herd::engine {

struct IoResult {
  enum class Kind : uint8_t {
    kOk,          // `bytes` > 0 moved
    kWouldBlock,  // try again after the next event
    kEof,         // the peer closed (TLS: close_notify or a bare TCP close)
    kError,       // `error` holds the errno (ECONNRESET, EPIPE, ...)
    kTlsError,    // a TLS protocol or certificate failure
  };
  Kind kind = Kind::kOk;
  int error = 0;
  size_t bytes = 0;
};

// A non-blocking TCP socket (TCP_NODELAY, close-on-exec) with connect() started.
struct ConnectAttempt {
  int fd = -1;               // >= 0 when the socket exists
  bool in_progress = false;  // EINPROGRESS: wait for writability, then socketError()
  int error = 0;             // errno when fd < 0
};
ConnectAttempt startConnect(const Address& address);

// A connect error after which the next resolved address may still work (::1
// refused or without IPv6, then 127.0.0.1). EMFILE, ENFILE, ENOBUFS and ENOMEM
// are the generator's own limits and would fail on every address.
bool worthNextAddress(int error);

// The pending error of a socket whose non-blocking connect() finished (SO_ERROR).
int socketError(int fd);

// A non-blocking connect()'s outcome from its epoll events: none yet (no
// EPOLLOUT, EPOLLERR or EPOLLHUP), 0 when connected, else the errno it failed
// with (ECONNRESET for an error event without a pending socket error).
std::optional<int> connectOutcome(int fd, uint32_t events);

IoResult socketRead(int fd, char* buffer, size_t size);
// Never raises SIGPIPE (MSG_NOSIGNAL).
IoResult socketWrite(int fd, const char* data, size_t size);

}  // namespace herd::engine
