#include "operator/k8s/watch_decoder.h"

namespace herd::k8s {

const char* toString(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::Added: return "ADDED";
    case WatchEvent::Type::Modified: return "MODIFIED";
    case WatchEvent::Type::Deleted: return "DELETED";
    case WatchEvent::Type::Bookmark: return "BOOKMARK";
    case WatchEvent::Type::Error: return "ERROR";
  }
  return "?";
}

namespace {

bool typeFromString(std::string_view s, WatchEvent::Type& out) {
  using T = WatchEvent::Type;
  static constexpr std::pair<std::string_view, T> kTypes[] = {{"ADDED", T::Added},
                                                              {"MODIFIED", T::Modified},
                                                              {"DELETED", T::Deleted},
                                                              {"BOOKMARK", T::Bookmark},
                                                              {"ERROR", T::Error}};
  for (const auto& [name, type] : kTypes) {
    if (s == name) {
      out = type;
      return true;
    }
  }
  return false;
}

std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 120;
  std::string out(s.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';  // keep log lines on one line
  }
  return s.size() > kMax ? out + "..." : out;
}

}  // namespace

Result<WatchEvent> parseWatchEvent(std::string_view line) {
  // allow_exceptions=false: garbage yields a discarded value instead of a throw.
  Json doc = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error{"watch event is not JSON: " + excerpt(line), "watch stream"};
  if (!doc.is_object()) return Error{"watch event is not an object: " + excerpt(line), "watch stream"};
  auto type = doc.find("type");
  auto object = doc.find("object");
  WatchEvent ev{WatchEvent::Type::Error, nullptr};
  if (type == doc.end() || !type->is_string() || !typeFromString(type->get_ref<const std::string&>(), ev.type)) {
    return Error{"watch event has no known type: " + excerpt(line), "watch stream"};
  }
  if (object == doc.end() || !object->is_object()) {
    return Error{"watch event has no object: " + excerpt(line), "watch stream"};
  }
  ev.object = std::move(*object);
  return ev;
}

Status WatchDecoder::feed(std::string_view bytes, std::vector<WatchEvent>& out) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    size_t take = nl == std::string_view::npos ? bytes.size() : nl;
    if (partial_.size() + take > max_line_) {
      return Error{"watch event longer than " + std::to_string(max_line_) + " bytes", "watch stream"};
    }
    partial_.append(bytes.substr(0, take));
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
    // Blank lines (and a CR before the LF) carry nothing.
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    if (partial_.find_first_not_of(" \t") == std::string::npos) {
      partial_.clear();
      continue;
    }
    auto ev = parseWatchEvent(partial_);
    partial_.clear();
    if (!ev.ok()) return ev.error();
    out.push_back(std::move(*ev));
  }
  return Ok{};
}

}  // namespace herd::k8s
