#include "common/stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

namespace herd::stats {
namespace {

// The decoder that calls fromParts knows where the histogram came from (agent,
// message) and fills in Error::where.
Error invalid(std::string what) { return Error{"invalid histogram: " + std::move(what), {}}; }

}  // namespace

void Histogram::cover(size_t first, size_t last, bool room) {
  const size_t end = base_ + counts_.size();
  if (!counts_.empty() && first >= base_ && last < end) return;
  size_t lo = counts_.empty() ? first : std::min(first, base_);
  size_t hi = counts_.empty() ? last + 1 : std::max(last + 1, end);
  if (room) {
    // Growing by at least the size held (and an octave) keeps re-allocations
    // few however the values wander: at most a dozen over the whole range.
    const size_t extra = std::max<size_t>(hi - lo, kSubBuckets);
    lo = lo > extra ? lo - extra : 0;
    hi = std::min<size_t>(hi + extra, kBucketCount);
  }
  std::vector<uint64_t> wider(hi - lo, 0);
  std::copy(counts_.begin(), counts_.end(), wider.begin() + static_cast<std::ptrdiff_t>(base_ - lo));
  counts_ = std::move(wider);
  base_ = lo;
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  const size_t first = bucketIndex(other.min_), last = bucketIndex(other.max_);
  cover(first, last, true);
  const uint64_t* from = other.counts_.data() + (first - other.base_);
  uint64_t* into = counts_.data() + (first - base_);
  for (size_t i = 0; i <= last - first; ++i) into[i] += from[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
  // Only the buckets between min and max can be non-zero.
  if (count_ != 0 && !counts_.empty()) {
    const auto at = [this](size_t index) { return counts_.begin() + static_cast<std::ptrdiff_t>(index - base_); };
    std::fill(at(bucketIndex(min_)), at(bucketIndex(max_)) + 1, 0);
  }
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

bool Histogram::operator==(const Histogram& other) const {
  if (count_ != other.count_ || min_ != other.min_ || max_ != other.max_ || sum_ != other.sum_) return false;
  if (count_ == 0) return true;
  // Both hold [bucketIndex(min_), bucketIndex(max_)], each from its own base.
  const size_t first = bucketIndex(min_), n = bucketIndex(max_) - first + 1;
  return std::equal(counts_.begin() + static_cast<std::ptrdiff_t>(first - base_),
                    counts_.begin() + static_cast<std::ptrdiff_t>(first - base_ + n),
                    other.counts_.begin() + static_cast<std::ptrdiff_t>(first - other.base_));
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
    seen += counts_[i - base_];
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
    h.count_ += b.count;
    previous = index;
  }
  const size_t first = buckets.empty() ? 0 : bucketIndex(buckets.front().lower);
  if (h.count_ != 0) {
    // Valid and ascending: exactly the buckets from the first to the last.
    h.cover(first, previous, false);
    for (const BucketCount& b : buckets) h.counts_[bucketIndex(b.lower) - h.base_] = b.count;
  }
  if (auto checked = checkSummary(h.count_, min, max, sum, first, previous); !checked) return checked.error();
  if (h.count_ != 0) {
    h.min_ = min;
    h.max_ = max;
    h.sum_ = sum;
  }
  return h;
}

Result<uint64_t> Histogram::checkGaps(uint64_t min, uint64_t max, Sum sum, std::span<const uint32_t> gaps,
                                      std::span<const uint64_t> counts) {
  if (gaps.size() != counts.size()) {
    return invalid(std::to_string(gaps.size()) + " bucket gaps but " + std::to_string(counts.size()) +
                   " bucket counts");
  }
  // Every report's buckets pass through here at the coordinator, so the loop
  // has no branch per bucket: it notes whether any bucket is wrong and, only
  // then, finds which. Gaps after the first are at least 1, so the index only
  // grows and its last value decides the range.
  uint64_t count = 0;
  uint64_t index = 0;
  bool wrong = false;
  for (size_t i = 0; i < gaps.size(); ++i) {
    index += gaps[i];
    wrong |= (gaps[i] == 0) & (i > 0);
    wrong |= counts[i] == 0;
    wrong |= __builtin_add_overflow(count, counts[i], &count);
  }
  if (wrong || index >= kBucketCount) {
    count = 0;
    index = 0;
    for (size_t i = 0; i < gaps.size(); ++i) {
      index += gaps[i];
      if (index >= kBucketCount || (i > 0 && gaps[i] == 0)) {
        return invalid("bucket " + std::to_string(i) + " is out of range or repeated");
      }
      if (counts[i] == 0) return invalid("bucket with a zero count");
      if (counts[i] > UINT64_MAX - count) return invalid("count overflows 64 bits");
      count += counts[i];
    }
  }
  return checkSummary(count, min, max, sum, gaps.empty() ? 0 : gaps[0], static_cast<size_t>(index));
}

void Histogram::mergeGaps(uint64_t min, uint64_t max, Sum sum, std::span<const uint32_t> gaps,
                          std::span<const uint64_t> counts) {
  if (gaps.empty()) return;
  // Checked: the buckets run from gaps[0] to max's, ascending.
  cover(gaps[0], bucketIndex(max), true);
  uint64_t added = 0;
  size_t at = 0;
  for (size_t i = 0; i < gaps.size(); ++i) {
    at += gaps[i];
    counts_[at - base_] += counts[i];
    added += counts[i];
  }
  count_ += added;
  sum_ += sum;
  min_ = std::min(min_, min);
  max_ = std::max(max_, max);
}

Result<Histogram> Histogram::fromGaps(uint64_t min, uint64_t max, Sum sum, std::span<const uint32_t> gaps,
                                      std::span<const uint64_t> counts) {
  const auto count = checkGaps(min, max, sum, gaps, counts);
  if (!count) return count.error();
  Histogram h;
  // Exactly the buckets it holds (no room to grow): a report's copy.
  if (*count != 0) h.cover(gaps[0], bucketIndex(max), false);
  h.mergeGaps(min, max, sum, gaps, counts);
  return h;
}

Result<uint64_t> Histogram::checkSummary(uint64_t count, uint64_t min, uint64_t max, Sum sum, size_t first,
                                         size_t last) {
  if (count == 0) {
    if (min != 0 || max != 0 || sum != 0) return invalid("empty histogram with a min, max or sum");
    return count;
  }
  // min and max must fall in the first and last non-empty buckets, and the sum
  // between count*min and count*max (both fit in 128 bits).
  if (min > max || bucketIndex(min) != first || bucketIndex(max) != last) {
    return invalid("min/max disagree with its buckets");
  }
  if (sum < static_cast<Sum>(min) * count || sum > static_cast<Sum>(max) * count) {
    return invalid("sum is outside count*min..count*max");
  }
  return count;
}

}  // namespace herd::stats
