#include "agent/engine/http_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace herd::engine {
namespace {

// RFC 9110 tchar: the characters allowed in a field name.
constexpr std::array<bool, 256> makeTokenTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kTokenChar = makeTokenTable();

bool isToken(std::string_view text) {
  for (char c : text) {
    if (!kTokenChar[static_cast<unsigned char>(c)]) return false;
  }
  return !text.empty();
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `lower_literal` must be lower case.
bool equalsIgnoreCase(std::string_view text, std::string_view lower_literal) {
  if (text.size() != lower_literal.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != lower_literal[i]) return false;
  }
  return true;
}

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && isBlank(text.back())) text.remove_suffix(1);
  return text;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls fn(element) for each trimmed element of a comma-separated list, stopping
// (and returning false) when fn returns false.
template <typename Fn>
bool forEachListElement(std::string_view list, Fn fn) {
  while (true) {
    const size_t comma = list.find(',');
    if (!fn(trim(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// A line longer than this is never a header we keep, so the straddle buffer is
// released instead of being kept for the connection's whole life.
constexpr size_t kKeptLineCapacity = 1024;

}  // namespace

void ResponseParser::reset(bool no_body) {
  phase_ = Phase::kStatusLine;
  no_body_ = no_body;
  http10_ = false;
  has_length_ = false;
  has_transfer_encoding_ = false;
  chunked_ = false;
  close_token_ = false;
  keep_alive_token_ = false;
  keep_alive_ = false;
  status_ = 0;
  header_bytes_ = 0;
  content_length_ = 0;
  remaining_ = 0;
  error_ = "";
  if (line_.capacity() > kKeptLineCapacity) {
    std::string().swap(line_);
  } else {
    line_.clear();
  }
}

size_t ResponseParser::feed(std::string_view data, std::string* body) {
  const size_t total = data.size();
  while (!data.empty()) {
    std::string_view line;
    bool ok = true;
    switch (phase_) {
      case Phase::kStatusLine:
      case Phase::kHeaderLine:
      case Phase::kTrailerLine:
        if (!takeLine(data, kMaxHeaderBytes - header_bytes_, line)) continue;
        header_bytes_ += static_cast<uint32_t>(taken_);
        ok = phase_ == Phase::kStatusLine   ? onStatusLine(line)
             : phase_ == Phase::kHeaderLine ? onHeaderLine(line)
                                            : onTrailerLine(line);
        break;
      case Phase::kChunkSize:
        if (!takeLine(data, kMaxChunkLineBytes, line)) continue;
        ok = onChunkSizeLine(line);
        break;
      case Phase::kChunkDataEnd:
        // Exactly CRLF (or a bare LF) must follow the chunk's data.
        if (!takeLine(data, 2, line)) continue;
        if (line.empty()) {
          phase_ = Phase::kChunkSize;
        } else {
          ok = fail("missing CRLF after chunk data");
        }
        break;
      case Phase::kBody:
      case Phase::kChunkData:
      case Phase::kUntilClose: takeBody(data, body); break;
      case Phase::kDone:
      case Phase::kFailed: return total - data.size();
    }
    // `line` may point into line_, so it is cleared only after the line was used.
    line_.clear();
    if (!ok) break;
  }
  return total - data.size();
}

bool ResponseParser::finishOnEof() {
  if (phase_ != Phase::kUntilClose) return false;
  phase_ = Phase::kDone;
  return true;
}

// Takes one line ending in LF (a CR before the LF is dropped) off the front of
// `data`. Returns false when the line is incomplete (the part seen is kept in
// line_) or longer than `limit` bytes with its terminator (the parser fails).
// Sets taken_ to the line's size on the wire.
bool ResponseParser::takeLine(std::string_view& data, size_t limit, std::string_view& line) {
  const void* lf = std::memchr(data.data(), '\n', data.size());
  if (lf == nullptr) {
    if (line_.size() + data.size() > limit) return fail("header section or line too long");
    line_.append(data);
    data.remove_prefix(data.size());
    return false;
  }
  const auto length = static_cast<size_t>(static_cast<const char*>(lf) - data.data());
  taken_ = line_.size() + length + 1;
  if (taken_ > limit) return fail("header section or line too long");
  if (line_.empty()) {
    line = data.substr(0, length);
  } else {
    line_.append(data.data(), length);
    line = line_;
  }
  data.remove_prefix(length + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

// "HTTP/1.1 200 OK": the version must be 1.x, the code three digits in 100-599,
// the reason phrase may be empty or missing.
bool ResponseParser::onStatusLine(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ' || !isDigit(line[9]) ||
      !isDigit(line[10]) || !isDigit(line[11]) || (line.size() > 12 && line[12] != ' ')) {
    return fail("malformed status line");
  }
  if (headers_ != nullptr) headers_->clear();
  http10_ = line[7] == '0';
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status_ < 100 || status_ > 599) return fail("status code out of range");
  phase_ = Phase::kHeaderLine;
  return true;
}

bool ResponseParser::onHeaderLine(std::string_view line) {
  if (line.empty()) return onHeadersEnd();
  // Obsolete line folding (RFC 9112 5.2) may be rejected; nothing we talk to sends it.
  if (isBlank(line.front())) return fail("obsolete header line folding");
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
    return fail("malformed header field");
  }
  return onHeaderField(line.substr(0, colon), trim(line.substr(colon + 1)));
}

bool ResponseParser::onHeaderField(std::string_view name, std::string_view value) {
  if (headers_ != nullptr && phase_ == Phase::kHeaderLine) {
    headers_->append(name).append(": ").append(value).push_back('\n');
  }
  if (equalsIgnoreCase(name, "content-length")) return onContentLength(value);
  if (equalsIgnoreCase(name, "transfer-encoding")) {
    // The last coding of the last field decides (RFC 9112 6.3).
    has_transfer_encoding_ = true;
    const size_t comma = value.rfind(',');
    chunked_ = equalsIgnoreCase(trim(comma == std::string_view::npos ? value : value.substr(comma + 1)), "chunked");
    return true;
  }
  if (equalsIgnoreCase(name, "connection")) {
    forEachListElement(value, [this](std::string_view token) {
      if (equalsIgnoreCase(token, "close")) close_token_ = true;
      if (equalsIgnoreCase(token, "keep-alive")) keep_alive_token_ = true;
      return true;
    });
  }
  return true;
}

// Accepts "42" and lists of identical values ("42, 42", or the same field
// twice) as RFC 9110 8.6 allows; anything else is an error, because guessing a
// length desynchronises every later response on the connection.
bool ResponseParser::onContentLength(std::string_view value) {
  return forEachListElement(value, [this](std::string_view element) {
    if (element.empty() || element.size() > 18) return fail("invalid Content-Length");
    uint64_t length = 0;
    for (char c : element) {
      if (!isDigit(c)) return fail("invalid Content-Length");
      length = length * 10 + static_cast<uint64_t>(c - '0');
    }
    if (has_length_ && length != content_length_) return fail("conflicting Content-Length");
    has_length_ = true;
    content_length_ = length;
    return true;
  });
}

bool ResponseParser::onHeadersEnd() {
  if (status_ < 200) {
    if (status_ == 101) return fail("unexpected 101 Switching Protocols");
    // An interim response: forget its fields and read the next status line.
    const bool no_body = no_body_;
    const uint32_t header_bytes = header_bytes_;
    reset(no_body);
    header_bytes_ = header_bytes;
    return true;
  }
  keep_alive_ = http10_ ? (keep_alive_token_ && !close_token_) : !close_token_;
  if (no_body_ || status_ == 204 || status_ == 304) {
    phase_ = Phase::kDone;
    return true;
  }
  if (has_transfer_encoding_) {
    // Both framings at once is how responses get smuggled: trust
    // Transfer-Encoding for this response but never reuse the connection.
    if (has_length_) keep_alive_ = false;
    if (chunked_) {
      phase_ = Phase::kChunkSize;
      return true;
    }
    keep_alive_ = false;
    phase_ = Phase::kUntilClose;
    return true;
  }
  if (has_length_) {
    remaining_ = content_length_;
    phase_ = content_length_ == 0 ? Phase::kDone : Phase::kBody;
    return true;
  }
  keep_alive_ = false;
  phase_ = Phase::kUntilClose;
  return true;
}

// "1a2b;name=value": hex size, optional blanks, optional extensions (ignored).
bool ResponseParser::onChunkSizeLine(std::string_view line) {
  size_t i = 0;
  uint64_t size = 0;
  for (; i < line.size() && hexValue(line[i]) >= 0; ++i) {
    if (i == 15) return fail("chunk size too large");  // 15 hex digits: 2^60 bytes
    size = size * 16 + static_cast<uint64_t>(hexValue(line[i]));
  }
  if (i == 0) return fail("malformed chunk size");
  while (i < line.size() && isBlank(line[i])) ++i;
  if (i < line.size() && line[i] != ';') return fail("malformed chunk size");
  if (size == 0) {
    phase_ = Phase::kTrailerLine;
    header_bytes_ = 0;
    return true;
  }
  remaining_ = size;
  phase_ = Phase::kChunkData;
  return true;
}

bool ResponseParser::onTrailerLine(std::string_view line) {
  if (line.empty()) {
    phase_ = Phase::kDone;
    return true;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
    return fail("malformed trailer field");
  }
  return true;
}

void ResponseParser::takeBody(std::string_view& data, std::string* body) {
  size_t take = data.size();
  if (phase_ != Phase::kUntilClose) take = static_cast<size_t>(std::min<uint64_t>(take, remaining_));
  if (body != nullptr && body->size() < kMaxCapturedBodyBytes) {
    body->append(data.data(), std::min(take, kMaxCapturedBodyBytes - body->size()));
  }
  data.remove_prefix(take);
  if (phase_ == Phase::kUntilClose) return;
  remaining_ -= take;
  if (remaining_ == 0) phase_ = phase_ == Phase::kBody ? Phase::kDone : Phase::kChunkDataEnd;
}

bool ResponseParser::fail(const char* why) {
  phase_ = Phase::kFailed;
  error_ = why;
  keep_alive_ = false;
  return false;
}

}  // namespace herd::engine
