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
}  // namespace herd::wire
