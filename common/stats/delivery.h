#pragma once
// Pub/sub delivery tracking. Publishers and subscribers record what they did
// into a per-thread DeliveryLog (no locks, like Recorder); at the end of a run
// the logs are merged and judged once, per stream:
//   published   messages the server accepted
//   delivered   (subscriber, message) pairs received within lostAfter of the send
//   duplicates  receipts of a message by a subscriber beyond its first
//   lost        (subscriber, message) pairs the subscriber should have received —
//               the message went to a topic it follows, was sent after it
//               subscribed, and its lostAfter deadline passed before the run's
//               end — but did not receive in time
//   latency     receive time - send time of each first receipt
// Times are wall-clock microseconds (publisher and subscriber may be different
// processes on synchronised machines).
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "common/stats/histogram.h"

namespace herd::stats {

struct PublishedMessage {
  uint32_t stream = 0;
  std::string topic;
  int64_t publisher = 0;  // global user index
  uint64_t seq = 0;       // the publisher's message number
  int64_t sent_us = 0;
};

struct Subscription {
  uint32_t stream = 0;
  int64_t subscriber = 0;  // global user index (one subscription per user and step)
  std::vector<std::string> topics;
  int64_t since_us = 0;  // when the subscriber first asked
};

struct Receipt {
  uint32_t stream = 0;
  int64_t subscriber = 0;
  int64_t publisher = 0;
  uint64_t seq = 0;
  int64_t sent_us = 0;  // as stamped in the message
  int64_t received_us = 0;
};

struct DeliveryLog {
  std::vector<PublishedMessage> published;
  std::vector<Subscription> subscriptions;
  std::vector<Receipt> receipts;

  void merge(DeliveryLog&& other);
  bool empty() const { return published.empty() && subscriptions.empty() && receipts.empty(); }
};

struct DeliveryStream {
  uint64_t published = 0;
  uint64_t delivered = 0;
  uint64_t duplicates = 0;
  uint64_t lost = 0;
  uint64_t expected = 0;  // the (subscriber, message) pairs judged for loss
  Histogram latency;      // nanoseconds
};

// Judges a merged log; `end_us` is when subscribers stopped listening.
std::vector<DeliveryStream> judgeDelivery(const DeliveryLog& log, size_t streams, int64_t lost_after_us,
                                          int64_t end_us);

// The text a publish stamps into a message: "~herd:PUBLISHER:SEQ:SENT_US~".
std::string deliveryMarker(int64_t publisher, uint64_t seq, int64_t sent_us);
// Finds the markers in `text`, calling fn(publisher, seq, sent_us) for each in
// order; returns how many bytes at the end may hold the start of a marker cut
// short (keep them for the next piece of a stream).
template <typename Fn>
size_t scanMarkers(std::string_view text, Fn&& fn);

}  // namespace herd::stats

#include "common/stats/delivery_markers.h"
