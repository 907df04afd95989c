#include "agent/engine/http2_request.h"

#include <gtest/gtest.h>

namespace herd::engine {
namespace {

TEST(SplitHttp1Request, TakesTheRequestApartForHeadersAndData) {
  std::string bytes =
      "POST /echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nConnection: keep-alive\r\nX-Trace:  abc \r\n\r\n{\"a\":1}";
  Http2Request request;
  ASSERT_TRUE(splitHttp1Request(bytes, request));
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/echo?x=1");
  EXPECT_EQ(request.authority, "127.0.0.1:8080");
  EXPECT_EQ(request.body, "{\"a\":1}");
  using Field = std::pair<std::string_view, std::string_view>;
  const std::vector<Field> expected = {
      {"content-type", "application/json"}, {"content-length", "7"}, {"x-trace", "abc"}};
  EXPECT_EQ(request.fields, expected);  // Host became :authority, Connection is gone
}

TEST(SplitHttp1Request, KeepsTeTrailersOnly) {
  // RFC 9113 section 8.2.2: TE may be sent with "trailers" (gRPC requires it),
  // with anything else it is connection-specific.
  std::string bytes = "POST /pkg.S/M HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nte: gzip\r\n\r\nmsg";
  Http2Request request;
  ASSERT_TRUE(splitHttp1Request(bytes, request));
  using Field = std::pair<std::string_view, std::string_view>;
  EXPECT_EQ(request.fields, (std::vector<Field>{{"te", "trailers"}}));
  EXPECT_EQ(request.body, "msg");
}

TEST(SplitHttp1Request, AcceptsARequestWithoutBody) {
  std::string bytes = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  Http2Request request;
  ASSERT_TRUE(splitHttp1Request(bytes, request));
  EXPECT_EQ(request.path, "/");
  EXPECT_TRUE(request.fields.empty());
  EXPECT_TRUE(request.body.empty());
}

TEST(SplitHttp1Request, RefusesWhatIsNotARequest) {
  for (std::string bytes :
       {"", "GET / HTTP/1.1\r\nHost: a\r\n", "GET /\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n",
        "GET / HTTP/1.1\r\n: empty name\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}) {
    Http2Request request;
    EXPECT_FALSE(splitHttp1Request(bytes, request)) << bytes;
  }
}

}  // namespace
}  // namespace herd::engine
