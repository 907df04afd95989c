#include "common/stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace herd::stats {
namespace {

// The decoder that calls fromParts knows where the histogram came from (agent,
// message) and fills in Error::where.
Error invalid(std::string what) { return Error{"invalid histogram: " + std::move(what), {}}; }

}  // namespace

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  if (counts_.empty()) allocate();
  for (size_t i = bucketIndex(other.min_); i <= bucketIndex(other.max_); ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
  // Only the buckets between min and max can be non-zero.
  if (count_ != 0 && !counts_.empty())
    std::fill(counts_.begin() + bucketIndex(min_), counts_.begin() + bucketIndex(max_) + 1, 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

bool Histogram::operator==(const Histogram& other) const {
  if (count_ != other.count_ || min_ != other.min_ || max_ != other.max_ || sum_ != other.sum_) return false;
  if (count_ == 0) return true;
  const auto first = counts_.begin() + bucketIndex(min_), last = counts_.begin() + bucketIndex(max_) + 1;
  return std::equal(first, last, other.counts_.begin() + bucketIndex(min_));
}

double Histogram::mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }

uint64_t Histogram::valueAtPercentile(double p) const {
  if (count_ == 0) return 0;
  if (!(p > 0)) return min_;  // also NaN
  if (p >= 100) return max_;
  // p/100 * count carries a few ulps of rounding (99.9/100 * 100000 comes out as
  // 99900.00000000001); shaving a relative 1e-14 keeps ceil() from skipping to the
  // next rank on exact products without moving any genuine fraction.
  const double exact = p / 100.0 * static_cast<double>(count_);
  const double ceiled = std::ceil(exact - exact * 1e-14);
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(ceiled), 1, count_);

  // The buckets sum to count_ >= rank, so the walk stops by bucketIndex(max_).
  uint64_t seen = 0;
  size_t i = bucketIndex(min_);
  for (; i < bucketIndex(max_); ++i) {
    seen += counts_[i];
    if (seen >= rank) break;
  }
  const uint64_t lower = bucketLower(i);
  const uint64_t midpoint = lower + (bucketUpper(i) - lower) / 2;
  return std::clamp(midpoint, min_, max_);
}

Result<Histogram> Histogram::fromParts(uint64_t min, uint64_t max, Sum sum, std::span<const BucketCount> buckets) {
  Histogram h;
  size_t previous = 0;
  for (const BucketCount& b : buckets) {
    const size_t index = bucketIndex(b.lower);
    if (bucketLower(index) != b.lower) {
      return invalid("bucket lower bound " + std::to_string(b.lower) + " is not a bucket boundary");
    }
    if (h.count_ != 0 && index <= previous) {
      return invalid("buckets are not in ascending order");
    }
    if (b.count == 0) return invalid("bucket with a zero count");
    if (b.count > UINT64_MAX - h.count_) return invalid("count overflows 64 bits");
    if (h.counts_.empty()) h.allocate();
    h.counts_[index] = b.count;
    h.count_ += b.count;
    previous = index;
  }
  if (h.count_ == 0) {
    if (min != 0 || max != 0 || sum != 0) return invalid("empty histogram with a min, max or sum");
    return h;
  }
  // min and max must fall in the first and last non-empty buckets, and the sum
  // between count*min and count*max (both fit in 128 bits).
  if (min > max || bucketIndex(min) != bucketIndex(buckets.front().lower) || bucketIndex(max) != previous) {
    return invalid("min/max disagree with its buckets");
  }
  if (sum < static_cast<Sum>(min) * h.count_ || sum > static_cast<Sum>(max) * h.count_) {
    return invalid("sum is outside count*min..count*max");
  }
  h.min_ = min;
  h.max_ = max;
  h.sum_ = sum;
  return h;
}

}  // namespace herd::stats
