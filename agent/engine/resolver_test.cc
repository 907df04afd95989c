#include "agent/engine/resolver.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace herd::engine {
namespace {

// Only numeric hosts and /etc/hosts names: a unit test must not send DNS queries.

TEST(Resolver, NumericIpv4) {
  auto addresses = resolve({"http", "127.0.0.1", 8080});
  ASSERT_TRUE(addresses.ok()) << addresses.error().describe();
  ASSERT_EQ(addresses->size(), 1u);
  EXPECT_EQ((*addresses)[0].family(), AF_INET);
  EXPECT_EQ((*addresses)[0].toString(), "127.0.0.1:8080");
}

TEST(Resolver, NumericIpv6WithOrWithoutBrackets) {
  for (const char* host : {"::1", "[::1]"}) {
    auto addresses = resolve({"https", host, 8443});
    ASSERT_TRUE(addresses.ok()) << addresses.error().describe();
    ASSERT_EQ(addresses->size(), 1u);
    EXPECT_EQ((*addresses)[0].family(), AF_INET6);
    EXPECT_EQ((*addresses)[0].toString(), "[::1]:8443");
  }
}

TEST(Resolver, DefaultPortsFollowTheScheme) {
  auto http = resolve({"http", "127.0.0.1", 0});
  auto https = resolve({"https", "127.0.0.1", 0});
  ASSERT_TRUE(http.ok() && https.ok());
  EXPECT_EQ((*http)[0].toString(), "127.0.0.1:80");
  EXPECT_EQ((*https)[0].toString(), "127.0.0.1:443");
}

TEST(Resolver, LocalhostFromTheHostsFile) {
  auto addresses = resolve({"http", "localhost", 8080});
  ASSERT_TRUE(addresses.ok()) << addresses.error().describe();
  ASSERT_FALSE(addresses->empty());
  for (const auto& address : *addresses) {
    EXPECT_TRUE(address.toString() == "127.0.0.1:8080" || address.toString() == "[::1]:8080") << address.toString();
  }
}

TEST(Resolver, EmptyHostIsAnError) {
  auto addresses = resolve({"http", "", 80});
  ASSERT_FALSE(addresses.ok());
  EXPECT_NE(addresses.error().describe().find("empty host"), std::string::npos);
}

}  // namespace
}  // namespace herd::engine
