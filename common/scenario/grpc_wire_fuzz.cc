// libFuzzer target for gRPC message framing and trailer reading: any body
// splits into messages that frame back to exactly the body, or is refused;
// nothing crashes. The input is also read as a header block.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/scenario/grpc_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> messages;
  if (herd::scenario::splitGrpcFrames(body, messages)) {
    std::string framed;
    for (const auto message : messages) herd::scenario::appendGrpcFrame(message, framed);
    if (framed != body) std::abort();
  }
  const int32_t status = herd::scenario::grpcStatusOf(body);
  if (status < -1) std::abort();
  (void)herd::scenario::findGrpcField(body, "grpc-message");
  return 0;
}
