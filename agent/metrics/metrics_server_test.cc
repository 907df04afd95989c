#include "agent/metrics/metrics_server.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/net.h"

namespace herd::metrics {
namespace {

uint16_t portOf(const MetricsServer& server) {
  const auto& address = server.address();
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

TEST(MetricsServer, ServesTheLatestPublishedText) {
  auto server = MetricsServer::start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.error().describe();
  EXPECT_TRUE((*server)->address().starts_with("127.0.0.1:"));
  const auto port = portOf(**server);
  ASSERT_NE(port, 0);

  (*server)->publish("a_total 1\n");
  auto first = test_support::httpGet(port, "/metrics");
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_TRUE(first->starts_with("HTTP/1.1 200 OK\r\n")) << *first;
  EXPECT_NE(first->find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_TRUE(first->ends_with("\r\n\r\na_total 1\n")) << *first;

  (*server)->publish("a_total 2\n");
  EXPECT_TRUE(test_support::httpGet(port, "/metrics?x=1")->ends_with("\r\n\r\na_total 2\n"));
  EXPECT_TRUE(test_support::httpGet(port, "/other")->starts_with("HTTP/1.1 404"));

  (*server)->stop();
  EXPECT_FALSE(test_support::acceptsConnections(port));
}

TEST(MetricsServer, AClientThatSendsNothingDoesNotBlockItForever) {
  auto server = MetricsServer::start("127.0.0.1:0");
  ASSERT_TRUE(server.ok());
  const auto port = portOf(**server);
  (*server)->publish("x 1\n");
  // A silent client holds the server for at most its I/O timeout; the next
  // scrape is then answered.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto answered = test_support::httpGet(port, "/metrics");
  ::close(silent);
  ASSERT_TRUE(answered.ok()) << answered.error().describe();
  EXPECT_TRUE(answered->ends_with("x 1\n"));
}

TEST(MetricsServer, BadAddressesAreNamed) {
  EXPECT_NE(MetricsServer::start("9464").error().message.find("expected HOST:PORT"), std::string::npos);
  EXPECT_NE(MetricsServer::start("127.0.0.1:http").error().message.find("port \"http\""), std::string::npos);
  EXPECT_NE(MetricsServer::start("127.0.0.1:70000").error().message.find("65535"), std::string::npos);
  EXPECT_NE(MetricsServer::start("::1:80").error().message.find("brackets"), std::string::npos);
  auto taken = MetricsServer::start("127.0.0.1:0");
  ASSERT_TRUE(taken.ok());
  auto again = MetricsServer::start((*taken)->address());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("cannot listen"), std::string::npos);
  EXPECT_EQ(again.error().where, (*taken)->address());
  auto v6 = parseHostPort("[::1]:9464");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9464);
  EXPECT_EQ(parseHostPort(":9464")->host, "");
}

}  // namespace
}  // namespace herd::metrics
