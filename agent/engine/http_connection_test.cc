// HttpConnection against a real nginx on loopback (tests/support). nginx's own
// access log is the witness: every request the engine reports as done must be
// there exactly once.
#include "agent/engine/http_connection.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "agent/engine/test_client.h"
#include "tests/support/net.h"
#include "tests/support/nginx_suite.h"

namespace herd::engine {
namespace {

using namespace std::chrono_literals;
using stats::ErrorKind;
using test::get;
using test::RecordingClient;
using test::request;

class NginxConnectionTest : public test_support::NginxSuite {
 protected:
  void SetUp() override {
    NginxSuite::SetUp();
    if (HasFatalFailure()) return;
    target_ = test::target("http", "127.0.0.1", nginx_->port());
    ASSERT_FALSE(target_.addresses.empty());
  }

  // What nginx sends for `path` to a keep-alive request: the raw response to
  // our blocking "Connection: close" GET, whose Connection header value is 5
  // bytes shorter ("close" vs "keep-alive"); everything else is identical.
  static uint64_t keepAliveResponseSize(std::string_view path) {
    auto raw = test_support::httpGet(nginx_->port(), path);
    EXPECT_TRUE(raw.ok());
    EXPECT_NE(raw->find("Connection: close"), std::string::npos);
    return raw->size() + 5;
  }

  static std::string bigFile() {
    std::ifstream in(nginx_->bigFile(), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  }

  // Sends `count` requests one after another on `connection`, each from the
  // previous one's callback, and runs the loop until the last answer.
  static void sendSequentially(EventLoop& loop, HttpConnection& connection, RecordingClient& client,
                               const std::string& bytes, int count, bool capture = false) {
    int sent = 0;
    auto next = [&] {
      if (sent == count) {
        loop.stop();
        return;
      }
      ++sent;
      connection.send(bytes, MonoClock::now() + 10s, false, capture);
    };
    client.then = [&](const HttpResponse&) { next(); };
    next();
    ASSERT_TRUE(test::runFor(loop, 120s)) << "only " << client.responses.size() << " answers";
    client.then = nullptr;
  }

  EventLoop loop_;
  RecordingClient client_;
  ConnectionTarget target_;
};

TEST_F(NginxConnectionTest, SequentialKeepAliveRequestsCrossNginxsRequestLimit) {
  // nginx closes a connection after 1000 requests (keepalive_requests), saying
  // "Connection: close" on the 1000th response; the next send() reconnects.
  HttpConnection connection(loop_, target_, client_);
  const std::string bytes = get("/sequential");
  sendSequentially(loop_, connection, client_, bytes, 3000);
  ASSERT_EQ(client_.responses.size(), 3000u);
  for (const auto& response : client_.responses) {
    ASSERT_TRUE(response.ok()) << stats::errorKindName(response.error) << " " << response.code;
    ASSERT_EQ(response.status, 200);
    ASSERT_EQ(response.bytes_sent, bytes.size());
  }
  EXPECT_EQ(connection.connects(), 3u);
  EXPECT_EQ(connection.retries(), 0u);
  EXPECT_EQ(nginx_->waitForAccessLogCount(3000, "/sequential"), 3000);
}

TEST_F(NginxConnectionTest, ContentLengthBodyOfOneMebibyteIsCountedExactly) {
  HttpConnection connection(loop_, target_, client_);
  const uint64_t expected = keepAliveResponseSize("/big");
  sendSequentially(loop_, connection, client_, get("/big"), 3, /*capture=*/true);
  const std::string file = bigFile();
  ASSERT_EQ(file.size(), 1u << 20);
  for (const auto& response : client_.responses) {
    EXPECT_TRUE(response.ok());
    EXPECT_EQ(response.bytes_received, expected);
    EXPECT_TRUE(response.body == file) << "body differs from big.bin (" << response.body.size() << " bytes)";
  }
  EXPECT_EQ(connection.connects(), 1u);
}

TEST_F(NginxConnectionTest, ChunkedBodiesAreDecodedAndCountedExactly) {
  HttpConnection connection(loop_, target_, client_);
  const uint64_t small = keepAliveResponseSize("/chunked");
  const uint64_t big = keepAliveResponseSize("/chunked-big");
  sendSequentially(loop_, connection, client_, get("/chunked"), 1, true);
  sendSequentially(loop_, connection, client_, get("/chunked-big"), 1, true);
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_TRUE(client_.responses[0].ok());
  EXPECT_EQ(client_.responses[0].body, "apart-part-part\nbpart-part-part\nc\n");
  EXPECT_EQ(client_.responses[0].bytes_received, small);
  EXPECT_TRUE(client_.responses[1].ok());
  EXPECT_TRUE(client_.responses[1].body == "<" + bigFile() + ">\n");
  EXPECT_EQ(client_.responses[1].bytes_received, big);
  EXPECT_EQ(connection.connects(), 1u);  // chunked framing keeps the connection
}

TEST_F(NginxConnectionTest, ServerClosingAfterEachResponseWorksRepeatedly) {
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(loop_, connection, client_, get("/close"), 50, true);
  ASSERT_EQ(client_.responses.size(), 50u);
  for (const auto& response : client_.responses) {
    ASSERT_TRUE(response.ok()) << stats::errorKindName(response.error) << " " << response.code;
    ASSERT_EQ(response.body, "closed\n");
  }
  EXPECT_EQ(connection.connects(), 50u);
  EXPECT_EQ(connection.retries(), 0u);
  EXPECT_EQ(nginx_->waitForAccessLogCount(50, "/close"), 50);
}

TEST_F(NginxConnectionTest, AnIdleConnectionClosedByTheServerIsReplacedWithoutARetry) {
  // /short-keepalive: nginx closes the idle connection after 1 s.
  HttpConnection connection(loop_, target_, client_);
  sendSequentially(loop_, connection, client_, get("/short-keepalive"), 1);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(test::runUntil(
      loop_, [&] { return !connection.connected(); }, 5s))
      << "the server's close of the idle connection went unnoticed";
  sendSequentially(loop_, connection, client_, get("/short-keepalive"), 1);
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_TRUE(client_.responses[1].ok());
  EXPECT_EQ(connection.connects(), 2u);
  EXPECT_EQ(connection.retries(), 0u);
}

TEST_F(NginxConnectionTest, StatusCodesArriveAsTheyAre) {
  HttpConnection connection(loop_, target_, client_);
  const int codes[] = {404, 429, 500, 503, 204, 304, 400};
  for (int code : codes) {
    sendSequentially(loop_, connection, client_, get("/status/" + std::to_string(code)), 1, true);
  }
  sendSequentially(loop_, connection, client_, get("/"), 1, true);
  ASSERT_EQ(client_.responses.size(), std::size(codes) + 1);
  for (size_t i = 0; i < std::size(codes); ++i) {
    EXPECT_TRUE(client_.responses[i].ok()) << codes[i];  // kStatus is the caller's decision
    EXPECT_EQ(client_.responses[i].status, codes[i]);
  }
  EXPECT_EQ(client_.responses[4].body, "");  // 204
  EXPECT_EQ(client_.responses[5].body, "");  // 304
  EXPECT_EQ(client_.responses.back().body, "ok\n");
}

TEST_F(NginxConnectionTest, HeadHasNoBodyAndKeepsTheConnection) {
  HttpConnection connection(loop_, target_, client_);
  const uint64_t get_size = keepAliveResponseSize("/big");
  bool first = true;
  client_.then = [&](const HttpResponse&) {
    if (!first) {
      loop_.stop();
      return;
    }
    first = false;
    connection.send(get("/"), MonoClock::now() + 5s, false, true);
  };
  connection.send(request("HEAD", "/big"), MonoClock::now() + 5s, /*expect_no_body=*/true, true);
  ASSERT_TRUE(test::runFor(loop_, 10s));
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_TRUE(client_.responses[0].ok());
  EXPECT_EQ(client_.responses[0].status, 200);
  EXPECT_EQ(client_.responses[0].body, "");
  EXPECT_EQ(client_.responses[0].bytes_received, get_size - (1u << 20));
  EXPECT_EQ(client_.responses[1].body, "ok\n");
  EXPECT_EQ(connection.connects(), 1u);
}

TEST_F(NginxConnectionTest, PostBodiesAreSentAndAnswered) {
  HttpConnection connection(loop_, target_, client_);
  const std::string small = request("POST", "/echo", R"({"user":"u1"})");
  const std::string large = request("POST", "/", std::string(3 << 20, 'p'));  // crosses socket buffers
  sendSequentially(loop_, connection, client_, small, 2, true);
  sendSequentially(loop_, connection, client_, large, 2, true);
  ASSERT_EQ(client_.responses.size(), 4u);
  for (const auto& response : client_.responses) {
    EXPECT_TRUE(response.ok()) << stats::errorKindName(response.error) << " " << response.code;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "ok\n");
  }
  EXPECT_EQ(client_.responses[0].bytes_sent, small.size());
  EXPECT_EQ(client_.responses[3].bytes_sent, large.size());
  EXPECT_EQ(nginx_->waitForAccessLogCount(2, "/echo"), 2);
}

TEST_F(NginxConnectionTest, TwoHundredConcurrentConnectionsOnOneLoop) {
  constexpr int kConnections = 200;
  constexpr int kRequestsEach = 50;
  struct User final : HttpClient {
    HttpConnection connection;
    int left = kRequestsEach;
    int ok = 0;
    int* active;
    EventLoop* loop;
    const std::string* bytes;
    User(EventLoop& l, const ConnectionTarget& t, int* a, const std::string* b)
        : connection(l, t, *this), active(a), loop(&l), bytes(b) {}
    void next() {
      if (left-- == 0) {
        if (--*active == 0) loop->stop();
        return;
      }
      connection.send(*bytes, MonoClock::now() + 10s, false, false);
    }
    void onResponse(const HttpResponse& response) override {
      ok += response.error == ErrorKind::kNone && response.status == 200 ? 1 : 0;
      next();
    }
  };
  const std::string bytes = get("/concurrent");
  int active = kConnections;
  std::vector<std::unique_ptr<User>> users;
  for (int i = 0; i < kConnections; ++i) users.push_back(std::make_unique<User>(loop_, target_, &active, &bytes));
  for (auto& user : users) user->next();
  ASSERT_TRUE(test::runFor(loop_, 120s)) << active << " users unfinished";
  int ok = 0;
  for (const auto& user : users) ok += user->ok;
  EXPECT_EQ(ok, kConnections * kRequestsEach);
  EXPECT_EQ(nginx_->waitForAccessLogCount(kConnections * kRequestsEach, "/concurrent"), kConnections * kRequestsEach);
  auto status = nginx_->stubStatus();
  ASSERT_TRUE(status.ok()) << status.error().describe();
  EXPECT_GE(status->active, kConnections);  // ours are idle keep-alive connections now
}

TEST_F(NginxConnectionTest, FirstAddressRefusedSecondWorks) {
  auto refused = test::target("http", "127.0.0.1", test_support::closedLoopbackPort());
  ConnectionTarget both = target_;
  both.addresses.insert(both.addresses.begin(), refused.addresses.front());
  HttpConnection connection(loop_, both, client_);
  sendSequentially(loop_, connection, client_, get("/fallback"), 2);
  ASSERT_EQ(client_.responses.size(), 2u);
  EXPECT_TRUE(client_.responses[0].ok()) << stats::errorKindName(client_.responses[0].error);
  EXPECT_TRUE(client_.responses[1].ok());
}

TEST_F(NginxConnectionTest, TheCallbackMayDestroyTheConnection) {
  auto connection = std::make_unique<HttpConnection>(loop_, target_, client_);
  client_.then = [&](const HttpResponse&) {
    connection.reset();
    loop_.stop();
  };
  connection->send(get("/"), MonoClock::now() + 5s, false, true);
  ASSERT_TRUE(test::runFor(loop_, 10s));
  EXPECT_EQ(connection, nullptr);  // ASan: nothing touched it afterwards
  ASSERT_EQ(client_.responses.size(), 1u);
  EXPECT_TRUE(client_.responses[0].ok());
}

TEST_F(NginxConnectionTest, ObjectIsSmall) {
  std::printf("sizeof(HttpConnection) = %zu, sizeof(ResponseParser) = %zu, sizeof(Timer) = %zu\n",
              sizeof(HttpConnection), sizeof(ResponseParser), sizeof(Timer));
  EXPECT_LE(sizeof(HttpConnection), 512u);
}

#if !defined(__SANITIZE_ADDRESS__)
TEST_F(NginxConnectionTest, IdleKeepAliveConnectionsCostLittleHeap) {
  // The engine's share of the <= 8 KiB per idle connection budget: the object,
  // its request copy and parser state. Kernel socket buffers are not ours.
  constexpr int kConnections = 1000;
  const std::string bytes = get("/idle");
  int answered = 0;
  client_.then = [&](const HttpResponse&) {
    if (++answered == kConnections) loop_.stop();
  };
  const size_t before = mallinfo2().uordblks;
  std::vector<std::unique_ptr<HttpConnection>> connections;
  for (int i = 0; i < kConnections; ++i) {
    connections.push_back(std::make_unique<HttpConnection>(loop_, target_, client_));
    connections.back()->send(bytes, MonoClock::now() + 30s, false, false);
  }
  ASSERT_TRUE(test::runFor(loop_, 60s));
  for (const auto& response : client_.responses) ASSERT_TRUE(response.ok());
  client_.responses.clear();
  client_.responses.shrink_to_fit();
  const size_t after = mallinfo2().uordblks;
  const double per_connection = static_cast<double>(after - before) / kConnections;
  std::printf("heap per idle keep-alive connection: %.0f bytes\n", per_connection);
  EXPECT_LT(per_connection, 1024);
  for (const auto& connection : connections) EXPECT_TRUE(connection->connected());
}
#endif

}  // namespace
}  // namespace herd::engine
