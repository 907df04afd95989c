#pragma once
// A virtual user's cookies, like a browser's but small: cookies are kept per
// host (or for a Domain and its subdomains), replaced by name and removed by
// Max-Age <= 0. Expires is not parsed: such a cookie lives as long as the user,
// like a session cookie. Path, Secure and HttpOnly are not enforced: a load test
// talks to its own target. Written down in docs/scenario.md.
#include <string>
#include <string_view>
#include <vector>

namespace herd::runtime {

class CookieJar {
 public:
  // Stores every Set-Cookie field of `headers` ("Name: value\n" lines) received from `host`.
  void storeFrom(std::string_view host, std::string_view headers);
  // Stores one Set-Cookie value.
  void store(std::string_view host, std::string_view set_cookie);
  // "a=1; b=2" for a request to `host`, appended to `out`; false when there is none.
  bool appendHeader(std::string_view host, std::string& out) const;
  // The value of cookie `name` for `host`, if the jar holds one.
  const std::string* find(std::string_view host, std::string_view name) const;
  size_t size() const { return cookies_.size(); }

 private:
  struct Cookie {
    std::string domain;     // lower case
    bool host_only = true;  // no Domain attribute: this host only
    std::string name;
    std::string value;
  };
  static bool matches(const Cookie& cookie, std::string_view host);
  std::vector<Cookie> cookies_;
};

}  // namespace herd::runtime
