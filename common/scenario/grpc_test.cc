#include <gtest/gtest.h>

#include "common/scenario/compiler.h"
#include "common/scenario/grpc.h"
#include "common/scenario/grpc_wire.h"

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;

TEST(GrpcWire, FramesSplitBackIntoTheirMessages) {
  std::string body;
  appendGrpcFrame("abc", body);
  appendGrpcFrame("", body);
  ASSERT_EQ(body.size(), 5u + 3u + 5u);
  EXPECT_EQ(body.substr(0, 5), std::string("\0\0\0\0\3", 5));
  std::vector<std::string_view> messages;
  ASSERT_TRUE(splitGrpcFrames(body, messages));
  EXPECT_EQ(messages, (std::vector<std::string_view>{"abc", ""}));
  ASSERT_TRUE(splitGrpcFrames("", messages));
  EXPECT_TRUE(messages.empty());
}

TEST(GrpcWire, RefusesCutShortAndCompressedFrames) {
  std::vector<std::string_view> messages;
  EXPECT_FALSE(splitGrpcFrames(std::string("\0\0\0", 3), messages));              // a prefix cut short
  EXPECT_FALSE(splitGrpcFrames(std::string("\0\0\0\0\4abc", 8), messages));       // a length beyond the body
  EXPECT_FALSE(splitGrpcFrames(std::string("\1\0\0\0\1x", 6), messages));         // compressed
  EXPECT_FALSE(splitGrpcFrames(std::string("\0\xff\xff\xff\xff", 5), messages));  // 4 GiB announced
}

TEST(GrpcWire, StatusFromHeadersAndTrailers) {
  EXPECT_EQ(grpcStatusOf(":status: 200\ncontent-type: application/grpc\ngrpc-status: 0\n"), 0);
  EXPECT_EQ(grpcStatusOf("content-type: application/grpc\ngrpc-status: 5\ngrpc-message: no item 0\n"), 5);
  EXPECT_EQ(findGrpcField("grpc-status: 5\ngrpc-message: no item 0\n", "grpc-message"), "no item 0");
  EXPECT_EQ(grpcStatusOf("content-type: application/grpc\n"), -1);
  EXPECT_EQ(grpcStatusOf("grpc-status: five\n"), -1);
  EXPECT_EQ(grpcStatusOf("grpc-status-details-bin: x\n"), -1);
}

TEST(GrpcWire, TimeoutHeaderIsAtMostEightDigitsAndNeverShorter) {
  EXPECT_EQ(grpcTimeoutValue(100ms), "100000u");
  EXPECT_EQ(grpcTimeoutValue(2s), "2000000u");
  EXPECT_EQ(grpcTimeoutValue(Duration(1)), "1n");
  EXPECT_EQ(grpcTimeoutValue(Duration(123'456'789'012)), "123457m");  // rounded up
  EXPECT_EQ(grpcTimeoutValue(std::chrono::hours(24 * 365 * 200)), "1752000H");
}

std::string scenario(std::string_view steps) {
  const std::string protos = HERD_SCENARIO_CORPUS "/../../examples/protos";
  return "name: g\ntarget: http://127.0.0.1:50051\ngrpc: {protos: [" + protos + "/shop/catalog.proto], importPaths: [" +
         protos + "]}\nusers:\n  - name: u\n    steps:\n" + std::string(steps) + "load: {users: 1, duration: 1s}\n";
}

TEST(GrpcStep, CompilesToAnHttp2PostWithTheFramedMessage) {
  const auto plan = compileString(scenario("      - grpc: {call: shop.Catalog/GetItem, message: {id: 7}, timeout: 2s, "
                                           "metadata: {X-Tenant: acme}}\n"),
                                  "g.yaml");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const auto& step = std::get<RequestStep>(plan->classes[0].steps[0]);
  ASSERT_TRUE(step.grpc);
  EXPECT_EQ(step.grpc->path(), "/shop.Catalog/GetItem");
  EXPECT_FALSE(step.grpc->serverStreaming());
  EXPECT_EQ(step.method, "POST");
  EXPECT_EQ(step.http, HttpVersion::kHttp2);
  EXPECT_EQ(plan->endpoints[step.endpoint].name, "/shop.Catalog/GetItem");
  EXPECT_EQ(plan->endpoints[step.endpoint].method, "GRPC");
  // id 7: field 1, varint 7, framed.
  ASSERT_TRUE(step.body && step.body->isLiteral());
  EXPECT_EQ(step.body->parts[0].literal, std::string("\0\0\0\0\2\x08\x07", 7));
  EXPECT_FALSE(step.grpc_json_body);
  std::vector<std::string> headers;
  for (const auto& header : step.headers) headers.push_back(header.name + ": " + header.value.parts[0].literal);
  EXPECT_EQ(headers, (std::vector<std::string>{"x-tenant: acme", "content-type: application/grpc", "te: trailers",
                                               "grpc-timeout: 2000000u"}));
}

TEST(GrpcStep, MessagesConvertBothWays) {
  const auto plan = compileString(scenario("      - grpc: {call: shop.Catalog/ListItems, message: {category: "
                                           "'{{user.index}}'}, check: {jsonPath: {$.name: x}}}\n"),
                                  "g.yaml");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const auto& step = std::get<RequestStep>(plan->classes[0].steps[0]);
  EXPECT_TRUE(step.grpc->serverStreaming());
  EXPECT_TRUE(step.grpc_json_body);
  EXPECT_TRUE(step.grpc_decode);
  std::string framed, error;
  ASSERT_TRUE(step.grpc->encodeRequest(R"({"category": "books", "count": "3"})", framed, error)) << error;
  EXPECT_EQ(framed, std::string("\0\0\0\0\x09\x0a\x05"
                                "books\x10\x03",
                                14));
  EXPECT_FALSE(step.grpc->encodeRequest(R"({"count": true})", framed, error));
  EXPECT_FALSE(error.empty());
  // An Item: id 3, name "item-3", price {EUR, 300}, tags ["new"].
  std::string json;
  ASSERT_TRUE(step.grpc->decodeResponse(std::string("\x08\x03\x12\x06item-3\x1a\x08\x0a\x03"
                                                    "EUR\x10\xac\x02\x22\x03new",
                                                    25),
                                        json));
  EXPECT_EQ(json, R"({"id":"3","name":"item-3","price":{"currency":"EUR","cents":"300"},"tags":["new"]})");
  json.clear();
  EXPECT_FALSE(step.grpc->decodeResponse("\xff\xff", json));
}

}  // namespace
}  // namespace herd::scenario
