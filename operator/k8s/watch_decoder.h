#pragma once
// Decodes the apiserver's watch stream: one JSON object per line,
// {"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": {...}}. Bytes arrive
// in arbitrary pieces (an event may be split across reads, or many may come in
// one), so the decoder buffers until a newline. Pure and fuzzed
// (watch_decoder_fuzz.cc): any input yields events or an Error, never a crash.
#include <string>
#include <string_view>
#include <vector>

#include "common/core/json.h"

#include "common/core/result.h"

namespace herd::k8s {

struct WatchEvent {
  enum class Type { Added, Modified, Deleted, Bookmark, Error };
  Type type;
  Json object;  // the object; a metav1.Status for Error
};

const char* toString(WatchEvent::Type t);

// Parses one line of a watch stream.
Result<WatchEvent> parseWatchEvent(std::string_view line);

class WatchDecoder {
 public:
  // A line longer than max_line is refused rather than buffered without bound:
  // objects are capped at 1.5 MiB by etcd, so 16 MiB means a broken stream.
  explicit WatchDecoder(size_t max_line = 16u << 20) : max_line_(max_line) {}

  // Appends bytes and adds the events they complete to `out`. On an Error, the
  // events before the bad line are still in `out` (they are real and must not
  // be lost), and the stream is unusable: the caller drops it and re-watches.
  Status feed(std::string_view bytes, std::vector<WatchEvent>& out);

  // True when bytes of an unfinished event are buffered: a stream that ends now
  // was truncated.
  bool pending() const { return !partial_.empty(); }

 private:
  size_t max_line_;
  std::string partial_;
};

}  // namespace herd::k8s
