#include "agent/engine/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>

namespace herd::engine {
namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// getaddrinfo with the given flags; on failure returns null and sets `status`.
AddrInfoPtr lookup(const std::string& host, const std::string& port, int flags, int& status) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  // No AI_ADDRCONFIG: it hides ::1 and even 127.0.0.1 on hosts whose only
  // interface is loopback, which is exactly where tests and sidecars run.
  hints.ai_flags = flags | AI_NUMERICSERV;
  addrinfo* result = nullptr;
  status = getaddrinfo(host.c_str(), port.c_str(), &hints, &result);
  return AddrInfoPtr(status == 0 ? result : nullptr);
}

std::string stripBrackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

// Origin::toString() lives in the scenario library, which the engine does not link.
std::string describe(const scenario::Origin& origin) {
  return origin.scheme + "://" + origin.host + ":" + std::to_string(origin.port);
}

}  // namespace

std::string Address::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "(unknown address family)";
}

Result<std::vector<Address>> resolve(const scenario::Origin& origin) {
  const std::string host = stripBrackets(origin.host);
  if (host.empty()) return Error{"empty host name", describe(origin)};
  const uint16_t port = origin.port != 0 ? origin.port : (origin.scheme == "https" ? 443 : 80);
  const std::string service = std::to_string(port);

  int status = 0;
  AddrInfoPtr found = lookup(host, service, AI_NUMERICHOST, status);
  if (!found) found = lookup(host, service, 0, status);
  if (!found) {
    return Error{"cannot resolve host '" + host + "': " + gai_strerror(status), describe(origin)};
  }
  std::vector<Address> addresses;
  for (const addrinfo* info = found.get(); info != nullptr; info = info->ai_next) {
    if (info->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address address;
    std::memcpy(&address.storage, info->ai_addr, info->ai_addrlen);
    address.length = info->ai_addrlen;
    bool duplicate = false;
    for (const auto& seen : addresses) {
      duplicate = duplicate ||
                  (seen.length == address.length && std::memcmp(&seen.storage, &address.storage, seen.length) == 0);
    }
    if (!duplicate) addresses.push_back(address);
  }
  if (addresses.empty()) return Error{"host '" + host + "' has no TCP address", describe(origin)};
  return addresses;
}

}  // namespace herd::engine
