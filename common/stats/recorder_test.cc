#include "common/stats/recorder.h"

#include <cerrno>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "common/core/random.h"

namespace herd::stats {
namespace {

constexpr uint64_t kMilli = 1'000'000;

TEST(Recorder, CountsRequestsBytesAndLatencyPerEndpoint) {
  Recorder r(3);
  r.recordRequest(0, 10 * kMilli, 500, 100, ErrorKind::kNone);
  r.recordRequest(0, 30 * kMilli, 700, 120, ErrorKind::kNone);
  r.recordRequest(2, 5 * kMilli, 50, 60, ErrorKind::kNone);

  ASSERT_EQ(r.endpoints().size(), 3u);
  const EndpointStats& e0 = r.endpoints()[0];
  EXPECT_EQ(e0.requests, 2u);
  EXPECT_EQ(e0.failures, 0u);
  EXPECT_EQ(e0.bytes_received, 1200u);
  EXPECT_EQ(e0.bytes_sent, 220u);
  EXPECT_EQ(e0.latency.count(), 2u);
  EXPECT_EQ(e0.latency.min(), 10 * kMilli);
  EXPECT_EQ(e0.latency.max(), 30 * kMilli);
  EXPECT_EQ(r.endpoints()[1].requests, 0u);
  EXPECT_EQ(r.endpoints()[2].requests, 1u);
  EXPECT_EQ(r.requests(), 3u);
  EXPECT_EQ(r.failures(), 0u);
  EXPECT_TRUE(r.errors().empty());
}

TEST(Recorder, FailuresKeepLatencyAndBytesAndAreKeyedByKindAndCode) {
  Recorder r(2);
  r.recordRequest(1, 2 * kMilli, 300, 90, ErrorKind::kStatus, 503);
  r.recordRequest(1, 3 * kMilli, 300, 90, ErrorKind::kStatus, 503);
  r.recordRequest(1, 4 * kMilli, 100, 90, ErrorKind::kStatus, 500);
  r.recordRequest(0, 1 * kMilli, 0, 90, ErrorKind::kConnect, ECONNREFUSED);
  r.recordRequest(1, 9 * kMilli, 10, 90, ErrorKind::kNone);

  const EndpointStats& e1 = r.endpoints()[1];
  EXPECT_EQ(e1.requests, 4u);
  EXPECT_EQ(e1.failures, 3u);
  EXPECT_EQ(e1.latency.count(), 4u);  // failed requests are timed too
  EXPECT_EQ(e1.bytes_received, 710u);
  EXPECT_EQ(r.failures(), 4u);

  const ErrorCounts want = {
      {{0, ErrorKind::kConnect, ECONNREFUSED}, 1},
      {{1, ErrorKind::kStatus, 500}, 1},
      {{1, ErrorKind::kStatus, 503}, 2},
  };
  EXPECT_EQ(r.errors(), want);
}

TEST(Recorder, TotalsMergeAllEndpoints) {
  Recorder r(3);
  r.recordRequest(0, 1 * kMilli, 1, 2, ErrorKind::kNone);
  r.recordRequest(1, 8 * kMilli, 3, 4, ErrorKind::kTimeout);
  r.recordRequest(2, 4 * kMilli, 5, 6, ErrorKind::kNone);
  const EndpointStats all = r.totals();
  EXPECT_EQ(all.requests, 3u);
  EXPECT_EQ(all.failures, 1u);
  EXPECT_EQ(all.bytes_received, 9u);
  EXPECT_EQ(all.bytes_sent, 12u);
  EXPECT_EQ(all.latency.count(), 3u);
  EXPECT_EQ(all.latency.min(), 1 * kMilli);
  EXPECT_EQ(all.latency.max(), 8 * kMilli);
}

// Eight workers' recorders, each fed a random share of one request stream,
// merge to exactly what a single recorder of the whole stream holds.
TEST(Recorder, MergeOfWorkersEqualsOneRecorder) {
  constexpr size_t kEndpoints = 5;
  constexpr size_t kWorkers = 8;
  Recorder whole(kEndpoints);
  std::vector<Recorder> workers(kWorkers, Recorder(kEndpoints));
  Rng rng(2024);
  const ErrorKind kinds[] = {ErrorKind::kNone,   ErrorKind::kNone,    ErrorKind::kNone,
                             ErrorKind::kStatus, ErrorKind::kTimeout, ErrorKind::kReset};
  for (int i = 0; i < 50'000; ++i) {
    const auto endpoint = static_cast<size_t>(rng.between(0, kEndpoints - 1));
    const auto latency = static_cast<uint64_t>(rng.between(100'000, 2'000'000'000));
    const auto received = static_cast<uint64_t>(rng.between(0, 1 << 20));
    const ErrorKind kind = kinds[rng.between(0, 5)];
    const int32_t code = kind == ErrorKind::kStatus ? static_cast<int32_t>(rng.between(500, 504)) : 0;
    whole.recordRequest(endpoint, latency, received, 200, kind, code);
    workers[rng.next() % kWorkers].recordRequest(endpoint, latency, received, 200, kind, code);
  }

  Recorder merged(kEndpoints);
  for (const Recorder& w : workers) merged.merge(w);
  EXPECT_EQ(merged.endpoints(), whole.endpoints());
  EXPECT_EQ(merged.errors(), whole.errors());
  EXPECT_EQ(merged.requests(), 50'000u);
  EXPECT_GT(merged.errors().size(), 5u);  // several keys were exercised
}

TEST(Recorder, MergeGrowsToTheLargerEndpointCount) {
  Recorder small(1);
  small.recordRequest(0, kMilli, 1, 1, ErrorKind::kNone);
  Recorder large(4);
  large.recordRequest(3, 2 * kMilli, 1, 1, ErrorKind::kCheck);

  Recorder a = small;
  a.merge(large);
  Recorder b = large;
  b.merge(small);
  ASSERT_EQ(a.endpoints().size(), 4u);
  EXPECT_EQ(a.endpoints(), b.endpoints());
  EXPECT_EQ(a.errors(), b.errors());
  EXPECT_EQ(a.endpoints()[0].requests, 1u);
  EXPECT_EQ(a.endpoints()[3].failures, 1u);
}

TEST(Recorder, ProtocolsAreTheVersionsThatAnsweredMergedAcrossWorkers) {
  Recorder one(2);
  one.recordProtocol(0, 2);
  one.recordProtocol(0, 2);
  Recorder two(2);
  two.recordProtocol(0, 1);  // an ALPN fallback
  two.recordProtocol(1, 1);
  one.merge(two);
  EXPECT_EQ(one.endpoints()[0].protocols, kProtocolHttp1 | kProtocolHttp2);
  EXPECT_STREQ(protocolName(one.endpoints()[0].protocols), "HTTP/1.1+HTTP/2");
  EXPECT_STREQ(protocolName(one.endpoints()[1].protocols), "HTTP/1.1");
  EXPECT_STREQ(protocolName(0), "");
  one.reset();
  EXPECT_EQ(one.endpoints()[0].protocols, 0);
}

TEST(Recorder, IndexPastTheEndGrowsInsteadOfOverrunning) {
  Recorder r(1);
  r.recordRequest(4, kMilli, 0, 0, ErrorKind::kNone);
  ASSERT_EQ(r.endpoints().size(), 5u);
  EXPECT_EQ(r.endpoints()[4].requests, 1u);
}

TEST(Recorder, ResetKeepsEndpointsAndClearsEverything) {
  Recorder r(2);
  r.recordRequest(1, kMilli, 10, 10, ErrorKind::kReset, ECONNRESET);
  r.reset();
  ASSERT_EQ(r.endpoints().size(), 2u);
  EXPECT_EQ(r.requests(), 0u);
  EXPECT_TRUE(r.errors().empty());
  EXPECT_EQ(r.endpoints()[1], EndpointStats{});
}

}  // namespace
}  // namespace herd::stats
