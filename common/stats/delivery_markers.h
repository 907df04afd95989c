#pragma once
// Inline part of delivery.h: scanning text for delivery markers (the engine's
// hot path for subscribers, so no allocation).
#include <charconv>
#include <string_view>

namespace herd::stats {

namespace marker_detail {
inline bool readNumber(std::string_view& text, char end, int64_t& out) {
  const auto* first = text.data();
  const auto result = std::from_chars(first, first + text.size(), out);
  if (result.ec != std::errc() || result.ptr == first + text.size() || *result.ptr != end) return false;
  text.remove_prefix(static_cast<size_t>(result.ptr - first) + 1);
  return true;
}
}  // namespace marker_detail

template <typename Fn>
size_t scanMarkers(std::string_view text, Fn&& fn) {
  constexpr std::string_view kOpen = "~herd:";
  size_t pos = 0;
  while (true) {
    const size_t start = text.find(kOpen, pos);
    if (start == std::string_view::npos) {
      // A marker's opening may be cut at the very end.
      for (size_t keep = std::min(kOpen.size() - 1, text.size()); keep > 0; --keep) {
        if (kOpen.starts_with(text.substr(text.size() - keep))) return keep;
      }
      return 0;
    }
    std::string_view rest = text.substr(start + kOpen.size());
    int64_t publisher = 0, seq = 0, sent = 0;
    const size_t before = rest.size();
    if (marker_detail::readNumber(rest, ':', publisher) && marker_detail::readNumber(rest, ':', seq) &&
        marker_detail::readNumber(rest, '~', sent)) {
      fn(publisher, static_cast<uint64_t>(seq), sent);
      pos = start + kOpen.size() + (before - rest.size());
      continue;
    }
    // Incomplete at the end of the text: keep it; malformed: skip it.
    if (text.find('~', start + 1) == std::string_view::npos && text.size() - start < 64) return text.size() - start;
    pos = start + 1;
  }
}

}  // namespace herd::stats
