// A gRPC call's response (an HTTP/2 response whose trailers say how the call
// ended): grpc-status other than 0 is a failure named by its code; a deadline
// that passed is DEADLINE_EXCEEDED, as gRPC clients report it; the body's
// framed messages become the JSON that checks and captures read.
#include <vector>

#include "agent/runtime/response_checks.h"
#include "common/scenario/grpc.h"
#include "common/scenario/grpc_wire.h"

namespace herd::runtime {

Outcome inspectGrpcResponse(const scenario::RequestStep& step, const engine::HttpResponse& response,
                            ResponseContext& context) {
  using stats::ErrorKind;
  if (response.error == ErrorKind::kTimeout) return {ErrorKind::kGrpc, scenario::kGrpcDeadlineExceeded};
  if (response.error != ErrorKind::kNone) return {response.error, response.code};
  // A trailers-only response (an error before any message) carries
  // grpc-status in its only HEADERS frame; the header text has both.
  const int32_t status = scenario::grpcStatusOf(response.headers);
  if (status < 0) {
    if (response.status != 200) return {ErrorKind::kStatus, response.status};
    return {ErrorKind::kProtocol, 0};
  }
  if (status != 0) return {ErrorKind::kGrpc, status};
  thread_local std::vector<std::string_view> messages;
  if (!scenario::splitGrpcFrames(response.body, messages)) return {ErrorKind::kProtocol, 0};
  if (!step.grpc->serverStreaming() && messages.size() != 1) return {ErrorKind::kProtocol, 0};
  engine::HttpResponse converted = response;
  converted.body = {};
  thread_local std::string json;
  if (step.grpc_decode) {
    // Unary: the message as a JSON object; server-streaming: an array of them.
    json.clear();
    const bool array = step.grpc->serverStreaming();
    if (array) json += '[';
    for (size_t i = 0; i < messages.size(); ++i) {
      if (i > 0) json += ',';
      if (!step.grpc->decodeResponse(messages[i], json)) return {ErrorKind::kProtocol, 0};
    }
    if (array) json += ']';
    converted.body = json;
  }
  return inspectResponse(step, converted, context);
}

}  // namespace herd::runtime
