#include "operator/controller/loadtest.h"

#include <gtest/gtest.h>

namespace herd::controller {
namespace {

json lt(json spec) { return {{"metadata", {{"name", "shop"}, {"namespace", "perf"}}}, {"spec", std::move(spec)}}; }

TEST(ParseSpec, ReadsEveryField) {
  auto spec = parseSpec(lt({{"scenario", {{"configMapRef", {{"name", "cm"}}}}},
                            {"target", "http://127.0.0.1:8080"},
                            {"params", {{"pageSize", "50"}}},
                            {"load", {{"users", 200}, {"spawnRate", 20.5}, {"duration", "1m30s"}}},
                            {"usersPerAgent", 50},
                            {"agentLossPolicy", "Abort"},
                            {"thresholds", {"http.latency p95 < 500ms"}},
                            {"schedule", {{"cron", "*/5 * * * *"}, {"suspend", true}}},
                            {"historyLimit", 3},
                            {"ttlSecondsAfterFinished", 60},
                            {"timeouts", {{"agentsReady", "90s"}, {"run", "10m"}}},
                            {"regression", {{"maxP95IncreasePercent", 20}}}}));
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  EXPECT_FALSE(spec->inline_scenario);
  EXPECT_EQ(spec->config_map_name, "cm");
  EXPECT_EQ(spec->config_map_key, "scenario.yaml");
  EXPECT_EQ(*spec->overrides.target, "http://127.0.0.1:8080");
  EXPECT_EQ(spec->overrides.params.at("pageSize"), "50");
  EXPECT_EQ(*spec->overrides.users, 200);
  EXPECT_DOUBLE_EQ(*spec->overrides.spawn_rate, 20.5);
  EXPECT_EQ(*spec->overrides.duration, std::chrono::seconds(90));
  EXPECT_EQ(*spec->users_per_agent, 50);
  EXPECT_EQ(spec->loss_policy, LossPolicy::kAbort);
  ASSERT_TRUE(spec->schedule);
  EXPECT_TRUE(spec->schedule->suspend);
  EXPECT_EQ(spec->schedule->concurrency_policy, "Forbid");
  EXPECT_EQ(spec->history_limit, 3);
  EXPECT_EQ(*spec->ttl_seconds_after_finished, 60);
  EXPECT_EQ(spec->agents_ready_timeout, std::chrono::seconds(90));
  EXPECT_EQ(*spec->run_timeout, std::chrono::minutes(10));
  EXPECT_DOUBLE_EQ(*spec->max_p95_increase_percent, 20);
}

TEST(ParseSpec, BadValuesNameTheField) {
  auto spec = parseSpec(lt({{"scenario", {{"inline", "x"}}}, {"load", {{"duration", "10"}}}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().where, "spec.load.duration");
  auto none = parseSpec(lt({{"scenario", json::object()}}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().where, "spec.scenario");
  // Odd JSON (not what the schema allows) never throws.
  EXPECT_FALSE(parseSpec(json::array()).ok());
  EXPECT_FALSE(parseSpec(lt({{"scenario", 3}, {"agents", "x"}})).ok());
}

TEST(DesiredAgents, FromAgentsOrUsersPerAgentAndNeverMoreThanUsers) {
  LoadTestSpec spec;
  EXPECT_EQ(desiredAgents(spec, 100), 1);
  spec.agents = 4;
  EXPECT_EQ(desiredAgents(spec, 100), 4);
  EXPECT_EQ(desiredAgents(spec, 3), 3);  // an agent without users would idle
  spec.agents.reset();
  spec.users_per_agent = 30;
  EXPECT_EQ(desiredAgents(spec, 100), 4);  // ceil(100 / 30)
  EXPECT_EQ(desiredAgents(spec, 90), 3);
  EXPECT_EQ(desiredAgents(spec, 0), 1);
}

TEST(RunDefinitionHash, ScalingAndBookkeepingDoNotStartANewRun) {
  json a = lt({{"scenario", {{"inline", "x"}}}, {"agents", 2}, {"load", {{"users", 10}}}});
  json b = a;
  b["spec"]["agents"] = 5;
  b["spec"]["historyLimit"] = 3;
  b["spec"]["ttlSecondsAfterFinished"] = 10;
  b["spec"]["schedule"] = {{"cron", "@hourly"}};
  EXPECT_EQ(runDefinitionHash(a), runDefinitionHash(b));
  json c = a;
  c["spec"]["load"]["users"] = 11;
  EXPECT_NE(runDefinitionHash(a), runDefinitionHash(c));
  json d = a;
  d["spec"]["params"] = {{"x", "1"}};
  EXPECT_NE(runDefinitionHash(a), runDefinitionHash(d));
  EXPECT_EQ(runDefinitionHash(a).size(), 16u);
}

}  // namespace
}  // namespace herd::controller
