#include <gtest/gtest.h>

#include "common/scenario/compiler.h"

namespace herd::scenario {
namespace {

TEST(ParseOrigin, ReadsSchemeHostAndPort) {
  const auto origin = parseOrigin("http://127.0.0.1:8080");
  ASSERT_TRUE(origin.ok()) << origin.error().message;
  EXPECT_EQ(origin->scheme, "http");
  EXPECT_EQ(origin->host, "127.0.0.1");
  EXPECT_EQ(origin->port, 8080);
  EXPECT_EQ(origin->hostHeader(), "127.0.0.1:8080");
  EXPECT_EQ(origin->toString(), "http://127.0.0.1:8080");
}

TEST(ParseOrigin, DefaultsPortsAndNormalisesCase) {
  const auto https = parseOrigin("HTTPS://Shop.Example.COM/");
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->scheme, "https");
  EXPECT_EQ(https->host, "shop.example.com");
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->hostHeader(), "shop.example.com");
  EXPECT_EQ(parseOrigin("http://localhost")->port, 80);
}

TEST(ParseOrigin, KeepsIpv6WithoutBrackets) {
  const auto origin = parseOrigin("http://[::1]:9000");
  ASSERT_TRUE(origin.ok()) << origin.error().message;
  EXPECT_EQ(origin->host, "::1");
  EXPECT_EQ(origin->hostHeader(), "[::1]:9000");
  EXPECT_EQ(origin->toString(), "http://[::1]:9000");
  EXPECT_EQ(parseOrigin("https://[::1]")->hostHeader(), "[::1]");
}

TEST(ParseOrigin, RejectsWhatIsNotAnOrigin) {
  const std::pair<const char*, const char*> cases[] = {
      {"ftp://host", "unsupported scheme \"ftp\""},
      {"127.0.0.1:8080", "not an absolute URL"},
      {"http://", "missing host"},
      {"http://host:0", "invalid port \"0\""},
      {"http://host:65536", "invalid port"},
      {"http://host:", "invalid port \"\""},
      {"http://host:8a", "invalid port"},
      {"http://host/api", "without a path"},
      {"http://host?x=1", "without a path"},
      {"http://host#frag", "fragment"},
      {"http://user:pw@host", "credentials in URLs"},
      {"http://ho st", "invalid character \" \""},
      {"http://[::1", "malformed IPv6"},
      {"http://[zz]:80", "malformed IPv6"},
  };
  for (const auto& [url, expected] : cases) {
    const auto result = parseOrigin(url);
    ASSERT_FALSE(result.ok()) << url;
    EXPECT_NE(result.error().message.find(expected), std::string::npos) << url << " → " << result.error().message;
  }
}

TEST(SplitUrl, SeparatesOriginFromPathAndQuery) {
  const auto url = splitUrl("https://api.example.com:8443/v1/items?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->origin.toString(), "https://api.example.com:8443");
  EXPECT_EQ(url->path, "/v1/items?x=1");
  EXPECT_EQ(splitUrl("http://h")->path, "/");
  EXPECT_EQ(splitUrl("http://h?q=1")->path, "/?q=1");
}

}  // namespace
}  // namespace herd::scenario
