#pragma once
// An incremental parser for a `text/event-stream` body (the HTML Living
// Standard's "event stream interpretation"): lines end in CR, LF or CRLF, in
// any mix and split anywhere across reads; `data:` lines join with '\n'; an
// empty line dispatches the event; `id:` sets the last event ID (kept across
// events, ignored when it holds NUL); `retry:` (digits only) sets the
// reconnection time; a leading BOM is skipped; comments (':') are ignored.
//
// It keeps only the line being read and the event being built; both are
// bounded by `max_event` bytes so a server that never ends a line cannot grow
// memory without end (failed() then stays true).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herd::engine {

struct SseEvent {
  std::string_view type;  // "message" unless an `event:` line said otherwise
  std::string_view data;  // the data lines joined with '\n'
  std::string_view id;    // the last event ID after this event
};

class SseParser {
 public:
  explicit SseParser(size_t max_event = 1 << 20) : max_event_(max_event) {}

  // Parses `bytes`, calling `on_event(const SseEvent&)` for each dispatched
  // event; views are valid during the call only. False once the stream broke
  // the size bound (the rest is ignored).
  template <typename OnEvent>
  bool feed(std::string_view bytes, OnEvent&& on_event);

  // The last event ID, sent back as Last-Event-ID when reconnecting.
  const std::string& lastEventId() const { return last_id_; }
  // The reconnection time the server asked for with `retry:`, in milliseconds.
  std::optional<uint64_t> retryMs() const { return retry_ms_; }
  bool failed() const { return failed_; }
  // A new connection: the partial line and event are dropped; the last event
  // ID and the retry time are kept (they outlive connections).
  void reconnect();

 private:
  static constexpr uint8_t kBomDone = 3;
  // Bytes of `bytes` that belong to a leading BOM (it may arrive split).
  size_t skipBom(std::string_view bytes);
  // Handles the complete line in line_; true when an event is ready in
  // type_/data_ (the next endLine() clears it).
  bool endLine();
  void field(std::string_view name, std::string_view value);
  bool appendToLine(std::string_view part);

  const size_t max_event_;
  bool failed_ = false;
  bool after_cr_ = false;    // the last byte was CR: a following LF belongs to it
  uint8_t bom_state_ = 0;    // BOM bytes matched at the start; kBomDone once past it
  bool dispatched_ = false;  // type_/data_ were handed out: clear them first
  std::string line_;
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  std::string last_id_;
  std::optional<uint64_t> retry_ms_;
};

template <typename OnEvent>
bool SseParser::feed(std::string_view bytes, OnEvent&& on_event) {
  if (failed_) return false;
  if (bom_state_ < kBomDone) bytes.remove_prefix(skipBom(bytes));
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\r' && c != '\n') continue;
    if (c == '\n' && after_cr_ && i == start) {
      after_cr_ = false;  // the LF of a CRLF whose CR ended the previous line
      start = i + 1;
      continue;
    }
    if (!appendToLine(bytes.substr(start, i - start))) return false;
    after_cr_ = c == '\r';
    start = i + 1;
    if (endLine())
      on_event(SseEvent{type_.empty() ? std::string_view("message") : std::string_view(type_), data_, last_id_});
  }
  if (start < bytes.size()) {
    after_cr_ = false;
    return appendToLine(bytes.substr(start));
  }
  return true;
}

}  // namespace herd::engine
