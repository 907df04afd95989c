#include "agent/runtime/backoff.h"

#include <gtest/gtest.h>

#include "common/core/random.h"

namespace herd::runtime {
namespace {

using namespace std::chrono_literals;
using stats::ErrorKind;

scenario::RetryPolicy policy() {
  scenario::RetryPolicy p;
  p.on = scenario::RetryPolicy::kConnect | scenario::RetryPolicy::k5xx;
  p.attempts = 8;
  p.base = 100ms;
  p.max = 2s;
  return p;
}

TEST(Backoff, CeilingDoublesUpToTheMax) {
  const auto p = policy();
  EXPECT_EQ(backoffCeiling(p, 1), 100ms);
  EXPECT_EQ(backoffCeiling(p, 2), 200ms);
  EXPECT_EQ(backoffCeiling(p, 3), 400ms);
  EXPECT_EQ(backoffCeiling(p, 5), 1600ms);
  EXPECT_EQ(backoffCeiling(p, 6), 2s);
  EXPECT_EQ(backoffCeiling(p, 100), 2s);  // no overflow however many retries
}

TEST(Backoff, FullJitterSpansTheWholeWindow) {
  const auto p = policy();
  // The injected random number maps linearly onto [0, ceiling).
  EXPECT_EQ(backoffDelay(p, 3, 0.0), 0ms);
  EXPECT_EQ(backoffDelay(p, 3, 0.5), 200ms);
  EXPECT_EQ(backoffDelay(p, 3, 0.25), 100ms);
  // With the engine's RNG: every delay within bounds, and the mean near half the
  // ceiling (full jitter, not "equal jitter" or none).
  Rng rng(7);
  for (int retry = 1; retry <= 7; ++retry) {
    double sum = 0;
    constexpr int kSamples = 20000;
    for (int i = 0; i < kSamples; ++i) {
      const auto delay = backoffDelay(p, retry, rng.unit());
      ASSERT_GE(delay, 0ns);
      ASSERT_LT(delay, backoffCeiling(p, retry));
      sum += static_cast<double>(delay.count());
    }
    const double mean = sum / kSamples;
    const double half = static_cast<double>(backoffCeiling(p, retry).count()) / 2;
    EXPECT_NEAR(mean, half, half * 0.03) << "retry " << retry;
  }
}

TEST(Backoff, RetriesOnlyTheChosenErrors) {
  auto p = policy();
  EXPECT_TRUE(shouldRetry(p, ErrorKind::kConnect, 0));
  EXPECT_FALSE(shouldRetry(p, ErrorKind::kTimeout, 0));
  EXPECT_TRUE(shouldRetry(p, ErrorKind::kStatus, 503));
  EXPECT_FALSE(shouldRetry(p, ErrorKind::kStatus, 429));
  EXPECT_FALSE(shouldRetry(p, ErrorKind::kStatus, 404));
  EXPECT_FALSE(shouldRetry(p, ErrorKind::kReset, 0));
  p.on = scenario::RetryPolicy::k429 | scenario::RetryPolicy::kTimeout;
  EXPECT_TRUE(shouldRetry(p, ErrorKind::kStatus, 429));
  EXPECT_TRUE(shouldRetry(p, ErrorKind::kTimeout, 0));
  EXPECT_FALSE(shouldRetry(p, ErrorKind::kStatus, 500));
  // A status check that failed on a 429 is still a 429 to the retry policy.
  EXPECT_TRUE(shouldRetry(p, ErrorKind::kCheck, 429));
}

}  // namespace
}  // namespace herd::runtime
