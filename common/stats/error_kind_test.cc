#include "common/stats/error_kind.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace herd::stats {
namespace {

TEST(ErrorMessage, ReadsLikeTheSummaryShowsIt) {
  EXPECT_EQ(errorMessage(ErrorKind::kStatus, 503), "HTTP 503");
  EXPECT_EQ(errorMessage(ErrorKind::kConnect, ECONNREFUSED), "connection refused");
  EXPECT_EQ(errorMessage(ErrorKind::kConnect, 0), "connection failed");
  EXPECT_EQ(errorMessage(ErrorKind::kReset, ECONNRESET), "connection reset by peer");
  EXPECT_EQ(errorMessage(ErrorKind::kReset, 0), "connection closed by peer");
  EXPECT_EQ(errorMessage(ErrorKind::kTimeout, 0), "request timed out");
  EXPECT_EQ(errorMessage(ErrorKind::kProtocol, 0), "malformed HTTP response");
  EXPECT_EQ(errorMessage(ErrorKind::kTls, 0), "TLS handshake failed");
  EXPECT_EQ(errorMessage(ErrorKind::kCheck, 0), "check failed");
  EXPECT_EQ(errorMessage(ErrorKind::kGrpc, 5), "grpc NOT_FOUND");
  EXPECT_EQ(errorMessage(ErrorKind::kGrpc, 4), "grpc DEADLINE_EXCEEDED");
  EXPECT_EQ(errorMessage(ErrorKind::kGrpc, 16), "grpc UNAUTHENTICATED");
  EXPECT_EQ(errorMessage(ErrorKind::kGrpc, 17), "grpc CODE_17");
}

TEST(ErrorMessage, UnknownErrnoStillSaysSomething) {
  EXPECT_FALSE(errorMessage(ErrorKind::kConnect, 99'999).empty());
  EXPECT_FALSE(errorMessage(ErrorKind::kConnect, -1).empty());
  EXPECT_EQ(errorMessage(static_cast<ErrorKind>(200), 0), "unknown error");
}

TEST(ExceptionMessages, ATextIsRememberedOnlyUnderItsOwnIdAndCutTo256Bytes) {
  const int32_t id = exceptionMessageId("inventory out of sync");
  EXPECT_EQ(errorMessage(ErrorKind::kException, id), "inventory out of sync");
  // Another process's text is taken only when it hashes to the id it claims.
  const std::string other = "thrown on an agent";
  EXPECT_FALSE(rememberExceptionText(id, other));
  EXPECT_EQ(exceptionText(id), "inventory out of sync");
  // An id this process never saw: named by number until a peer tells its text.
  const std::string remote = "only an agent threw this";
  int32_t remote_id = 0;
  {
    uint32_t hash = 2166136261u;
    for (const char c : remote) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
    remote_id = static_cast<int32_t>(hash & 0x7fffffffu);
  }
  EXPECT_EQ(errorMessage(ErrorKind::kException, remote_id),
            "exception in user code (message #" + std::to_string(remote_id) + " in the agent's log)");
  EXPECT_TRUE(rememberExceptionText(remote_id, remote));
  EXPECT_EQ(errorMessage(ErrorKind::kException, remote_id), remote);
  // Long messages keep their first 256 bytes, never half a UTF-8 character.
  const std::string long_text = std::string(255, 'x') + "\xc3\xa9" + std::string(100, 'y');
  const auto kept = exceptionText(exceptionMessageId(long_text));
  EXPECT_EQ(kept, std::string(255, 'x'));
  EXPECT_FALSE(rememberExceptionText(exceptionMessageId(long_text), long_text));
}

TEST(ExceptionMessages, AProcessForgetsTheOldestBeyondItsBound) {
  const int32_t first = exceptionMessageId("the first of many");
  for (size_t i = 0; i < kMaxExceptionMessages; ++i) exceptionMessageId("message " + std::to_string(i));
  EXPECT_EQ(exceptionText(first), "");
  EXPECT_EQ(exceptionText(exceptionMessageId("message 5")), "message 5");
}

}  // namespace
}  // namespace herd::stats
