#pragma once
// Secrets (run tokens) come from the kernel's CSPRNG and from nowhere else.
// Public values that only need to be distinct (run ids, agent ids) keep their
// own generators (random.h); nothing here is seeded, so nothing a process
// publishes can be used to predict a token it hands out.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace herd {

// Fills `out` from getrandom(2). The process aborts if the kernel refuses:
// there is no weaker source to fall back to.
void secureRandomBytes(std::span<unsigned char> out);

uint64_t secureRandom64();

inline constexpr size_t kTokenBytes = 32;  // 256 bits

// A new run token: kTokenBytes from the CSPRNG as lowercase hex (64 digits).
std::string newToken();

}  // namespace herd
