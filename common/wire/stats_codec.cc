#include "common/wire/stats_codec.h"

#include <initializer_list>
#include <set>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "common/stats/error_kind.h"

namespace herd::wire {

namespace {

constexpr uint32_t kLastErrorKind = static_cast<uint32_t>(stats::ErrorKind::kException);
// Exception texts one delta carries (stats.proto): beyond it a message shows by its id.
constexpr int kMaxExceptionTexts = 64;

}  // namespace

void encodeHistogram(const stats::Histogram& histogram, v1::Histogram& out) {
  out.Clear();
  if (histogram.count() == 0) return;
  out.set_min(histogram.min());
  out.set_max(histogram.max());
  const auto sum = histogram.sum();
  out.set_sum_low(static_cast<uint64_t>(sum));
  out.set_sum_high(static_cast<uint64_t>(sum >> 64));
  size_t previous = 0;
  histogram.forEachBucket([&](uint64_t lower, uint64_t, uint64_t count) {
    const size_t index = stats::Histogram::bucketIndex(lower);
    out.add_bucket_gaps(static_cast<uint32_t>(index - previous));
    out.add_bucket_counts(count);
    previous = index;
  });
}

namespace {

// A histogram's packed fields as they were parsed, without a copy.
std::span<const uint32_t> gapsOf(const v1::Histogram& in) {
  return {in.bucket_gaps().data(), static_cast<size_t>(in.bucket_gaps_size())};
}
std::span<const uint64_t> countsOf(const v1::Histogram& in) {
  return {in.bucket_counts().data(), static_cast<size_t>(in.bucket_counts_size())};
}
stats::Histogram::Sum sumOf(const v1::Histogram& in) {
  return (static_cast<stats::Histogram::Sum>(in.sum_high()) << 64) | in.sum_low();
}

}  // namespace

Result<stats::Histogram> decodeHistogram(const v1::Histogram& in) {
  auto histogram = stats::Histogram::fromGaps(in.min(), in.max(), sumOf(in), gapsOf(in), countsOf(in));
  if (!histogram) return Error{histogram.error().message, "histogram"};
  return histogram;
}

void encodeStats(const stats::Recorder& recorder, v1::StatsDelta& out) {
  out.Clear();
  const auto& endpoints = recorder.endpoints();
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const auto& e = endpoints[i];
    if (e.requests == 0 && e.bytes_received == 0 && e.bytes_sent == 0) continue;
    auto& wire = *out.add_endpoints();
    wire.set_index(static_cast<uint32_t>(i));
    wire.set_requests(e.requests);
    wire.set_failures(e.failures);
    wire.set_bytes_received(e.bytes_received);
    wire.set_bytes_sent(e.bytes_sent);
    wire.set_protocols(e.protocols);
    encodeHistogram(e.latency, *wire.mutable_latency());
  }
  auto& texts = *out.mutable_exception_messages();
  for (const auto& [key, count] : recorder.errors()) {
    auto& wire = *out.add_errors();
    wire.set_endpoint(key.endpoint);
    wire.set_kind(static_cast<uint32_t>(key.kind));
    wire.set_code(key.code);
    wire.set_count(count);
    if (key.kind != stats::ErrorKind::kException || static_cast<int>(texts.size()) >= kMaxExceptionTexts) continue;
    if (auto text = stats::exceptionText(key.code); !text.empty()) texts[key.code] = std::move(text);
  }
}

Result<StatsCount> checkStats(const v1::StatsDelta& in, size_t endpoint_count) {
  StatsCount total;
  std::vector<bool> seen(endpoint_count, false);  // repeated endpoints are refused
  for (int i = 0; i < in.endpoints_size(); ++i) {
    const auto& wire = in.endpoints(i);
    const auto where = [i] { return fmt::format("endpoints[{}]", i); };
    const uint32_t index = wire.index();
    if (index >= endpoint_count) {
      return Error{fmt::format("endpoint index {} but the scenario has {} endpoints", index, endpoint_count), where()};
    }
    if (seen[index]) return Error{fmt::format("endpoint {} appears twice", index), where()};
    seen[index] = true;
    const auto& latency = wire.latency();
    const auto count = stats::Histogram::checkGaps(latency.min(), latency.max(), sumOf(latency), gapsOf(latency),
                                                   countsOf(latency));
    if (!count) return Error{count.error().message, where() + ".latency"};
    if (wire.failures() > wire.requests()) return Error{"more failures than requests", where()};
    if (*count != wire.requests()) {
      return Error{fmt::format("{} requests but {} latencies", wire.requests(), *count), where()};
    }
    total.requests += wire.requests();
    total.failures += wire.failures();
  }
  std::set<stats::ErrorKey> keys;
  for (int i = 0; i < in.errors_size(); ++i) {
    const auto& wire = in.errors(i);
    const auto where = [i] { return fmt::format("errors[{}]", i); };
    if (wire.endpoint() >= endpoint_count)
      return Error{fmt::format("endpoint index {} out of range", wire.endpoint()), where()};
    if (wire.kind() == 0 || wire.kind() > kLastErrorKind)
      return Error{fmt::format("unknown error kind {}", wire.kind()), where()};
    if (wire.count() == 0) return Error{"zero count", where()};
    const stats::ErrorKey key{wire.endpoint(), static_cast<stats::ErrorKind>(wire.kind()), wire.code()};
    if (!keys.insert(key).second) return Error{"error counted twice", where()};
  }
  return total;
}

void mergeStats(const v1::StatsDelta& in, stats::Recorder& into) {
  for (const auto& wire : in.endpoints()) {
    auto& e = into.endpoint(wire.index());
    e.requests += wire.requests();
    e.failures += wire.failures();
    e.bytes_received += wire.bytes_received();
    e.bytes_sent += wire.bytes_sent();
    e.protocols |= static_cast<uint8_t>(wire.protocols() & (stats::kProtocolHttp1 | stats::kProtocolHttp2));
    const auto& latency = wire.latency();
    e.latency.mergeGaps(latency.min(), latency.max(), sumOf(latency), gapsOf(latency), countsOf(latency));
  }
  for (const auto& wire : in.errors()) {
    into.addErrors(stats::ErrorKey{wire.endpoint(), static_cast<stats::ErrorKind>(wire.kind()), wire.code()},
                   wire.count());
  }
  // Texts that are not their id's (or too many) are left out: the id is still counted.
  int texts = 0;
  for (const auto& [id, text] : in.exception_messages()) {
    if (++texts > kMaxExceptionTexts) break;
    stats::rememberExceptionText(id, text);
  }
}

Result<stats::Recorder> decodeStats(const v1::StatsDelta& in, size_t endpoint_count) {
  if (auto checked = checkStats(in, endpoint_count); !checked) return checked.error();
  stats::Recorder decoded(endpoint_count);
  mergeStats(in, decoded);
  return decoded;
}

std::vector<v1::DeliveryRecords> encodeDelivery(const stats::DeliveryLog& log, size_t max_bytes) {
  std::vector<v1::DeliveryRecords> pieces;
  size_t bytes = 0;
  // The piece a record of `size` encoded bytes goes into.
  auto piece = [&](size_t size) -> v1::DeliveryRecords& {
    size += 6;  // field tag and length
    if (pieces.empty() || (bytes > 0 && bytes + size > max_bytes)) {
      pieces.emplace_back();
      bytes = 0;
    }
    bytes += size;
    return pieces.back();
  };
  for (const auto& m : log.published) {
    v1::PublishedMessage w;
    w.set_stream(m.stream);
    w.set_topic(m.topic);
    w.set_publisher(m.publisher);
    w.set_seq(m.seq);
    w.set_sent_us(m.sent_us);
    *piece(w.ByteSizeLong()).add_published() = std::move(w);
  }
  for (const auto& sub : log.subscriptions) {
    v1::Subscription w;
    w.set_stream(sub.stream);
    w.set_subscriber(sub.subscriber);
    for (const auto& topic : sub.topics) w.add_topics(topic);
    w.set_since_us(sub.since_us);
    *piece(w.ByteSizeLong()).add_subscriptions() = std::move(w);
  }
  for (const auto& r : log.receipts) {
    v1::Receipt w;
    w.set_stream(r.stream);
    w.set_subscriber(r.subscriber);
    w.set_publisher(r.publisher);
    w.set_seq(r.seq);
    w.set_sent_us(r.sent_us);
    w.set_received_us(r.received_us);
    *piece(w.ByteSizeLong()).add_receipts() = std::move(w);
  }
  return pieces;
}

Status decodeDelivery(const v1::DeliveryRecords& in, size_t stream_count, stats::DeliveryLog& into) {
  // Wall-clock microseconds up to about the year 2096: judging adds and
  // subtracts them, which must not overflow whatever an agent sends.
  constexpr int64_t kLatestUs = int64_t{4'000'000'000'000'000};
  auto check = [&](uint32_t stream, std::initializer_list<int64_t> times, const char* field, int i) -> Status {
    const auto where = fmt::format("delivery.{}[{}]", field, i);
    if (stream >= stream_count) return Error{fmt::format("pub/sub stream index {} out of range", stream), where};
    for (const auto t : times) {
      if (t < 0 || t > kLatestUs) return Error{fmt::format("time {} us out of range", t), where};
    }
    return Ok{};
  };
  for (int i = 0; i < in.published_size(); ++i) {
    const auto& m = in.published(i);
    if (auto ok = check(m.stream(), {m.sent_us()}, "published", i); !ok) return ok;
  }
  for (int i = 0; i < in.subscriptions_size(); ++i) {
    const auto& sub = in.subscriptions(i);
    if (auto ok = check(sub.stream(), {sub.since_us()}, "subscriptions", i); !ok) return ok;
  }
  for (int i = 0; i < in.receipts_size(); ++i) {
    const auto& r = in.receipts(i);
    if (auto ok = check(r.stream(), {r.sent_us(), r.received_us()}, "receipts", i); !ok) return ok;
  }
  for (const auto& m : in.published()) {
    into.published.push_back({m.stream(), m.topic(), m.publisher(), m.seq(), m.sent_us()});
  }
  for (const auto& sub : in.subscriptions()) {
    into.subscriptions.push_back({sub.stream(), sub.subscriber(),
                                  std::vector<std::string>(sub.topics().begin(), sub.topics().end()), sub.since_us()});
  }
  for (const auto& r : in.receipts()) {
    into.receipts.push_back({r.stream(), r.subscriber(), r.publisher(), r.seq(), r.sent_us(), r.received_us()});
  }
  return Ok{};
}

}  // namespace herd::wire
