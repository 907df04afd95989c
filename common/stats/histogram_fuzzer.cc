// Histogram::fromParts decodes histograms that arrive from agents over the
// network: arbitrary parts must give an Error or a histogram whose own
// accessors agree with them, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/stats/histogram.h"

namespace {

uint64_t take(const uint8_t*& data, size_t& size) {
  uint64_t v = 0;
  const size_t n = size < sizeof v ? size : sizeof v;
  std::memcpy(&v, data, n);
  data += n;
  size -= n;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using herd::stats::Histogram;
  const uint64_t min = take(data, size);
  const uint64_t max = take(data, size);
  const Histogram::Sum sum = (Histogram::Sum{take(data, size)} << 64) | take(data, size);
  std::vector<Histogram::BucketCount> buckets;
  while (size > 0) {
    // Bucket bounds as indexes most of the time so inputs get past the first check.
    const uint64_t raw = take(data, size);
    const uint64_t lower = (raw & 1) ? Histogram::bucketLower((raw >> 1) % Histogram::kBucketCount) : raw >> 1;
    buckets.push_back({lower, take(data, size)});
  }
  auto h = Histogram::fromParts(min, max, sum, buckets);
  if (!h.ok()) return 0;
  uint64_t total = 0;
  h->forEachBucket([&](uint64_t, uint64_t, uint64_t count) { total += count; });
  if (total != h->count() || h->sum() != sum) std::abort();
  if (h->count() != 0 && (h->min() != min || h->max() != max)) std::abort();
  for (double p : {0.0, 50.0, 99.9, 100.0}) {
    const uint64_t v = h->valueAtPercentile(p);
    if (h->count() != 0 && (v < min || v > max)) std::abort();
  }
  return 0;
}
