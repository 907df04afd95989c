#include "common/stats/delivery.h"

#include <gtest/gtest.h>

namespace herd::stats {
namespace {

TEST(DeliveryMarkers, RoundTripAndSplitAcrossPieces) {
  const std::string a = deliveryMarker(7, 3, 1700000000000001);
  const std::string b = deliveryMarker(12, 0, 5);
  std::vector<std::tuple<int64_t, uint64_t, int64_t>> found;
  auto collect = [&](int64_t p, uint64_t s, int64_t t) { found.emplace_back(p, s, t); };
  const std::string text = "x" + a + "\n{\"p\":1} " + b + "~herd:bad~ ~herd:";
  EXPECT_EQ(scanMarkers(text, collect), 6u);  // "~herd:" at the end may continue
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], std::make_tuple(int64_t{7}, uint64_t{3}, int64_t{1700000000000001}));
  EXPECT_EQ(found[1], std::make_tuple(int64_t{12}, uint64_t{0}, int64_t{5}));
  // Every split of a stream finds the same markers once.
  const std::string stream = a + "\n" + b + "\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    found.clear();
    std::string carry;
    for (const std::string& piece : {stream.substr(0, cut), stream.substr(cut)}) {
      carry += piece;
      const size_t keep = scanMarkers(carry, collect);
      carry.erase(0, carry.size() - keep);
    }
    EXPECT_EQ(found.size(), 2u) << "cut at " << cut;
  }
}

TEST(DeliveryJudge, CountsDeliveredDuplicatesAndLost) {
  DeliveryLog log;
  // Publisher 1 sends seq 0..3 to topic t at 1000, 2000, 3000, 4000 µs; publisher 2
  // one message to topic u that nobody follows.
  for (uint64_t seq = 0; seq < 4; ++seq) {
    log.published.push_back({0, "t", 1, seq, static_cast<int64_t>(1000 * (seq + 1))});
  }
  log.published.push_back({0, "u", 2, 0, 1000});
  // Subscriber 10 follows t from the start; subscriber 11 only from 2500 µs.
  log.subscriptions.push_back({0, 10, {"t"}, 0});
  log.subscriptions.push_back({0, 11, {"t", "t"}, 2500});
  // 10 gets seq 0 twice, seq 1 late (lostAfter 500 µs), misses seq 2, gets seq 3.
  log.receipts.push_back({0, 10, 1, 0, 1000, 1100});
  log.receipts.push_back({0, 10, 1, 0, 1000, 1200});
  log.receipts.push_back({0, 10, 1, 1, 2000, 2900});
  log.receipts.push_back({0, 10, 1, 3, 4000, 4300});
  // 11 gets seq 2 and 3; it also got seq 0 from the buffer, which it was not owed.
  log.receipts.push_back({0, 11, 1, 2, 3000, 3100});
  log.receipts.push_back({0, 11, 1, 3, 4000, 4200});
  log.receipts.push_back({0, 11, 1, 0, 1000, 2600});  // 1600 µs: too late to count
  const auto streams = judgeDelivery(log, 1, 500, 10000);
  ASSERT_EQ(streams.size(), 1u);
  const auto& s = streams[0];
  EXPECT_EQ(s.published, 5u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.delivered, 4u);  // 10: seq 0, 3; 11: seq 2, 3
  EXPECT_EQ(s.expected, 6u);   // 10: four messages; 11: seq 2 and 3 (topic listed twice counts once)
  EXPECT_EQ(s.lost, 2u);       // 10: seq 1 (late) and seq 2 (never)
  EXPECT_EQ(s.latency.count(), 4u);
  // A message whose deadline falls after the end is not judged.
  const auto early = judgeDelivery(log, 1, 500, 3400);
  EXPECT_EQ(early[0].expected, 2u);  // 10: seq 0 and 1; seq 2 is due at 3500
}

}  // namespace
}  // namespace herd::stats
