#pragma once
// gRPC over HTTP/2 on the wire (the gRPC project's PROTOCOL-HTTP2.md): the
// 5-byte prefix of every message (a compressed flag, a 4-byte big-endian
// length), the status codes a call ends with, and the grpc-timeout header.
// No protobuf here: these work on bytes, and are what the engine parses on
// every response, so they are small hand-written functions rather than a
// library (the gRPC C++ client blocks a thread per call; see grpc.h).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/scenario/plan.h"

namespace herd::scenario {

// Appends `message` with its prefix (uncompressed) to `out`.
void appendGrpcFrame(std::string_view message, std::string& out);

// Splits a response body into its messages (views into `body`). False when
// the body is not whole frames: a prefix cut short, a length beyond the
// body, or a compressed message (herd does not offer compression, so a
// server must not send one).
bool splitGrpcFrames(std::string_view body, std::vector<std::string_view>& messages);

inline constexpr int32_t kGrpcDeadlineExceeded = 4;
inline constexpr int32_t kGrpcInvalidArgument = 3;

// The value of `name` in `headers` ("name: value\n" lines, names lower
// case, trailers after headers); empty when absent.
std::string_view findGrpcField(std::string_view headers, std::string_view name);

// grpc-status from the response's header text: the code, or -1 when there
// is none or it is not a number.
int32_t grpcStatusOf(std::string_view headers);

// The grpc-timeout header's value for `timeout`: at most 8 digits and a unit
// (n, u, m, S, M, H), rounded up so the server never sees a shorter deadline.
std::string grpcTimeoutValue(Duration timeout);

}  // namespace herd::scenario
