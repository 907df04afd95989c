#include "agent/engine/sse_parser.h"

namespace herd::engine {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool allDigits(std::string_view text) {
  if (text.empty() || text.size() > 18) return false;  // 18 digits cannot overflow 64 bits
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

void SseParser::reconnect() {
  failed_ = false;
  after_cr_ = false;
  bom_state_ = 0;
  dispatched_ = false;
  line_.clear();
  data_.clear();
  type_.clear();
  has_data_ = false;
}

size_t SseParser::skipBom(std::string_view bytes) {
  size_t i = 0;
  while (bom_state_ < kBomDone && i < bytes.size()) {
    if (bytes[i] != kBom[bom_state_]) {
      // Not a BOM after all: the bytes matched so far are ordinary line content.
      line_.append(kBom.substr(0, bom_state_));
      bom_state_ = kBomDone;
      return i;
    }
    ++bom_state_;
    ++i;
  }
  return i;
}

bool SseParser::appendToLine(std::string_view part) {
  if (line_.size() + part.size() + data_.size() > max_event_) {
    failed_ = true;
    return false;
  }
  line_.append(part);
  return true;
}

bool SseParser::endLine() {
  if (dispatched_) {
    dispatched_ = false;
    data_.clear();
    type_.clear();
  }
  const std::string_view line = line_;
  if (line.empty()) {
    const bool ready = has_data_;
    has_data_ = false;
    if (ready) {
      if (!data_.empty() && data_.back() == '\n') data_.pop_back();
      dispatched_ = true;
    } else {
      data_.clear();
      type_.clear();
    }
    return ready;
  }
  if (line.front() != ':') {
    const size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    field(name, value);
  }
  line_.clear();
  return false;
}

void SseParser::field(std::string_view name, std::string_view value) {
  if (name == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (name == "event") {
    type_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (name == "retry") {
    if (allDigits(value)) retry_ms_ = std::stoull(std::string(value));
  }
}

}  // namespace herd::engine
