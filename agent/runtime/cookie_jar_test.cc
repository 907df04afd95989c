#include "agent/runtime/cookie_jar.h"

#include <gtest/gtest.h>

namespace herd::runtime {
namespace {

std::string header(const CookieJar& jar, std::string_view host) {
  std::string out;
  jar.appendHeader(host, out);
  return out;
}

TEST(CookieJar, StoresReplacesAndExpires) {
  CookieJar jar;
  jar.storeFrom("shop.test",
                "Content-Type: text/html\nSet-Cookie: SID=abc; Path=/; HttpOnly\nset-cookie: theme=dark\n");
  EXPECT_EQ(header(jar, "shop.test"), "SID=abc; theme=dark");
  jar.store("shop.test", "SID=def; Max-Age=3600");
  EXPECT_EQ(header(jar, "shop.test"), "theme=dark; SID=def");
  jar.store("shop.test", "theme=; Max-Age=0");
  EXPECT_EQ(header(jar, "shop.test"), "SID=def");
  ASSERT_NE(jar.find("shop.test", "SID"), nullptr);
  EXPECT_EQ(*jar.find("shop.test", "SID"), "def");
  EXPECT_EQ(jar.find("other.test", "SID"), nullptr);
}

TEST(CookieJar, HostOnlyAndDomainCookies) {
  CookieJar jar;
  jar.store("www.shop.test", "a=1");
  jar.store("www.shop.test", "b=2; Domain=.shop.test");
  jar.store("www.shop.test", "evil=1; Domain=bank.test");  // not the server's domain: ignored
  jar.store("www.shop.test", "novalue");                   // no '=': ignored
  EXPECT_EQ(header(jar, "www.shop.test"), "a=1; b=2");
  EXPECT_EQ(header(jar, "api.shop.test"), "b=2");
  EXPECT_EQ(header(jar, "shop.test"), "b=2");
  EXPECT_EQ(header(jar, "bank.test"), "");
  EXPECT_EQ(jar.size(), 2u);
}

}  // namespace
}  // namespace herd::runtime
