#include "common/core/secure_random.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace herd {

void secureRandomBytes(std::span<unsigned char> out) {
  size_t filled = 0;
  while (filled < out.size()) {
    // Without GRND_NONBLOCK this waits only until the pool is seeded at boot;
    // requests up to 256 bytes are never cut short, larger ones may be.
    const ssize_t got = ::getrandom(out.data() + filled, out.size() - filled, 0);
    if (got > 0) {
      filled += static_cast<size_t>(got);
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    std::fprintf(stderr, "herd: getrandom failed: %s\n", std::strerror(errno));
    std::abort();
  }
}

uint64_t secureRandom64() {
  std::array<unsigned char, 8> bytes{};
  secureRandomBytes(bytes);
  uint64_t value = 0;
  for (unsigned char b : bytes) value = (value << 8) | b;
  return value;
}

std::string newToken() {
  std::array<unsigned char, kTokenBytes> bytes{};
  secureRandomBytes(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(2 * bytes.size());
  for (unsigned char b : bytes) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 0xf]);
  }
  return token;
}

}  // namespace herd
