// HttpConnection against servers that fail: refused and silent ports, and
// scripted raw sockets (tests/support) that cut responses short, reset, lose
// the keep-alive race or send garbage. Each failure must be one callback with
// the right ErrorKind, never a hang, a crash or a synchronous callback.
#include <gtest/gtest.h>

#include <cerrno>

#include "agent/engine/http_connection.h"
#include "agent/engine/test_client.h"
#include "tests/support/net.h"
#include "tests/support/scripted_server.h"

namespace herd::engine {
namespace {

using namespace std::chrono_literals;
using stats::ErrorKind;
using test::get;
using test::RecordingClient;
using test_support::okResponse;
using test_support::ScriptedReply;
using test_support::ScriptedServer;
using Then = ScriptedReply::Then;

class FaultTest : public ::testing::Test {
 protected:
  void startServer(ScriptedServer::Handler handler) {
    auto server = ScriptedServer::start(std::move(handler));
    ASSERT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    target_ = test::target("http", "127.0.0.1", server_->port());
  }

  // Sends `count` GETs one after another and waits for all answers.
  void sendSequentially(HttpConnection& connection, int count, std::chrono::milliseconds timeout = 5s) {
    int sent = 0;
    auto next = [&] {
      if (sent == count) {
        loop_.stop();
        return;
      }
      ++sent;
      connection.send(get("/"), MonoClock::now() + timeout, false, true);
    };
    client_.then = [&](const HttpResponse&) { next(); };
    next();
    ASSERT_TRUE(test::runFor(loop_, 30s));
    client_.then = nullptr;
  }

  EventLoop loop_;
  RecordingClient client_;
  ConnectionTarget target_;
  std::unique_ptr<ScriptedServer> server_;
};

TEST_F(FaultTest, ClosedPortIsAConnectErrorDeliveredFromTheLoop) {
  target_ = test::target("http", "127.0.0.1", test_support::closedLoopbackPort());
  HttpConnection connection(loop_, target_, client_);
  connection.send(get("/"), MonoClock::now() + 5s, false, false);
  EXPECT_TRUE(client_.responses.empty()) << "called back from inside send()";
  EXPECT_TRUE(connection.busy());
  ASSERT_TRUE(test::runUntil(
      loop_, [&] { return !client_.responses.empty(); }, 5s));
  EXPECT_EQ(client_.responses[0].error, ErrorKind::kConnect);
  EXPECT_EQ(client_.responses[0].code, ECONNREFUSED);
  EXPECT_FALSE(connection.busy());
}

TEST_F(FaultTest, NoAddressesIsAConnectError) {
  target_.origin = {"http", "nowhere", 80};
  HttpConnection connection(loop_, target_, client_);
  connection.send(get("/"), MonoClock::now() + 5s, false, false);
  ASSERT_TRUE(test::runUntil(
      loop_, [&] { return !client_.responses.empty(); }, 5s));
  EXPECT_EQ(client_.responses[0].error, ErrorKind::kConnect);
}

TEST_F(FaultTest, SilentServerTimesOutAtTheDeadline) {
  test_support::SilentListener silent;
  ASSERT_TRUE(silent.ok());
  target_ = test::target("http", "127.0.0.1", silent.port());
  HttpConnection connection(loop_, target_, client_);
  const MonoTime start = MonoClock::now();
  const MonoTime deadline = start + 300ms;
  connection.send(get("/"), deadline, false, false);
  ASSERT_TRUE(test::runUntil(
      loop_, [&] { return !client_.responses.empty(); }, 5s));
  const auto& response = client_.responses[0];
  EXPECT_EQ(response.error, ErrorKind::kTimeout);
  EXPECT_GE(response.at, deadline);
  EXPECT_LE(response.at - deadline, 50ms);
  EXPECT_GT(response.bytes_sent, 0u);
  EXPECT_FALSE(connection.connected()) << "a timed-out socket must be closed";
}

TEST_F(FaultTest, CancelAbandonsTheRequestWithoutACallback) {
  test_support::SilentListener silent;
  target_ = test::target("http", "127.0.0.1", silent.port());
  HttpConnection connection(loop_, target_, client_);
  connection.send(get("/"), MonoClock::now() + 100ms, false, false);
  test::runUntil(
      loop_, [] { return false; }, 20ms);
  connection.cancel();
  EXPECT_FALSE(connection.busy());
  EXPECT_FALSE(connection.connected());
  test::runUntil(
      loop_, [] { return false; }, 200ms);  // past the old deadline
  EXPECT_TRUE(client_.responses.empty());
}

TEST_F(FaultTest, ServerClosingMidBodyIsAReset) {
  const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part";
  startServer([&](int, int, std::string_view) { return ScriptedReply{partial, Then::kClose}; });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 1);
  ASSERT_EQ(client_.responses.size(), 1u);
  EXPECT_EQ(client_.responses[0].error, ErrorKind::kReset);
  EXPECT_EQ(client_.responses[0].code, 0);  // a FIN, no errno
  EXPECT_EQ(client_.responses[0].status, 200);
  EXPECT_EQ(client_.responses[0].bytes_received, partial.size());
}

TEST_F(FaultTest, ServerResettingMidHeadersIsAResetWithErrno) {
  startServer([](int, int, std::string_view) { return ScriptedReply{"HTTP/1.1 200 OK\r\nContent-Le", Then::kReset}; });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 1);
  ASSERT_EQ(client_.responses.size(), 1u);
  EXPECT_EQ(client_.responses[0].error, ErrorKind::kReset);
  EXPECT_EQ(client_.responses[0].code, ECONNRESET);
}

TEST_F(FaultTest, GarbageIsAProtocolError) {
  startServer([](int, int, std::string_view) { return ScriptedReply{"SSH-2.0-OpenSSH_9.2\r\n", Then::kKeepOpen}; });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 1);
  ASSERT_EQ(client_.responses.size(), 1u);
  EXPECT_EQ(client_.responses[0].error, ErrorKind::kProtocol);
  EXPECT_FALSE(connection.connected());
}

TEST_F(FaultTest, ConflictingContentLengthIsAProtocolError) {
  startServer([](int, int, std::string_view) {
    return ScriptedReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", Then::kKeepOpen};
  });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 1);
  ASSERT_EQ(client_.responses.size(), 1u);
  EXPECT_EQ(client_.responses[0].error, ErrorKind::kProtocol);
}

TEST_F(FaultTest, ReusedConnectionLosingTheKeepAliveRaceIsRetriedOnce) {
  // The server answers the first request of each connection and drops the
  // connection, unanswered, at its second: the client must re-send on a new one.
  startServer([](int, int request, std::string_view) {
    if (request == 0) return ScriptedReply{okResponse(), Then::kKeepOpen};
    return ScriptedReply{"", Then::kClose};
  });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 3);
  ASSERT_EQ(client_.responses.size(), 3u);
  for (const auto& response : client_.responses) {
    EXPECT_TRUE(response.ok()) << stats::errorKindName(response.error) << " " << response.code;
    EXPECT_EQ(response.body, "ok\n");
  }
  EXPECT_EQ(connection.retries(), 2u);
  EXPECT_EQ(connection.connects(), 3u);
  EXPECT_EQ(server_->connections(), 3);
}

TEST_F(FaultTest, ResetOfAReusedConnectionIsRetriedToo) {
  startServer([](int, int request, std::string_view) {
    if (request == 0) return ScriptedReply{okResponse(), Then::kKeepOpen};
    return ScriptedReply{"", Then::kReset};
  });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 2);
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_TRUE(client_.responses[1].ok()) << stats::errorKindName(client_.responses[1].error);
  EXPECT_EQ(connection.retries(), 1u);
}

TEST_F(FaultTest, AFreshConnectionDroppedUnansweredIsAResetNotARetry) {
  startServer([](int, int, std::string_view) { return ScriptedReply{"", Then::kClose}; });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 1);
  ASSERT_EQ(client_.responses.size(), 1u);
  EXPECT_EQ(client_.responses[0].error, ErrorKind::kReset);
  EXPECT_EQ(connection.retries(), 0u);
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(FaultTest, TheRetryHappensOnlyOncePerRequest) {
  // First connection: one good answer. Every later connection: dropped. The
  // second request is retried once, then fails.
  startServer([](int connection, int, std::string_view) {
    if (connection == 0) return ScriptedReply{okResponse(), Then::kClose};
    return ScriptedReply{"", Then::kClose};
  });
  HttpConnection connection(loop_, target_, client_);
  // okResponse() with kClose: the client cannot know, reuses, fails, retries.
  sendSequentially(connection, 2);
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_TRUE(client_.responses[0].ok());
  EXPECT_EQ(client_.responses[1].error, ErrorKind::kReset);
  EXPECT_LE(connection.retries(), 1u);
  EXPECT_LE(server_->connections(), 2);
}

TEST_F(FaultTest, NoRetryOnceAResponseByteArrived) {
  startServer([](int, int request, std::string_view) {
    if (request == 0) return ScriptedReply{okResponse(), Then::kKeepOpen};
    return ScriptedReply{"HTTP/1.1 2", Then::kClose};
  });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 2);
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_EQ(client_.responses[1].error, ErrorKind::kReset);
  EXPECT_EQ(connection.retries(), 0u);
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(FaultTest, UntilCloseBodyEndsWithTheConnection) {
  startServer([](int, int, std::string_view) {
    return ScriptedReply{"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs until close", Then::kClose};
  });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 2);
  ASSERT_EQ(client_.responses.size(), 2u);
  for (const auto& response : client_.responses) {
    EXPECT_TRUE(response.ok());
    EXPECT_EQ(response.body, "the body runs until close");
  }
  EXPECT_EQ(connection.retries(), 0u);
  EXPECT_EQ(connection.connects(), 2u);
}

TEST_F(FaultTest, ExactBytesForChunkedWithExtensionsTrailersAndInterimResponse) {
  const std::string response =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\n" +
      std::string("10000\r\n") + std::string(0x10000, 'z') + "\r\n" + "0\r\nTrailer: yes\r\n\r\n";
  startServer([&](int, int, std::string_view) { return ScriptedReply{response, Then::kKeepOpen}; });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 2);
  ASSERT_EQ(client_.responses.size(), 2u);
  for (const auto& recorded : client_.responses) {
    EXPECT_TRUE(recorded.ok());
    EXPECT_EQ(recorded.status, 200);
    EXPECT_EQ(recorded.bytes_received, response.size());
    EXPECT_EQ(recorded.body, "Wikipedia" + std::string(0x10000, 'z'));
  }
  EXPECT_EQ(connection.connects(), 1u);
}

TEST_F(FaultTest, LargeRequestsSurvivePartialWrites) {
  // 16 MiB cannot fit in the socket buffers: the rest waits for EPOLLOUT.
  startServer([](int, int, std::string_view text) {
    return ScriptedReply{okResponse(std::to_string(text.size())), Then::kKeepOpen};
  });
  const std::string big = test::request("POST", "/upload", std::string(16 << 20, 'u'));
  HttpConnection connection(loop_, target_, client_);
  connection.send(big, MonoClock::now() + 20s, false, true);
  ASSERT_TRUE(test::runUntil(
      loop_, [&] { return !client_.responses.empty(); }, 30s));
  EXPECT_TRUE(client_.responses[0].ok()) << stats::errorKindName(client_.responses[0].error);
  EXPECT_EQ(client_.responses[0].bytes_sent, big.size());
  EXPECT_EQ(client_.responses[0].body, std::to_string(big.size()));
}

TEST_F(FaultTest, ExtraBytesAfterAResponseRetireTheConnection) {
  startServer([](int, int, std::string_view) {
    return ScriptedReply{okResponse() + "HTTP/1.1 200 OK\r\n", Then::kKeepOpen};
  });
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(connection, 2);
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_TRUE(client_.responses[0].ok());
  EXPECT_TRUE(client_.responses[1].ok());
  EXPECT_EQ(connection.connects(), 2u);  // the first connection was not trusted again
}

}  // namespace
}  // namespace herd::engine
