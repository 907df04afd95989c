#include "common/wire/stats_codec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "herd/v1/agent.pb.h"

namespace herd::wire {
namespace {

stats::Recorder sample() {
  stats::Recorder r(3);
  for (uint64_t i = 0; i < 1000; ++i) {
    r.recordRequest(0, 1'000'000 + i * 997, 100, 20, stats::ErrorKind::kNone);
  }
  r.recordRequest(2, 5, 0, 20, stats::ErrorKind::kStatus, 503);
  r.recordRequest(2, 7'000'000'000'000, 0, 20, stats::ErrorKind::kTimeout);
  r.recordProtocol(0, 2);  // protocols travel too (EndpointStats compares them)
  r.recordProtocol(2, 1);
  return r;
}

TEST(StatsCodec, RoundTripsExactly) {
  const auto original = sample();
  v1::StatsDelta wire;
  encodeStats(original, wire);
  EXPECT_EQ(wire.endpoints_size(), 2);  // endpoint 1 had nothing
  auto decoded = decodeStats(wire, 3);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->endpoints(), original.endpoints());
  EXPECT_EQ(decoded->errors(), original.errors());
}

TEST(StatsCodec, HistogramIsSparseAndSmall) {
  stats::Histogram h;
  for (uint64_t i = 0; i < 100000; ++i) h.record(2'000'000 + (i % 500) * 1000);
  v1::Histogram wire;
  encodeHistogram(h, wire);
  // 500 µs spread over ~2 ms: a few dozen buckets, not 4736.
  EXPECT_LT(wire.bucket_gaps_size(), 100);
  EXPECT_LT(wire.ByteSizeLong(), 600u);
  auto back = decodeHistogram(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
}

TEST(StatsCodec, MergingDecodedDeltasEqualsMergingOriginals) {
  auto a = sample();
  stats::Recorder b(3);
  b.recordRequest(1, 42'000, 1, 1, stats::ErrorKind::kConnect, 111);
  stats::Recorder direct(3);
  direct.merge(a);
  direct.merge(b);
  stats::Recorder via_wire(3);
  for (const auto* r : {&a, &b}) {
    v1::StatsDelta wire;
    encodeStats(*r, wire);
    auto decoded = decodeStats(wire, 3);
    ASSERT_TRUE(decoded.ok());
    via_wire.merge(*decoded);
  }
  EXPECT_EQ(via_wire.endpoints(), direct.endpoints());
  EXPECT_EQ(via_wire.errors(), direct.errors());
}

TEST(StatsCodec, CheckingThenMergingInPlaceEqualsDecodingThenMerging) {
  const auto a = sample();
  v1::StatsDelta wire;
  encodeStats(a, wire);
  const auto counted = checkStats(wire, 3);
  ASSERT_TRUE(counted.ok()) << counted.error().describe();
  EXPECT_EQ(counted->requests, a.requests());
  EXPECT_EQ(counted->failures, a.failures());
  // Into a recorder that already holds something, twice.
  stats::Recorder decoded_then_merged(3), in_place(3);
  decoded_then_merged.recordRequest(1, 42'000, 1, 1, stats::ErrorKind::kStatus, 503);
  in_place.recordRequest(1, 42'000, 1, 1, stats::ErrorKind::kStatus, 503);
  for (int i = 0; i < 2; ++i) {
    decoded_then_merged.merge(*decodeStats(wire, 3));
    mergeStats(wire, in_place);
  }
  EXPECT_EQ(in_place.endpoints(), decoded_then_merged.endpoints());
  EXPECT_EQ(in_place.errors(), decoded_then_merged.errors());
  EXPECT_EQ(in_place.requests(), 1 + 2 * a.requests());
}

TEST(StatsCodec, RefusesBadInput) {
  v1::StatsDelta wire;
  encodeStats(sample(), wire);
  auto expectError = [](const v1::StatsDelta& w, const std::string& part) {
    auto r = decodeStats(w, 3);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().describe().find(part), std::string::npos) << r.error().describe();
  };
  ASSERT_TRUE(decodeStats(wire, 3).ok());
  auto bad = wire;
  bad.mutable_endpoints(0)->set_index(3);
  expectError(bad, "endpoint index 3");
  bad = wire;
  bad.mutable_endpoints(0)->set_requests(5);
  expectError(bad, "latencies");
  bad = wire;
  bad.mutable_endpoints(0)->mutable_latency()->add_bucket_gaps(1);
  expectError(bad, "bucket gaps");
  bad = wire;
  bad.mutable_endpoints(0)->mutable_latency()->set_bucket_gaps(1, 100000);
  expectError(bad, "out of range");
  bad = wire;
  bad.mutable_errors(0)->set_kind(99);
  expectError(bad, "unknown error kind");
  bad = wire;
  *bad.add_endpoints() = bad.endpoints(0);
  expectError(bad, "twice");
  bad = wire;
  bad.mutable_endpoints(0)->mutable_latency()->set_min(0);
  bad.mutable_endpoints(0)->mutable_latency()->set_max(1);
  expectError(bad, "histogram");
}

// The fuzzer's seeds are valid reports, so fuzzing starts from the decoder's
// success paths rather than from its first check.
TEST(StatsCodec, FuzzSeedsDecode) {
  for (const char* name : {"one_endpoint", "two_endpoints", "final_empty"}) {
    std::ifstream in(std::string(HERD_WIRE_SEEDS) + "/" + name, std::ios::binary);
    ASSERT_TRUE(in) << name;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    v1::AgentMessage message;
    ASSERT_TRUE(message.ParseFromString(bytes.str())) << name;
    auto decoded = decodeStats(message.report().stats(), 4);
    EXPECT_TRUE(decoded.ok()) << name << ": " << decoded.error().describe();
  }
}

}  // namespace
TEST(DeliveryCodec, PiecesAreBoundedAndRoundTripInOrder) {
  stats::DeliveryLog log;
  for (int i = 0; i < 3000; ++i) {
    log.published.push_back(
        {static_cast<uint32_t>(i % 2), "room-" + std::to_string(i % 7), i, static_cast<uint64_t>(i), 1000 + i});
    log.receipts.push_back({1, i + 5, i, static_cast<uint64_t>(i), 1000 + i, 2000 + i});
  }
  log.subscriptions.push_back({0, 42, {"room-1", "room-2"}, 999});
  constexpr size_t kMax = 16 * 1024;
  const auto pieces = wire::encodeDelivery(log, kMax);
  ASSERT_GT(pieces.size(), 3u);
  stats::DeliveryLog back;
  for (const auto& piece : pieces) {
    EXPECT_LE(piece.ByteSizeLong(), kMax);
    ASSERT_TRUE(wire::decodeDelivery(piece, 2, back));
  }
  ASSERT_EQ(back.published.size(), log.published.size());
  ASSERT_EQ(back.receipts.size(), log.receipts.size());
  ASSERT_EQ(back.subscriptions.size(), 1u);
  EXPECT_EQ(back.subscriptions[0].topics, log.subscriptions[0].topics);
  EXPECT_EQ(back.subscriptions[0].since_us, 999);
  for (size_t i = 0; i < log.published.size(); ++i) {
    EXPECT_EQ(back.published[i].topic, log.published[i].topic);
    EXPECT_EQ(back.published[i].stream, log.published[i].stream);
    EXPECT_EQ(back.published[i].sent_us, log.published[i].sent_us);
    EXPECT_EQ(back.receipts[i].received_us, log.receipts[i].received_us);
    EXPECT_EQ(back.receipts[i].subscriber, log.receipts[i].subscriber);
  }
  // Judged after the trip, the log gives what it gave before.
  const auto before = stats::judgeDelivery(log, 2, 5000, 1'000'000);
  const auto after = stats::judgeDelivery(back, 2, 5000, 1'000'000);
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(before[s].published, after[s].published);
    EXPECT_EQ(before[s].delivered, after[s].delivered);
    EXPECT_EQ(before[s].lost, after[s].lost);
    EXPECT_EQ(before[s].duplicates, after[s].duplicates);
  }
  EXPECT_TRUE(wire::encodeDelivery({}, kMax).empty());
}

TEST(DeliveryCodec, UnknownStreamIsRefusedAndNothingAppended) {
  stats::DeliveryLog log;
  log.published.push_back({0, "t", 1, 1, 1});
  log.receipts.push_back({3, 2, 1, 1, 1, 2});
  const auto pieces = wire::encodeDelivery(log, 1 << 20);
  ASSERT_EQ(pieces.size(), 1u);
  stats::DeliveryLog back;
  const auto result = wire::decodeDelivery(pieces[0], 2, back);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().describe().find("delivery.receipts[0]"), std::string::npos) << result.error().describe();
  EXPECT_TRUE(back.empty());
}

}  // namespace herd::wire
