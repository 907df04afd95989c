// parseOrigin/splitUrl (declared in compiler.h).
#include <cctype>

#include "common/scenario/compiler.h"
#include "common/scenario/text.h"

namespace herd::scenario {

namespace {

using detail::fail;
using detail::quote;

bool isHostChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; }

Result<std::string> parseHost(std::string_view host, std::string_view url) {
  if (host.empty()) return fail("missing host in " + quote(url));
  if (host.front() == '[') {  // an IPv6 literal, stored without brackets
    const std::string_view inner = host.substr(1, host.size() - 2);
    const bool ok = host.back() == ']' && !inner.empty() &&
                    inner.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
    if (!ok) return fail("malformed IPv6 host " + quote(host) + " in " + quote(url));
    return detail::toLower(inner);
  }
  for (const char c : host) {
    if (!isHostChar(c)) {
      return fail("invalid character " + quote(std::string_view(&c, 1)) + " in host " + quote(host) + " of " +
                  quote(url));
    }
  }
  return detail::toLower(host);
}

Result<uint16_t> parsePort(std::string_view port, std::string_view url) {
  const auto value = detail::parseInt(port);
  const bool digits = !port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits || !value || *value < 1 || *value > 65535) {
    return fail("invalid port " + quote(port) + " in " + quote(url) + " (expected 1-65535)");
  }
  return static_cast<uint16_t>(*value);
}

// Splits "host:port" / "[v6]:port" / "host" into host and port text.
void splitAuthority(std::string_view authority, std::string_view& host, std::string_view& port, bool& has_port) {
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  host = has_port ? authority.substr(0, colon) : authority;
  port = has_port ? authority.substr(colon + 1) : std::string_view();
}

Result<Origin> parseAuthority(std::string_view scheme, std::string_view authority, std::string_view url) {
  if (authority.find('@') != std::string_view::npos) {
    return fail("credentials in URLs are not supported: " + quote(url) + " (send an Authorization header instead)");
  }
  std::string_view host_text;
  std::string_view port_text;
  bool has_port = false;
  splitAuthority(authority, host_text, port_text, has_port);
  Origin origin;
  origin.scheme = detail::toLower(scheme);
  auto host = parseHost(host_text, url);
  if (!host) return host.error();
  origin.host = std::move(*host);
  origin.port = origin.scheme == "https" ? 443 : 80;
  if (has_port) {
    auto port = parsePort(port_text, url);
    if (!port) return port.error();
    origin.port = *port;
  }
  return origin;
}

}  // namespace

Result<Url> splitUrl(std::string_view url) {
  const size_t separator = url.find("://");
  if (separator == std::string_view::npos) {
    return fail("not an absolute URL: " + quote(url) + " (expected http://host[:port]/...)");
  }
  const std::string_view scheme = url.substr(0, separator);
  if (!detail::equalsIgnoreCase(scheme, "http") && !detail::equalsIgnoreCase(scheme, "https")) {
    return fail("unsupported scheme " + quote(scheme) + " in " + quote(url) + " (herd speaks http and https)");
  }
  const std::string_view rest = url.substr(separator + 3);
  const size_t path_start = std::min(rest.find_first_of("/?#"), rest.size());
  auto origin = parseAuthority(scheme, rest.substr(0, path_start), url);
  if (!origin) return origin.error();
  std::string path(rest.substr(path_start));
  if (path.find('#') != std::string::npos) {
    return fail("URL " + quote(url) + " has a fragment, which is never sent (remove the #...)");
  }
  if (path.empty() || path.front() == '?') path.insert(0, "/");
  return Url{std::move(*origin), std::move(path)};
}

Result<Origin> parseOrigin(std::string_view url) {
  auto split = splitUrl(url);
  if (!split) return split.error();
  if (split->path != "/" || url.ends_with("?")) {
    return fail("a target is scheme://host[:port] without a path, got " + quote(url) +
                " (write the path in each request instead)");
  }
  return std::move(split->origin);
}

}  // namespace herd::scenario
