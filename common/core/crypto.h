#pragma once
// Hashes and comparisons of secrets, from OpenSSL's libcrypto. OpenSSL is reached
// from common/ through this header only (the engine's TLS has its own folder).
#include <string>
#include <string_view>

namespace herd {

// SHA-256 of a byte string as lower-case hex (64 characters): the value
// `sha256sum FILE` prints, used to name a scenario's content.
std::string sha256Hex(std::string_view data);

// Whether a and b are equal, in time that depends on their length only, so the
// timing of a token check does not reveal how much of a guess was right.
bool equalInConstantTime(std::string_view a, std::string_view b);

}  // namespace herd
