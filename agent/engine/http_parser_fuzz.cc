// libFuzzer target for the response parser: any input, split anywhere, must
// give the same outcome as fed whole, never crash, and never consume more
// than it was given. The first input byte picks HEAD and the split points.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/engine/http_parser.h"

namespace {

using herd::engine::ResponseParser;

struct Outcome {
  ResponseParser::State state;
  int status;
  bool keep_alive;
  size_t consumed;
  std::string body;
  bool operator==(const Outcome&) const = default;
};

Outcome run(std::string_view input, bool head, bool eof, size_t step) {
  ResponseParser parser;
  parser.reset(head);
  Outcome outcome{ResponseParser::State::kNeedMore, 0, false, 0, {}};
  for (size_t at = 0; at < input.size() && parser.state() == ResponseParser::State::kNeedMore; at += step) {
    const std::string_view piece = input.substr(at, step);
    const size_t consumed = parser.feed(piece, &outcome.body);
    if (consumed > piece.size()) std::abort();
    outcome.consumed += consumed;
  }
  if (eof && parser.state() == ResponseParser::State::kNeedMore) parser.finishOnEof();
  outcome.state = parser.state();
  // How much of a rejected response was consumed depends on where reads ended.
  if (outcome.state == ResponseParser::State::kError) outcome.consumed = 0;
  outcome.status = parser.statusCode();
  outcome.keep_alive = parser.keepAlive();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool head = (control & 1) != 0;
  const bool eof = (control & 2) != 0;
  const size_t step = 1 + (control >> 2);  // 1..64 bytes per read
  const Outcome whole = run(input, head, eof, input.size() + 1);
  const Outcome split = run(input, head, eof, step);
  if (!(whole == split)) std::abort();
  if (whole.state == ResponseParser::State::kComplete && whole.consumed > input.size()) std::abort();
  return 0;
}
