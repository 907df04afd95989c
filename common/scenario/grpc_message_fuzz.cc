// libFuzzer target for the conversions of a gRPC step: the input as the
// request's JSON (JSON to message, through the descriptors protobuf's
// compiler built from examples/protos) and as a response message's bytes
// (message to JSON). Either converts or is refused; nothing crashes, and a
// request that converts is one framed message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/scenario/compiler.h"
#include "common/scenario/grpc.h"
#include "common/scenario/grpc_wire.h"

namespace {

// GetItem of examples/grpc.yaml (its Item response nests Money and a list).
const herd::scenario::GrpcMethod& method() {
  static const herd::scenario::Plan plan = [] {
    auto compiled = herd::scenario::compileFile(HERD_SOURCE_DIR "/examples/grpc.yaml");
    if (!compiled) std::abort();
    return std::move(*compiled);
  }();
  const auto& step = std::get<herd::scenario::RequestStep>(plan.classes.at(0).steps.at(0));
  return *step.grpc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& call = method();
  std::string framed;
  std::string error;
  if (call.encodeRequest(input, framed, error)) {
    std::vector<std::string_view> messages;
    if (!herd::scenario::splitGrpcFrames(framed, messages) || messages.size() != 1) std::abort();
  }
  std::string json;
  (void)call.decodeResponse(input, json);
  return 0;
}
