#pragma once
// The serialised HTTP/1.1 request the renderer writes, taken apart into what an
// HTTP/2 HEADERS frame carries (RFC 9113 section 8.3): the pseudo-headers, the
// remaining fields with lower-case names, and the body. Hop-by-hop fields
// (Connection, Keep-Alive, Transfer-Encoding, Upgrade, ...) are dropped, Host
// becomes :authority.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herd::engine {

struct Http2Request {
  std::string_view method;
  std::string_view path;                                              // the request target, "/..." (or "*" for OPTIONS)
  std::string_view authority;                                         // the Host field's value
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // name (lower case), value
  std::string_view body;
};

// Splits `bytes` (a request line, fields, an empty line, the body) into `out`,
// whose views point into `bytes`; field names are lower-cased in place. False
// when the bytes are not such a request (no request line, a field without a
// colon, no empty line, a chunked body).
bool splitHttp1Request(std::string& bytes, Http2Request& out);

}  // namespace herd::engine
