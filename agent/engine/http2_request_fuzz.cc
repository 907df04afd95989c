// libFuzzer target for splitHttp1Request(): any input either is refused or
// splits into views that lie inside it, with lower-case field names and no
// field HTTP/2 forbids; splitting never crashes or reads past the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/engine/http2_request.h"

namespace {

bool inside(std::string_view part, const std::string& whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  herd::engine::Http2Request request;
  if (!herd::engine::splitHttp1Request(bytes, request)) return 0;
  if (request.method.empty() || !inside(request.method, bytes) || !inside(request.path, bytes) ||
      !inside(request.authority, bytes) || !inside(request.body, bytes)) {
    std::abort();
  }
  for (const auto& [name, value] : request.fields) {
    if (name.empty() || !inside(name, bytes) || !inside(value, bytes)) std::abort();
    for (const char c : name) {
      if (c >= 'A' && c <= 'Z') std::abort();
    }
    if (name == "host" || name == "connection" || name == "transfer-encoding") std::abort();
  }
  return 0;
}
