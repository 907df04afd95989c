// libFuzzer target for the event-stream parser: any input, split anywhere,
// gives the same events, last event ID and retry time as fed whole, and never
// crashes. The first byte picks the split size and the size bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/engine/sse_parser.h"

namespace {

using herd::engine::SseEvent;
using herd::engine::SseParser;

std::string run(std::string_view input, size_t max_event, size_t step) {
  SseParser parser(max_event);
  std::string out;
  for (size_t at = 0; at < input.size(); at += step) {
    parser.feed(input.substr(at, step), [&](const SseEvent& event) {
      if (event.data.size() > max_event) std::abort();
      out.append(event.type).append("|").append(event.data).append("|").append(event.id).append("\n");
    });
  }
  out += parser.failed() ? "failed" : "ok";
  out += parser.lastEventId();
  out += std::to_string(parser.retryMs().value_or(0));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t max_event = (control & 1) != 0 ? 32 : 1 << 16;
  const size_t step = 1 + (control >> 1);
  // A bounded parser fails at the same line however it is split, but not
  // always after the same events, so only unbounded runs compare the whole.
  const std::string whole = run(input, max_event, input.size() + 1);
  const std::string split = run(input, max_event, step);
  if (max_event > input.size() && whole != split) std::abort();
  return 0;
}
