#include "operator/controller/loadtest_status.h"

#include <gtest/gtest.h>

namespace herd::controller {
namespace {

using json = nlohmann::json;

TEST(LoadTestStatus, PhasesReadBackByName) {
  for (Phase phase : kPhases) EXPECT_EQ(parsePhase(phaseName(phase)), phase);
  EXPECT_EQ(parsePhase("Exploded"), Phase::kNone);
  EXPECT_EQ(parsePhase(""), Phase::kNone);
  EXPECT_TRUE(isLive(Phase::kPending));
  EXPECT_TRUE(isLive(Phase::kStopping));
  EXPECT_FALSE(isLive(Phase::kSucceeded));
  EXPECT_FALSE(isLive(Phase::kNone));
}

TEST(LoadTestStatus, ReadsWhatTheReconcilerWritesAndToleratesOddValues) {
  const json st = {{"phase", "Running"},
                   {"runId", "shop-abc123"},
                   {"runHash", "00ff"},
                   {"users", 7},
                   {"plan", {{"users", 10}, {"duration", "1m"}, {"scenarioSha256", "ab"}, {"scenarioSource", "x"}}},
                   {"agents", {{"desired", 2}, {"ready", 1}, {"connected", 1}}},
                   {"totals", {{"requests", 5}, {"rps", 2.5}, {"latency", {{"p95", 12.0}}}}},
                   {"conditions", {{{"type", "Validated"}, {"status", "True"}}}}};
  const auto status = LoadTestStatus::fromJson(st);
  EXPECT_EQ(status.phase, Phase::kRunning);
  EXPECT_EQ(status.run_id, "shop-abc123");
  EXPECT_EQ(status.plan.users, 10);
  EXPECT_EQ(status.plan.duration, "1m");
  EXPECT_EQ(status.agents.desired, 2);
  EXPECT_EQ(status.requests, 5);
  EXPECT_EQ(status.p95_ms, 12.0);
  EXPECT_EQ(LoadTestStatus::condition(st, Condition::kValidated), std::optional<bool>(true));
  EXPECT_EQ(LoadTestStatus::condition(st, Condition::kDegraded), std::nullopt);

  const auto odd = LoadTestStatus::fromJson({{"phase", 7}, {"users", "many"}, {"plan", 3}, {"cleanedUp", "yes"}});
  EXPECT_EQ(odd.phase, Phase::kNone);
  EXPECT_EQ(odd.users, 0);
  EXPECT_EQ(odd.plan.users, 0);
  EXPECT_FALSE(odd.cleaned_up);
  EXPECT_EQ(LoadTestStatus::fromJson(json()).phase, Phase::kNone);
}

}  // namespace
}  // namespace herd::controller
