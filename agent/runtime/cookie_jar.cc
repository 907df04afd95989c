#include "agent/runtime/cookie_jar.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/scenario/extract.h"

namespace herd::runtime {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void CookieJar::storeFrom(std::string_view host, std::string_view headers) {
  scenario::forEachHeader(headers, "set-cookie", [&](std::string_view value) {
    store(host, value);
    return true;
  });
}

void CookieJar::store(std::string_view host, std::string_view set_cookie) {
  const size_t semicolon = std::min(set_cookie.find(';'), set_cookie.size());
  const std::string_view pair = set_cookie.substr(0, semicolon);
  const size_t equals = pair.find('=');
  if (equals == std::string_view::npos) return;  // RFC 6265 5.2: ignore a pair without '='
  Cookie cookie;
  cookie.name = std::string(trim(pair.substr(0, equals)));
  cookie.value = std::string(trim(pair.substr(equals + 1)));
  if (cookie.name.empty()) return;
  cookie.domain = lower(host);
  bool expired = false;
  std::string_view attributes = set_cookie.substr(semicolon);
  while (!attributes.empty()) {
    attributes.remove_prefix(1);  // ';'
    const size_t next = std::min(attributes.find(';'), attributes.size());
    const std::string_view attribute = trim(attributes.substr(0, next));
    attributes.remove_prefix(next);
    const size_t eq = attribute.find('=');
    const std::string_view key = trim(attribute.substr(0, eq));
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : trim(attribute.substr(eq + 1));
    if (equalsIgnoreCase(key, "max-age")) {
      long long seconds = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec == std::errc() && ptr == value.data() + value.size() && seconds <= 0) expired = true;
    } else if (equalsIgnoreCase(key, "domain") && !value.empty()) {
      std::string domain = lower(value.starts_with('.') ? value.substr(1) : value);
      // A server may only set cookies for its own domain (RFC 6265 5.3 step 6).
      const std::string host_lower = lower(host);
      const bool own = host_lower == domain ||
                       (host_lower.size() > domain.size() && host_lower.ends_with("." + domain));
      if (!own) return;
      cookie.domain = std::move(domain);
      cookie.host_only = false;
    }
  }
  auto same = [&](const Cookie& c) { return c.name == cookie.name && c.domain == cookie.domain; };
  cookies_.erase(std::remove_if(cookies_.begin(), cookies_.end(), same), cookies_.end());
  if (!expired) cookies_.push_back(std::move(cookie));
}

bool CookieJar::matches(const Cookie& cookie, std::string_view host) {
  if (equalsIgnoreCase(cookie.domain, host)) return true;
  if (cookie.host_only || host.size() <= cookie.domain.size()) return false;
  return host[host.size() - cookie.domain.size() - 1] == '.' &&
         equalsIgnoreCase(host.substr(host.size() - cookie.domain.size()), cookie.domain);
}

bool CookieJar::appendHeader(std::string_view host, std::string& out) const {
  bool any = false;
  for (const auto& cookie : cookies_) {
    if (!matches(cookie, host)) continue;
    if (any) out += "; ";
    out += cookie.name;
    out += '=';
    out += cookie.value;
    any = true;
  }
  return any;
}

const std::string* CookieJar::find(std::string_view host, std::string_view name) const {
  for (const auto& cookie : cookies_) {
    if (cookie.name == name && matches(cookie, host)) return &cookie.value;
  }
  return nullptr;
}

}  // namespace herd::runtime
