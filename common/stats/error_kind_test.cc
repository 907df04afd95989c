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

}  // namespace
}  // namespace herd::stats
