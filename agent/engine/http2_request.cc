#include "agent/engine/http2_request.h"

#include <algorithm>
#include <array>

namespace herd::engine {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Fields that describe the HTTP/1.1 connection, not the request; RFC 9113
// section 8.2.2 makes sending them a malformed request.
bool connectionSpecific(std::string_view name) {
  static constexpr std::array<std::string_view, 6> kNames = {"connection",        "keep-alive", "proxy-connection",
                                                             "transfer-encoding", "upgrade",    "te"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

bool splitRequestLine(std::string_view line, Http2Request& out) {
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == 0 || last <= first + 1) return false;
  out.method = line.substr(0, first);
  out.path = line.substr(first + 1, last - first - 1);
  return line.substr(last + 1).starts_with("HTTP/");
}

// One "Name: value" line; false when it has no colon or an empty name.
bool addField(std::string& bytes, size_t start, size_t end, Http2Request& out) {
  const std::string_view line(bytes.data() + start, end - start);
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::transform(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                 bytes.begin() + static_cast<std::ptrdiff_t>(start + colon),
                 bytes.begin() + static_cast<std::ptrdiff_t>(start),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));
  if (name == "host") {
    out.authority = value;
  } else if (name == "transfer-encoding") {
    return false;  // the renderer never chunks; a body must have its length
  } else if (!connectionSpecific(name) || (name == "te" && value == "trailers")) {
    // "te: trailers" is the one TE an HTTP/2 request may carry (RFC 9113
    // section 8.2.2); gRPC servers require it.
    out.fields.emplace_back(name, value);
  }
  return true;
}

}  // namespace

bool splitHttp1Request(std::string& bytes, Http2Request& out) {
  out.method = out.path = out.authority = out.body = {};
  out.fields.clear();  // keeps its capacity: no allocation per request
  size_t line_end = bytes.find("\r\n");
  if (line_end == std::string::npos || !splitRequestLine(std::string_view(bytes).substr(0, line_end), out)) {
    return false;
  }
  size_t start = line_end + 2;
  while (true) {
    line_end = bytes.find("\r\n", start);
    if (line_end == std::string::npos) return false;
    if (line_end == start) break;  // the empty line
    if (!addField(bytes, start, line_end, out)) return false;
    start = line_end + 2;
  }
  out.body = std::string_view(bytes).substr(line_end + 2);
  return true;
}

}  // namespace herd::engine
