#include "common/scenario/plan.h"

namespace herd::scenario {

namespace {

uint16_t defaultPort(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

// IPv6 literals are stored without brackets (so they can be resolved as is) and
// need them back wherever a port may follow.
std::string bracketed(const std::string& host) { return host.find(':') == std::string::npos ? host : "[" + host + "]"; }

}  // namespace

std::string Origin::hostHeader() const {
  if (port == defaultPort(scheme)) return bracketed(host);
  return bracketed(host) + ":" + std::to_string(port);
}

std::string Origin::toString() const { return scheme + "://" + bracketed(host) + ":" + std::to_string(port); }

}  // namespace herd::scenario
