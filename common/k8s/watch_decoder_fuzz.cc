// libFuzzer target for the watch-stream decoder: arbitrary bytes, fed in
// arbitrary pieces, must produce events or an Error and never crash or hang.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/k8s/watch_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte chooses the piece size, so the fuzzer also explores how an
  // event split across reads is reassembled.
  const size_t piece = 1 + data[0] % 64;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  herd::k8s::WatchDecoder decoder(4096);
  while (!rest.empty()) {
    std::vector<herd::k8s::WatchEvent> events;
    auto status = decoder.feed(rest.substr(0, piece), events);
    for (const auto& e : events) {
      (void)herd::k8s::toString(e.type);
      (void)e.object.dump();
    }
    if (!status.ok()) break;
    rest.remove_prefix(std::min(piece, rest.size()));
  }
  return 0;
}
