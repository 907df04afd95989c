#include "common/stats/delivery.h"

#include <algorithm>
#include <map>
#include <set>

namespace herd::stats {

namespace {

using MessageKey = std::pair<int64_t, uint64_t>;  // publisher, seq

template <typename T>
void append(std::vector<T>& to, std::vector<T>&& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

void DeliveryLog::merge(DeliveryLog&& other) {
  append(published, std::move(other.published));
  append(subscriptions, std::move(other.subscriptions));
  append(receipts, std::move(other.receipts));
}

std::string deliveryMarker(int64_t publisher, uint64_t seq, int64_t sent_us) {
  return "~herd:" + std::to_string(publisher) + ":" + std::to_string(seq) + ":" + std::to_string(sent_us) + "~";
}

std::vector<DeliveryStream> judgeDelivery(const DeliveryLog& log, size_t streams, int64_t lost_after_us,
                                          int64_t end_us) {
  std::vector<DeliveryStream> out(streams);
  // Messages by stream and topic, and each message's send time.
  std::vector<std::map<std::string, std::vector<const PublishedMessage*>>> by_topic(streams);
  for (const auto& m : log.published) {
    if (m.stream >= streams) continue;
    ++out[m.stream].published;
    by_topic[m.stream][m.topic].push_back(&m);
  }
  // First receipt time and count per (stream, subscriber, message).
  struct Seen {
    int64_t first_us = 0;
    int64_t sent_us = 0;
    uint32_t count = 0;
  };
  std::map<std::tuple<uint32_t, int64_t, MessageKey>, Seen> seen;
  for (const auto& r : log.receipts) {
    if (r.stream >= streams) continue;
    auto& s = seen[{r.stream, r.subscriber, {r.publisher, r.seq}}];
    if (s.count == 0 || r.received_us < s.first_us) s.first_us = r.received_us;
    s.sent_us = r.sent_us;
    ++s.count;
  }
  for (const auto& [key, s] : seen) {
    auto& stream = out[std::get<0>(key)];
    stream.duplicates += s.count - 1;
    const int64_t latency_us = std::max<int64_t>(0, s.first_us - s.sent_us);
    if (latency_us <= lost_after_us) {
      ++stream.delivered;
      stream.latency.record(static_cast<uint64_t>(latency_us) * 1000);
    }
  }
  // What each subscriber should have received, judged once its deadline passed.
  for (const auto& sub : log.subscriptions) {
    if (sub.stream >= streams) continue;
    auto& stream = out[sub.stream];
    std::set<std::string> topics(sub.topics.begin(), sub.topics.end());
    for (const auto& topic : topics) {
      const auto it = by_topic[sub.stream].find(topic);
      if (it == by_topic[sub.stream].end()) continue;
      for (const PublishedMessage* m : it->second) {
        if (m->sent_us < sub.since_us || m->sent_us + lost_after_us > end_us) continue;
        ++stream.expected;
        const auto found = seen.find({sub.stream, sub.subscriber, {m->publisher, m->seq}});
        if (found == seen.end() || found->second.first_us - m->sent_us > lost_after_us) ++stream.lost;
      }
    }
  }
  return out;
}

}  // namespace herd::stats
