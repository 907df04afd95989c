#pragma once
// How a request failed. The engine classifies every failure into one of these and
// counts it; nothing on the hot path throws or formats a message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herd::stats {

enum class ErrorKind : uint8_t {
  kNone = 0,
  kConnect,    // TCP connect refused / unreachable / connect timeout
  kTimeout,    // the request's deadline passed before the response ended
  kReset,      // the peer closed or reset the connection mid-exchange
  kStatus,     // a response with status >= 400 (code = the status)
  kProtocol,   // a response that is not valid HTTP/1.1 (or exceeds our limits)
  kTls,        // TLS handshake or certificate verification failed
  kCheck,      // a scenario check did not hold
  kGrpc,       // a gRPC call ended with a status other than OK (code = the status code)
  kException,  // C++ user code threw (code = exceptionMessageId() of its message)
};

constexpr std::string_view errorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone: return "none";
    case ErrorKind::kConnect: return "connect";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kReset: return "reset";
    case ErrorKind::kStatus: return "status";
    case ErrorKind::kProtocol: return "protocol";
    case ErrorKind::kTls: return "tls";
    case ErrorKind::kCheck: return "check";
    case ErrorKind::kGrpc: return "grpc";
    case ErrorKind::kException: return "exception";
  }
  return "unknown";
}

// A message for people (the summary's errors list), built off the hot path:
// "HTTP 503", "connection refused", "request timed out", "grpc NOT_FOUND".
// `code` is what the engine counted with the kind: the HTTP status for
// kStatus, the errno for kConnect and kReset (0 when there was none), the
// gRPC status code for kGrpc, ignored otherwise.
std::string errorMessage(ErrorKind kind, int32_t code);

// A gRPC status code's name: "NOT_FOUND" for 5; "CODE_<n>" beyond the 17 gRPC defines.
std::string grpcStatusName(int32_t code);

// An exception's message is kept to its first kMaxExceptionMessageBytes (cut
// at a UTF-8 character's start); a process remembers at most
// kMaxExceptionMessages texts, and forgets the oldest beyond (errorMessage()
// then names the message by its id).
inline constexpr size_t kMaxExceptionMessageBytes = 256;
inline constexpr size_t kMaxExceptionMessages = 1024;

// An exception's message (cut as above) as a number the stats can count (a
// 31-bit hash, the same in every process), remembered in this process so that
// errorMessage() names it. Takes a lock: exceptions are off the engine's hot path.
int32_t exceptionMessageId(std::string_view message);

// The text this process remembers for an id, or "" (common/wire sends it with
// the stats that count the id, so a coordinator shows an agent's messages).
std::string exceptionText(int32_t id);
// Remembers `text` as the message of `id` when it is one: no longer than
// kMaxExceptionMessageBytes and hashing to `id` (so a peer cannot rename
// another message). Returns whether it did.
bool rememberExceptionText(int32_t id, std::string_view text);

}  // namespace herd::stats
