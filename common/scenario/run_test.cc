#include "common/scenario/run.h"

#include <gtest/gtest.h>

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;

constexpr const char* kClosed = R"(name: t
target: http://127.0.0.1:8080
users: [{name: u, steps: [{get: /}]}]
load: {users: 10, duration: 1s}
)";

constexpr const char* kOpen = R"(name: o
target: http://127.0.0.1:8080
users: [{name: u, steps: [{get: /}]}]
load: {arrivalRate: 5, duration: 2s, maxUsers: 2}
)";

std::string describe(const Result<CompiledRun>& run) { return run.ok() ? "ok" : run.error().describe(); }

TEST(CompileRun, CarriesThePlanThresholdsUsersGraceAndPolicy) {
  RunOverrides overrides;
  overrides.extra_thresholds = {"http.latency p95 < 1s"};
  overrides.loss_policy = LossPolicy::kAbort;
  auto run = compileRun(std::string(kClosed) + "thresholds: [\"http.failures rate < 1%\"]\n", "t.yaml", overrides);
  ASSERT_TRUE(run.ok()) << describe(run);
  EXPECT_EQ(run->plan.name, "t");
  ASSERT_EQ(run->thresholds.size(), 2u);
  EXPECT_EQ(run->thresholds[0].expression, "http.failures rate < 1%");
  EXPECT_EQ(run->thresholds[1].expression, "http.latency p95 < 1s");
  EXPECT_EQ(run->total_users, 10);
  EXPECT_EQ(run->agents, 1);
  EXPECT_EQ(run->grace, kDefaultGrace);
  EXPECT_EQ(run->loss_policy, LossPolicy::kAbort);
}

TEST(CompileRun, ABadThresholdInTheFileIsACompileErrorWithItsPlace) {
  auto run = compileRun(std::string(kClosed) + "thresholds:\n  - \"http.latency p95 <<< 5ms\"\n", "t.yaml", {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().where, "t.yaml:6:5");
  EXPECT_NE(
      run.error().message.find("thresholds[0]: threshold \"http.latency p95 <<< 5ms\": unknown comparison \"<<<\""),
      std::string::npos)
      << run.error().message;
  // The map form points at its expression.
  run = compileRun(std::string(kClosed) + "thresholds:\n  - {expression: \"http.nope p95 < 5ms\", abortOnFail: true}\n",
                   "t.yaml", {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().where, "t.yaml:6:18") << run.error().describe();
}

TEST(CompileRun, TheFrontEndsThresholdsAreNamedAsItNamesThem) {
  RunOverrides overrides;
  overrides.compile.names = kLoadTestFields;
  overrides.extra_thresholds = {"http.failures rate < 1%", "bogus"};
  auto run = compileRun(kClosed, "t.yaml", overrides);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().where, "spec.thresholds[1]");
}

TEST(CompileRun, UsersBeyondTheSchemasLimitAreRefusedInTheFileAndTheOverride) {
  std::string text = kClosed;
  text.replace(text.find("users: 10"), 9, "users: 1000000000000");
  auto run = compileRun(text, "t.yaml", {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().describe(), "t.yaml:4:15: load.users: at most 10000000 users, got 1000000000000");

  RunOverrides overrides;
  overrides.compile.users = kMaxUsers + 1;
  run = compileRun(kClosed, "t.yaml", overrides);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().describe(), "--users: at most 10000000 users, got 10000001");
  overrides.compile.names = kLoadTestFields;
  run = compileRun(kClosed, "t.yaml", overrides);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().describe(), "spec.load.users: at most 10000000 users, got 10000001");
  overrides.compile.users = kMaxUsers;
  EXPECT_TRUE(compileRun(kClosed, "t.yaml", overrides).ok());
}

TEST(CompileRun, OverridesThatDoNotApplyNameTheFrontEndsField) {
  RunOverrides overrides;
  overrides.compile.users = 3;
  auto run = compileRun(kOpen, "o.yaml", overrides);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().describe(), "--users: does not apply to load stages, step doubling or an arrival rate");
  overrides.compile.names = kLoadTestFields;
  run = compileRun(kOpen, "o.yaml", overrides);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().describe(), "spec.load.users: does not apply to load stages, step doubling or an arrival rate");
}

TEST(CompileRun, GraceIsTheFrontEndsElseTheScenariosElseThirtySecondsAndCoversTheDrain) {
  EXPECT_EQ(compileRun(kClosed, "t.yaml", {})->grace, 30s);
  const std::string with_stop = std::string(kClosed) + "stop: {grace: 5s}\n";
  EXPECT_EQ(compileRun(with_stop, "t.yaml", {})->grace, 5s);
  RunOverrides overrides;
  overrides.grace = 2s;
  EXPECT_EQ(compileRun(with_stop, "t.yaml", overrides)->grace, 2s);
  const std::string drain = std::string(kClosed) + "stop: {grace: 1s, drain: 4s}\n";
  EXPECT_EQ(compileRun(drain, "t.yaml", {})->grace, 5s);
}

TEST(CompileRun, AgentsAreSizedFromTheTotalUsers) {
  RunOverrides overrides;
  overrides.users_per_agent = 3;
  EXPECT_EQ(compileRun(kClosed, "t.yaml", overrides)->agents, 4);  // ceil(10 / 3)
  overrides.agents = 2;
  EXPECT_EQ(compileRun(kClosed, "t.yaml", overrides)->agents, 2);
  overrides.agents = kMaxAgents + 1;
  auto run = compileRun(kClosed, "t.yaml", overrides);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().describe(), "--expect-agents: expected 1 to 1000 agents, got 1001");
}

TEST(CompileRun, TheOpenModelNeedsAUserPerAgentWhateverTheFrontEnd) {
  RunOverrides overrides;
  overrides.agents = 3;
  auto cli = compileRun(kOpen, "o.yaml", overrides);
  ASSERT_FALSE(cli.ok());
  EXPECT_EQ(cli.error().describe(),
            "o.yaml:4:7: load.maxUsers: 2 users cannot be spread over 3 agents (--expect-agents): each agent needs at "
            "least one");
  overrides.compile.names = kLoadTestFields;
  overrides.open_model_max_agents = 1;
  auto op = compileRun(kOpen, "o.yaml", overrides);
  ASSERT_FALSE(op.ok());
  EXPECT_EQ(op.error().describe(),
            "o.yaml:4:7: load.maxUsers: 2 users cannot be spread over 3 agents (spec.agents): each agent needs at "
            "least one");
  overrides.agents = 2;
  op = compileRun(kOpen, "o.yaml", overrides);
  ASSERT_FALSE(op.ok());
  EXPECT_EQ(op.error().describe(),
            "o.yaml:4:7: load: the open model (arrival rates) runs on at most 1 agent(s) here; spec.agents asks for 2");
  overrides.open_model_max_agents.reset();
  EXPECT_TRUE(compileRun(kOpen, "o.yaml", overrides).ok());
}

TEST(CompileRun, TotalUsersCountEveryScheduledUser) {
  const std::string stages = R"(name: s
target: http://127.0.0.1:8080
users: [{name: u, steps: [{get: /}]}]
load:
  stages: [{duration: 1s, users: 4}, {duration: 1s, users: 1}, {duration: 1s, users: 3}]
)";
  auto run = compileRun(stages, "s.yaml", {});
  ASSERT_TRUE(run.ok()) << describe(run);
  EXPECT_EQ(run->plan.load.users, 4);  // the peak
  EXPECT_EQ(run->total_users, 6);      // the fall stops 3, the rise starts 2 new ones
  EXPECT_EQ(compileRun(kOpen, "o.yaml", {})->total_users, 2);
}

TEST(CompileRun, LossPoliciesReadBothSpellings) {
  EXPECT_EQ(*parseLossPolicy("rebalance"), LossPolicy::kRebalance);
  EXPECT_EQ(*parseLossPolicy("Continue"), LossPolicy::kContinue);
  EXPECT_EQ(*parseLossPolicy("abort"), LossPolicy::kAbort);
  EXPECT_FALSE(parseLossPolicy("ABORT").ok());
  EXPECT_EQ(lossPolicyName(LossPolicy::kContinue), "continue");
  EXPECT_EQ(lossPolicyTitle(LossPolicy::kContinue), "Continue");
}

TEST(CompileRun, CountsItsCompiles) {
  const auto before = compileRunCount();
  (void)compileRun(kClosed, "t.yaml", {});
  (void)compileRun("not: [yaml", "t.yaml", {});
  EXPECT_EQ(compileRunCount(), before + 2);
}

}  // namespace
}  // namespace herd::scenario
