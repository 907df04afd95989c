#include "operator/controller/loadtest_status.h"

#include <gtest/gtest.h>

namespace herd::controller {
namespace {

using json = Json;

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
  ASSERT_TRUE(status.plan && status.agents && status.totals);
  EXPECT_EQ(status.plan->users, 10);
  EXPECT_EQ(status.plan->duration, "1m");
  EXPECT_EQ(status.agents->desired, 2);
  EXPECT_EQ(status.totals->requests, 5);
  EXPECT_EQ(status.totals->p95_ms, 12.0);
  EXPECT_EQ(LoadTestStatus::condition(st, Condition::kValidated), std::optional<bool>(true));
  EXPECT_EQ(LoadTestStatus::condition(st, Condition::kDegraded), std::nullopt);

  const auto odd = LoadTestStatus::fromJson({{"phase", 7}, {"users", "many"}, {"plan", 3}, {"cleanedUp", "yes"}});
  EXPECT_EQ(odd.phase, Phase::kNone);
  EXPECT_EQ(odd.usersOr0(), 0);
  EXPECT_FALSE(odd.plan.has_value());
  EXPECT_FALSE(odd.cleanedUp());
  EXPECT_EQ(LoadTestStatus::fromJson(json()).phase, Phase::kNone);
}

// What the reconciler writes goes back as it was read: no field added, none lost,
// absent fields stay absent.
TEST(LoadTestStatus, WritesBackWhatItReads) {
  const json finished = {
      {"observedGeneration", 3},
      {"phase", "Failed"},
      {"verdict", "Aborted"},
      {"reason", "AgentLost"},
      {"message", "agent pod p-0 failed"},
      {"runId", "shop-abc123"},
      {"runHash", "00ff"},
      {"runTrigger", "again"},
      {"runReason", "created"},
      {"runGeneration", 2},
      {"selector", "herd.dev/run=shop-abc123"},
      {"startTime", "2026-01-01T00:00:00Z"},
      {"completionTime", "2026-01-01T00:01:00Z"},
      {"lastScheduleTime", "2026-01-01T00:00:00Z"},
      {"nextScheduleTime", "2026-01-02T00:00:00Z"},
      {"users", 0},
      {"plan", {{"users", 10}, {"duration", "1m"}, {"scenarioSha256", "ab"}, {"scenarioSource", "x"}}},
      {"agents", {{"desired", 2}, {"ready", 1}, {"connected", 0}}},
      {"totals",
       {{"requests", 5},
        {"failures", 1},
        {"rps", 2.5},
        {"failurePercent", 20.0},
        {"latency", {{"p50", 1.0}, {"p95", 12.0}, {"p99", 13.0}}}}},
      {"latencyHistogram",
       {{"boundsSeconds", {0.001, 0.002}}, {"cumulative", {3, 5}}, {"count", 5}, {"sumSeconds", 0.0071}}},
      {"lostAgents", {"p-0"}},
      {"scaleRefused", "run keeps 2"},
      {"summaryConfigMap", "shop-abc123-summary"},
      {"thresholds", {{{"expression", "p95 < 100ms"}, {"passed", true}, {"value", 12.0}}}},
      {"endpoints", json::array({{{"name", "GET /"}}})},
      {"delivery", json::array()},
      {"history", {{{"runId", "shop-000000"}, {"params", {{"a", "b"}}}}}},
      {"cleanedUp", true},
      {"conditions",
       {{{"type", "Complete"},
         {"status", "True"},
         {"reason", "AgentLost"},
         {"message", "m"},
         {"observedGeneration", 3},
         {"lastTransitionTime", "2026-01-01T00:01:00Z"}}}}};
  EXPECT_EQ(LoadTestStatus::fromJson(finished).toJson(), finished);
  const json pending = {{"phase", "Pending"}, {"reason", "ScenarioNotFound"}};
  EXPECT_EQ(LoadTestStatus::fromJson(pending).toJson(), pending);
  EXPECT_EQ(LoadTestStatus::fromJson(json()).toJson(), json::object());
}

TEST(LoadTestStatus, AConditionsTransitionTimeMovesOnlyWithItsStatus) {
  LoadTestStatus st;
  EXPECT_TRUE(st.setCondition(Condition::kRunning, false, "Starting", "", 1, "t1"));
  EXPECT_FALSE(st.setCondition(Condition::kRunning, false, "Still", "m", 2, "t2"));
  EXPECT_TRUE(st.setCondition(Condition::kRunning, true, "LoadRunning", "", 3, "t3"));
  ASSERT_EQ(st.conditions.size(), 1u);
  EXPECT_EQ(st.conditions[0].last_transition_time, "t3");
  EXPECT_EQ(st.conditions[0].observed_generation, 3);
  EXPECT_EQ(st.condition(Condition::kRunning), std::optional<bool>(true));
  EXPECT_EQ(st.condition(Condition::kComplete), std::nullopt);
}

}  // namespace
}  // namespace herd::controller
