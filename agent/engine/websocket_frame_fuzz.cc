// libFuzzer target for the WebSocket frame parser: any input, split anywhere,
// gives the same events as fed whole, never crashes and never consumes more
// than it was given. The first byte picks the peer, the message bound and the
// split size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine/websocket_frame.h"

namespace {

using herd::engine::websocket::FrameEvent;
using herd::engine::websocket::FrameParser;

std::vector<std::string> run(std::string_view input, FrameParser::Peer peer, size_t max_message, size_t step) {
  FrameParser parser(max_message, peer);
  std::vector<std::string> events;
  for (size_t at = 0; at < input.size(); at += step) {
    std::string_view piece = input.substr(at, step);
    while (true) {
      size_t consumed = 0;
      const FrameEvent event = parser.feed(piece, consumed);
      if (consumed > piece.size()) std::abort();
      piece.remove_prefix(consumed);
      if (event.kind == FrameEvent::Kind::kNeedMore) break;
      // A data message within the parser's bound; a control frame's payload within RFC 6455's 125 bytes,
      // whatever the message bound.
      const size_t bound = event.kind == FrameEvent::Kind::kMessage ? max_message
                                                                    : herd::engine::websocket::kMaxControlPayload;
      if (event.payload.size() > bound) std::abort();
      events.push_back(std::to_string(static_cast<int>(event.kind)) + ":" + std::to_string(event.close_code) + ":" +
                       std::string(event.payload));
      if (event.kind == FrameEvent::Kind::kError) return events;
    }
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto peer = (control & 1) != 0 ? FrameParser::Peer::kClient : FrameParser::Peer::kServer;
  const size_t max_message = (control & 2) != 0 ? 64 : 1 << 16;
  const size_t step = 1 + (control >> 2);
  if (run(input, peer, max_message, input.size() + 1) != run(input, peer, max_message, step)) std::abort();
  return 0;
}
