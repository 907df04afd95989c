#pragma once
// SHA-256 (FIPS 180-4) of a byte string, for the ledger's scenario content hash:
// the same value `sha256sum scenario.yaml` prints, with no crypto library in
// common/ (OpenSSL stays in the engine's TLS folder).
#include <string>
#include <string_view>

namespace herd::report {

// Lower-case hex, 64 characters.
std::string sha256Hex(std::string_view data);

}  // namespace herd::report
