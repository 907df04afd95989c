#include "common/stats/error_kind.h"

#include <array>
#include <cctype>
#include <deque>
#include <map>
#include <mutex>
#include <system_error>

namespace herd::stats {
namespace {

// strerror's text ("Connection refused") in the lower case of the other messages.
// generic_category() is thread-safe where strerror() is not.
std::string errnoMessage(int32_t code) {
  std::string text = std::generic_category().message(code);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// Texts by id, and their ids in the order they came, to forget the oldest.
struct Messages {
  std::mutex mutex;
  std::map<int32_t, std::string> by_id;
  std::deque<int32_t> order;
};
Messages& messages() {
  static Messages registry;
  return registry;
}

std::string_view cut(std::string_view message) {
  if (message.size() <= kMaxExceptionMessageBytes) return message;
  size_t end = kMaxExceptionMessageBytes;
  while (end > 0 && (static_cast<uint8_t>(message[end]) & 0xC0) == 0x80) --end;  // not inside a character
  return message.substr(0, end);
}

int32_t hashOf(std::string_view text) {
  uint32_t hash = 2166136261u;  // FNV-1a: stable across processes and builds
  for (const char c : text) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  return static_cast<int32_t>(hash & 0x7fffffffu);
}

void remember(int32_t id, std::string_view text) {
  auto& m = messages();
  std::lock_guard lock(m.mutex);
  if (!m.by_id.try_emplace(id, text).second) return;
  m.order.push_back(id);
  if (m.order.size() > kMaxExceptionMessages) {
    m.by_id.erase(m.order.front());
    m.order.pop_front();
  }
}

// A message thrown in another process (an agent of a distributed run) is
// known here when the agent's report carried its text.
std::string exceptionMessage(int32_t code) {
  auto text = exceptionText(code);
  if (!text.empty()) return text;
  return "exception in user code (message #" + std::to_string(code) + " in the agent's log)";
}

}  // namespace

std::string grpcStatusName(int32_t code) {
  static constexpr std::array<std::string_view, 17> kNames = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  if (code >= 0 && static_cast<size_t>(code) < kNames.size()) return std::string(kNames[static_cast<size_t>(code)]);
  return "CODE_" + std::to_string(code);
}

int32_t exceptionMessageId(std::string_view message) {
  const auto text = cut(message);
  const int32_t id = hashOf(text);
  remember(id, text);
  return id;
}

std::string exceptionText(int32_t id) {
  auto& m = messages();
  std::lock_guard lock(m.mutex);
  const auto it = m.by_id.find(id);
  return it == m.by_id.end() ? std::string() : it->second;
}

bool rememberExceptionText(int32_t id, std::string_view text) {
  if (text.empty() || text.size() > kMaxExceptionMessageBytes || hashOf(text) != id) return false;
  remember(id, text);
  return true;
}

std::string errorMessage(ErrorKind kind, int32_t code) {
  switch (kind) {
    case ErrorKind::kNone: return "ok";
    case ErrorKind::kConnect: return code != 0 ? errnoMessage(code) : "connection failed";
    case ErrorKind::kTimeout: return "request timed out";
    case ErrorKind::kReset: return code != 0 ? errnoMessage(code) : "connection closed by peer";
    case ErrorKind::kStatus: return "HTTP " + std::to_string(code);
    case ErrorKind::kProtocol: return "malformed HTTP response";
    case ErrorKind::kTls: return "TLS handshake failed";
    case ErrorKind::kCheck: return "check failed";
    case ErrorKind::kGrpc: return "grpc " + grpcStatusName(code);
    case ErrorKind::kException: return exceptionMessage(code);
  }
  return "unknown error";
}

}  // namespace herd::stats
