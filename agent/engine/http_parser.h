#pragma once
// An incremental HTTP/1.1 response parser for the load engine's client.
//
// Zero-copy: it reads lines straight out of the buffer it is fed (the event
// loop's scratch buffer) and keeps only what must survive between reads: a few
// integers and, when a header or chunk-size line straddles two reads, the partial
// line in a small string. That is what lets an idle keep-alive connection cost
// a few hundred bytes instead of a read buffer. Any split of a response across
// feed() calls gives the same result as feeding it whole.
//
// Framing follows RFC 9112 section 6.3 for a client: no body for HEAD, 1xx, 204
// and 304; Transfer-Encoding overrides Content-Length (and the connection is
// then not reused); chunked when chunked is the final coding; otherwise
// Content-Length; otherwise the body runs until the server closes. Interim 1xx
// responses (100 Continue, 103 Early Hints) are skipped; 101 is an error because
// the engine never asks to upgrade.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herd::engine {

class ResponseParser {
 public:
  // Status line plus header fields of one response (interim ones included), and
  // separately the trailer fields of a chunked body.
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;
  // One chunk-size line including its extensions.
  static constexpr size_t kMaxChunkLineBytes = 4 * 1024;
  // Captured bodies beyond this are truncated (a check on a body this large
  // is not what a load test does; unbounded capture is a memory hole).
  static constexpr size_t kMaxCapturedBodyBytes = 8 * 1024 * 1024;

  enum class State : uint8_t { kNeedMore, kComplete, kError };

  ResponseParser() { reset(false); }

  // Starts a new response. `no_body`: the request was HEAD.
  void reset(bool no_body);
  // Keeps the final response's header fields in `sink` as "Name: value\n" lines
  // (cleared at each status line, so interim 1xx fields are not kept); null: keep
  // nothing. Stays set across reset().
  void captureHeaders(std::string* sink) { headers_ = sink; }

  // Consumes a prefix of `data`: everything, or the bytes up to the end of the
  // response when it completes there (the rest is not part of this response).
  // Returns the number of bytes consumed. Body bytes are appended to `body`
  // when it is not null. After kComplete or kError, consumes nothing.
  size_t feed(std::string_view data, std::string* body);

  // The server closed the connection. Ends a read-until-close body (state
  // becomes kComplete and true is returned); otherwise changes nothing and
  // returns false (the response is cut short, which the caller reports).
  bool finishOnEof();

  State state() const {
    return phase_ == Phase::kDone ? State::kComplete : phase_ == Phase::kFailed ? State::kError : State::kNeedMore;
  }
  // The final status code once its status line was parsed, else 0.
  int statusCode() const { return status_; }
  // Once complete: whether the connection may carry another request.
  bool keepAlive() const { return keep_alive_; }
  // Why the response was rejected (a static string), or "" when it was not.
  const char* error() const { return error_; }

 private:
  enum class Phase : uint8_t {
    kStatusLine,
    kHeaderLine,
    kBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailerLine,
    kUntilClose,
    kDone,
    kFailed,
  };

  bool takeLine(std::string_view& data, size_t limit, std::string_view& line);
  bool onStatusLine(std::string_view line);
  bool onHeaderLine(std::string_view line);
  bool onHeaderField(std::string_view name, std::string_view value);
  bool onContentLength(std::string_view value);
  bool onHeadersEnd();
  bool onChunkSizeLine(std::string_view line);
  bool onTrailerLine(std::string_view line);
  void takeBody(std::string_view& data, std::string* body);
  bool fail(const char* why);

  Phase phase_ = Phase::kStatusLine;
  bool no_body_ = false;  // HEAD
  bool http10_ = false;
  bool has_length_ = false;
  bool has_transfer_encoding_ = false;
  bool chunked_ = false;
  bool close_token_ = false;       // Connection: close
  bool keep_alive_token_ = false;  // Connection: keep-alive
  bool keep_alive_ = false;
  int status_ = 0;
  uint32_t header_bytes_ = 0;  // of the current header or trailer section
  uint64_t content_length_ = 0;
  uint64_t remaining_ = 0;  // of the Content-Length body or the current chunk
  size_t taken_ = 0;        // wire size of the line takeLine() returned last
  const char* error_ = "";
  std::string line_;                // a line straddling two feed() calls
  std::string* headers_ = nullptr;  // see captureHeaders()
};

}  // namespace herd::engine
