#pragma once
// Name resolution for the engine. It runs once, before the load starts, and
// never on the hot path: getaddrinfo() blocks, and a run whose target does not
// resolve should fail at start (exit code 3), not as a stream of errors.
#include <sys/socket.h>

#include <string>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::engine {

// One socket address, ready for connect().
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string toString() const;  // "127.0.0.1:8080", "[::1]:8080"
};

// The origin's TCP addresses in getaddrinfo's preference order, duplicates
// removed. Numeric hosts ("127.0.0.1", "::1", "[::1]") are parsed without any
// lookup. A port of 0 means the scheme's default (80, or 443 for https).
Result<std::vector<Address>> resolve(const scenario::Origin& origin);

}  // namespace herd::engine
