#pragma once
// A fixed-size, mergeable latency histogram (HdrHistogram-style log-linear
// buckets). Values are nanoseconds.
//
// Layout: values below 256 ns each have their own bucket (exact). From 256 ns up,
// every power of two [2^k, 2^(k+1)) is split into 128 equal sub-buckets, so a
// bucket is never wider than 1/128 of its lower bound. The last power of two is
// [2^42, 2^43), i.e. up to about 2.44 h; larger values are counted in the top
// bucket, while count, min, max and sum stay exact for every uint64 value.
//
// Precision: valueAtPercentile() returns the midpoint of the bucket holding the
// nearest-rank sample, clamped to [min, max]. Half a bucket is at most 1/256 of
// its lower bound, so a reported percentile is within 0.4% (1/256) of the exact
// nearest-rank sample value for any value from 256 ns to 2^43 ns, which covers
// 1 us to 1 h; values below 256 ns are reported exactly.
//
// A histogram holds kBucketCount uint64 counters (~37 KiB), allocated once by the
// constructor; record() never allocates. Not thread-safe: each engine worker owns
// its own and the owners merge them (see recorder.h).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/core/result.h"

namespace herd::stats {

class Histogram {
 public:
  // The sum of up to 2^64 values of up to 2^64 ns each: 128 bits never overflow.
  __extension__ typedef unsigned __int128 Sum;

  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 128
  static constexpr uint64_t kExactLimit = 2 * kSubBuckets;                // 256 ns
  static constexpr int kTopBit = 42;  // the highest power of two with its own buckets
  // The largest value with a bucket of its own (~2.44 h); larger values clamp to it.
  static constexpr uint64_t kMaxTrackable = (uint64_t{1} << (kTopBit + 1)) - 1;
  static constexpr size_t kBucketCount = kExactLimit + (kTopBit - kSubBucketBits) * kSubBuckets;  // 4736

  // A histogram owns only the buckets between the lowest and highest it has held
  // (and some room around them): latencies of one endpoint span a few octaves,
  // a few hundred of the 4,736 buckets (37 KiB). Empty histograms own none. A
  // coordinator decodes a histogram per endpoint per report and an agent keeps
  // one per endpoint per worker; allocating and zeroing all 37 KiB for each was
  // most of the coordinator's cost per report.
  Histogram() = default;

  // The bucket holding `ns` (values above kMaxTrackable land in the top bucket).
  static constexpr size_t bucketIndex(uint64_t ns) {
    if (ns < kExactLimit) return static_cast<size_t>(ns);
    ns = std::min(ns, kMaxTrackable);
    // ns >> shift keeps the 8 most significant bits: a mantissa in [128, 256).
    const int shift = std::bit_width(ns) - 1 - kSubBucketBits;  // >= 1 here
    const uint64_t mantissa = ns >> shift;
    return static_cast<size_t>(kExactLimit + static_cast<uint64_t>(shift - 1) * kSubBuckets + (mantissa - kSubBuckets));
  }
  // [bucketLower(i), bucketUpper(i)) is the range of values bucket i stands for;
  // i < kBucketCount. The top bucket also counts the clamped values above it.
  static constexpr uint64_t bucketLower(size_t index) {
    if (index < kExactLimit) return index;
    const uint64_t offset = index - kExactLimit;
    return (kSubBuckets + offset % kSubBuckets) << shiftOf(index);
  }
  static constexpr uint64_t bucketUpper(size_t index) {
    if (index < kExactLimit) return index + 1;
    return bucketLower(index) + (uint64_t{1} << shiftOf(index));
  }

  // The hot path: two branches, a clz, a few adds. Allocates only when a value
  // falls outside the buckets held so far (the first time, then rarely).
  void record(uint64_t ns) { record(ns, 1); }
  void record(uint64_t ns, uint64_t times) {
    if (times == 0) return;
    const size_t index = bucketIndex(ns);
    if (index - base_ >= counts_.size()) [[unlikely]]  // below base_ wraps around: also outside
      cover(index, index, true);
    counts_[index - base_] += times;
    count_ += times;
    sum_ += static_cast<Sum>(ns) * times;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
  }

  void merge(const Histogram& other);
  // Empties the histogram, keeping its storage. Also makes a moved-from
  // histogram usable again.
  void reset();

  uint64_t count() const { return count_; }
  // What the buckets take: 0 until the first value, then a word per bucket held.
  size_t bucketBytes() const { return counts_.capacity() * sizeof(uint64_t); }
  // min(), max() and mean() are exact (not bucketed); all are 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  Sum sum() const { return sum_; }
  double mean() const;

  // Nearest-rank percentile, p in [0, 100] (values outside are clamped): the
  // midpoint of the bucket holding rank max(1, ceil(p/100 * count)), clamped to
  // [min, max]. p = 0 gives min and p = 100 gives max exactly; 0 when empty.
  uint64_t valueAtPercentile(double p) const;

  // Calls fn(lower, upper_exclusive, count) for every non-empty bucket in
  // ascending order (for Prometheus buckets and the wire encoding).
  template <typename Fn>
  void forEachBucket(Fn&& fn) const {
    if (count_ == 0) return;
    for (size_t i = bucketIndex(min_); i <= bucketIndex(max_); ++i) {
      if (const uint64_t n = counts_[i - base_]; n != 0) fn(bucketLower(i), bucketUpper(i), n);
    }
  }

  // The wire decoder's half of forEachBucket: rebuilds a histogram from its
  // non-empty buckets (identified by their lower bound) and exact min/max/sum.
  // Input comes from the network, so every inconsistency is an Error, never UB.
  struct BucketCount {
    uint64_t lower;
    uint64_t count;
  };
  static Result<Histogram> fromParts(uint64_t min, uint64_t max, Sum sum, std::span<const BucketCount> buckets);
  // The same from the wire's form (proto/herd/v1/stats.proto): bucket i's index
  // is the sum of gaps[0..i], its count counts[i]. The coordinator decodes one
  // per endpoint per report, so this one touches each bucket twice, not more.
  static Result<Histogram> fromGaps(uint64_t min, uint64_t max, Sum sum, std::span<const uint32_t> gaps,
                                    std::span<const uint64_t> counts);
  // fromGaps' checks alone: the count of the histogram it would build, or why
  // it would not.
  static Result<uint64_t> checkGaps(uint64_t min, uint64_t max, Sum sum, std::span<const uint32_t> gaps,
                                    std::span<const uint64_t> counts);
  // merge(*fromGaps(...)) without building the copy, for a histogram in the
  // wire's form that checkGaps accepted (the coordinator merges a report's
  // buckets straight from the parsed message).
  void mergeGaps(uint64_t min, uint64_t max, Sum sum, std::span<const uint32_t> gaps, std::span<const uint64_t> counts);

  // Bucket for bucket, plus count/min/max/sum (whether the buckets are allocated
  // or not: an empty histogram equals another empty one).
  bool operator==(const Histogram& other) const;

 private:
  // Holds buckets [first, last] from now on, keeping what the held ones count;
  // `room` adds as many again around them (for a histogram that keeps growing:
  // a recorder, an aggregate), else exactly that range (a decoded report's).
  void cover(size_t first, size_t last, bool room);
  // The checks fromParts and checkGaps share once the buckets are counted:
  // `count` is their sum, [first, last] the indexes of the first and last.
  static Result<uint64_t> checkSummary(uint64_t count, uint64_t min, uint64_t max, Sum sum, size_t first, size_t last);
  // Bucket i >= kExactLimit has width 2^shiftOf(i).
  static constexpr int shiftOf(size_t index) { return static_cast<int>((index - kExactLimit) / kSubBuckets) + 1; }

  std::vector<uint64_t> counts_;  // buckets base_ .. base_ + size - 1; empty until the first value
  size_t base_ = 0;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;  // UINT64_MAX while empty so record() needs no branch
  uint64_t max_ = 0;
  Sum sum_ = 0;  // ns
};

}  // namespace herd::stats
