#pragma once
// A gRPC method of a compiled scenario, with the descriptors its messages are
// converted through (protobuf stays inside grpc.cc). The scenario names the
// schema at the top level (`grpc: {protos, importPaths}` compiled with
// protobuf's own compiler library, or `grpc: {descriptorSet}`) and each
// `grpc:` step one method of it; see docs/scenario.md.
//
// Calls go through the engine's own HTTP/2 (a POST with content-type
// application/grpc on an Http2Exchange), not through the gRPC C++ client: that
// client's calls block a thread or need a completion queue thread of their
// own, and the engine runs thousands of users on one event loop per core.
// What gRPC adds to HTTP/2 is small (grpc_wire.h).
#include <string>
#include <string_view>

namespace herd::scenario {

class GrpcMethod {
 public:
  virtual ~GrpcMethod() = default;
  // "/package.Service/Method", the HTTP/2 :path and the endpoint's name.
  virtual const std::string& path() const = 0;
  virtual bool serverStreaming() const = 0;
  // The request message written as JSON (proto3's JSON mapping; field names as
  // in the .proto or in lowerCamelCase) appended to `out` as one framed
  // message. False, with the reason in `error`, when it does not convert.
  virtual bool encodeRequest(std::string_view json, std::string& out, std::string& error) const = 0;
  // One response message's bytes appended to `out` as JSON with the .proto's
  // field names, fields at their default value included. False when the
  // bytes are not such a message.
  virtual bool decodeResponse(std::string_view bytes, std::string& out) const = 0;
};

}  // namespace herd::scenario
