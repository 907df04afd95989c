#include "common/stats/error_kind.h"

#include <array>
#include <cctype>
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

std::mutex g_messages_mutex;
std::map<int32_t, std::string>& messages() {
  static std::map<int32_t, std::string> by_id;
  return by_id;
}

// A message thrown in another process (an agent of a distributed run) is in
// that agent's log, not here.
std::string exceptionMessage(int32_t code) {
  std::lock_guard lock(g_messages_mutex);
  const auto it = messages().find(code);
  if (it != messages().end()) return it->second;
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
  uint32_t hash = 2166136261u;  // FNV-1a: stable across processes and builds
  for (const char c : message) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  const auto id = static_cast<int32_t>(hash & 0x7fffffffu);
  std::lock_guard lock(g_messages_mutex);
  messages().try_emplace(id, message);
  return id;
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
