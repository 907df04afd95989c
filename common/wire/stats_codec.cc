#include "common/wire/stats_codec.h"

#include <vector>

#include <fmt/format.h>

namespace herd::wire {

namespace {

constexpr uint32_t kLastErrorKind = static_cast<uint32_t>(stats::ErrorKind::kCheck);

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

Result<stats::Histogram> decodeHistogram(const v1::Histogram& in) {
  if (in.bucket_gaps_size() != in.bucket_counts_size()) {
    return Error{fmt::format("{} bucket gaps but {} bucket counts", in.bucket_gaps_size(), in.bucket_counts_size()),
                 "histogram"};
  }
  if (in.bucket_gaps_size() > static_cast<int>(stats::Histogram::kBucketCount)) {
    return Error{fmt::format("{} buckets, more than a histogram has", in.bucket_gaps_size()), "histogram"};
  }
  std::vector<stats::Histogram::BucketCount> buckets;
  buckets.reserve(static_cast<size_t>(in.bucket_gaps_size()));
  uint64_t index = 0;
  for (int i = 0; i < in.bucket_gaps_size(); ++i) {
    index += in.bucket_gaps(i);
    // Gaps after the first must move forward; fromParts checks the order again.
    if (index >= stats::Histogram::kBucketCount || (i > 0 && in.bucket_gaps(i) == 0)) {
      return Error{fmt::format("bucket {} is out of range or repeated", i), "histogram"};
    }
    buckets.push_back({stats::Histogram::bucketLower(static_cast<size_t>(index)), in.bucket_counts(i)});
  }
  const auto sum = (static_cast<stats::Histogram::Sum>(in.sum_high()) << 64) | in.sum_low();
  auto histogram = stats::Histogram::fromParts(in.min(), in.max(), sum, buckets);
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
    encodeHistogram(e.latency, *wire.mutable_latency());
  }
  for (const auto& [key, count] : recorder.errors()) {
    auto& wire = *out.add_errors();
    wire.set_endpoint(key.endpoint);
    wire.set_kind(static_cast<uint32_t>(key.kind));
    wire.set_code(key.code);
    wire.set_count(count);
  }
}

Result<stats::Recorder> decodeStats(const v1::StatsDelta& in, size_t endpoint_count) {
  std::vector<bool> seen(endpoint_count, false);
  std::vector<stats::EndpointStats> endpoints(endpoint_count);
  for (int i = 0; i < in.endpoints_size(); ++i) {
    const auto& wire = in.endpoints(i);
    const auto where = fmt::format("endpoints[{}]", i);
    if (wire.index() >= endpoint_count) {
      return Error{fmt::format("endpoint index {} but the scenario has {} endpoints", wire.index(), endpoint_count), where};
    }
    if (seen[wire.index()]) return Error{fmt::format("endpoint {} appears twice", wire.index()), where};
    seen[wire.index()] = true;
    auto latency = decodeHistogram(wire.latency());
    if (!latency) return Error{latency.error().message, where + ".latency"};
    if (wire.failures() > wire.requests()) return Error{"more failures than requests", where};
    if (latency->count() != wire.requests()) {
      return Error{fmt::format("{} requests but {} latencies", wire.requests(), latency->count()), where};
    }
    auto& e = endpoints[wire.index()];
    e.requests = wire.requests();
    e.failures = wire.failures();
    e.bytes_received = wire.bytes_received();
    e.bytes_sent = wire.bytes_sent();
    e.latency = std::move(*latency);
  }
  stats::ErrorCounts errors;
  for (int i = 0; i < in.errors_size(); ++i) {
    const auto& wire = in.errors(i);
    const auto where = fmt::format("errors[{}]", i);
    if (wire.endpoint() >= endpoint_count) return Error{fmt::format("endpoint index {} out of range", wire.endpoint()), where};
    if (wire.kind() == 0 || wire.kind() > kLastErrorKind) return Error{fmt::format("unknown error kind {}", wire.kind()), where};
    if (wire.count() == 0) return Error{"zero count", where};
    const stats::ErrorKey key{wire.endpoint(), static_cast<stats::ErrorKind>(wire.kind()), wire.code()};
    if (!errors.emplace(key, wire.count()).second) return Error{"error counted twice", where};
  }
  return stats::Recorder::fromParts(std::move(endpoints), std::move(errors));
}

}  // namespace herd::wire
