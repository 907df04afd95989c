#include "common/scenario/guardrails.h"

#include <gtest/gtest.h>

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTwoHosts = R"(name: t
target: http://shop.perf.svc:8080
users:
  - name: u
    steps:
      - get: /
      - get: http://cdn.perf.svc:9000/logo.png
load: {users: 10, duration: 1m}
)";

constexpr const char* kOpen = R"(name: o
target: http://127.0.0.1:8080
users: [{name: u, steps: [{get: /}]}]
load:
  maxUsers: 20
  stages: [{duration: 10s, rate: 40}, {duration: 10s, rate: 120}, {duration: 5s, rate: 0}]
)";

CompiledRun compiled(const char* text) {
  auto run = compileRun(text, "t.yaml", {});
  EXPECT_TRUE(run.ok()) << run.error().describe();
  return run.ok() ? *run : CompiledRun{};
}

// What checkRun says of the run: the broken rule described, or "" when allowed.
std::string refusal(const CompiledRun& run, int64_t agents, const RunLimits& limits) {
  auto violation = checkRun(run, agents, limits);
  return violation ? violation->describe() : "";
}

TEST(HostMatches, ExactGlobCidrAndCase) {
  EXPECT_TRUE(hostMatches("shop.perf.svc", "shop.perf.svc"));
  EXPECT_TRUE(hostMatches("Shop.Perf.SVC", "shop.perf.svc"));
  EXPECT_FALSE(hostMatches("shop.perf.svc", "shop.perf.svc.evil.example"));
  EXPECT_TRUE(hostMatches("*.perf.svc", "shop.perf.svc"));
  EXPECT_TRUE(hostMatches("*.perf.svc", "a.b.perf.svc"));
  EXPECT_FALSE(hostMatches("*.perf.svc", "perf.svc"));
  EXPECT_FALSE(hostMatches("*.perf.svc", "shop.perf.svc.example"));
  EXPECT_TRUE(hostMatches("*", "anything.example"));
  EXPECT_TRUE(hostMatches("10.1.0.0/16", "10.1.200.3"));
  EXPECT_FALSE(hostMatches("10.1.0.0/16", "10.2.0.1"));
  EXPECT_FALSE(hostMatches("10.1.0.0/16", "shop.perf.svc"));
  EXPECT_FALSE(hostMatches("10.1.0.0/40", "10.1.0.1"));
  EXPECT_TRUE(hostMatches("0.0.0.0/0", "192.0.2.1"));
  EXPECT_TRUE(hostMatches("::1", "::1"));
  EXPECT_FALSE(hostMatches("", "shop"));
}

TEST(CheckRun, NoLimitsAllowAnything) { EXPECT_FALSE(checkRun(compiled(kTwoHosts), 500, {}).has_value()); }

TEST(CheckRun, EachLimitNamesItsRuleTheValueAndTheLimit) {
  const auto run = compiled(kTwoHosts);
  RunLimits limits;
  limits.max_users = 9;
  EXPECT_EQ(refusal(run, 1, limits), "maxUsers: 10 users is not allowed (limit: 9 users)");
  limits.max_users = 10;
  EXPECT_EQ(refusal(run, 1, limits), "");

  limits.max_agents = 2;
  EXPECT_EQ(refusal(run, 3, limits), "maxAgents: 3 agents is not allowed (limit: 2 agents)");
  EXPECT_EQ(refusal(run, 2, limits), "");

  limits.max_duration = 30s;
  EXPECT_EQ(refusal(run, 1, limits), "maxDuration: duration 1m is not allowed (limit: 30s)");
  limits.max_duration = 60s;
  EXPECT_EQ(refusal(run, 1, limits), "");
}

TEST(CheckRun, EveryOriginIsCheckedNotOnlyTheTarget) {
  const auto run = compiled(kTwoHosts);
  RunLimits limits;
  limits.allowed_hosts = {"shop.perf.svc"};
  auto v = checkRun(run, 1, limits);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->rule, "allowedHosts");
  EXPECT_EQ(v->value, "target http://cdn.perf.svc:9000");
  EXPECT_EQ(v->limit, "[shop.perf.svc]");
  limits.allowed_hosts = {"shop.perf.svc", "cdn.*"};
  EXPECT_FALSE(checkRun(run, 1, limits));
  limits.allowed_hosts = {"*.perf.svc"};
  EXPECT_FALSE(checkRun(run, 1, limits));
}

TEST(CheckRun, TheTargetOverrideIsWhatIsChecked) {
  RunOverrides overrides;
  overrides.compile.target = "http://10.9.8.7:80";
  auto run = compileRun(kTwoHosts, "t.yaml", overrides);
  ASSERT_TRUE(run.ok());
  RunLimits limits;
  limits.allowed_hosts = {"*.perf.svc"};
  auto v = checkRun(*run, 1, limits);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value, "target http://10.9.8.7:80");
}

TEST(CheckRun, RateIsTheOpenModelsPeakStage) {
  const auto run = compiled(kOpen);
  EXPECT_EQ(peakRate(run.plan), 120);
  EXPECT_EQ(peakRate(compiled(kTwoHosts).plan), 0);
  RunLimits limits;
  limits.max_rate = 100;
  EXPECT_EQ(refusal(run, 1, limits), "maxRate: arrival rate 120/s is not allowed (limit: 100/s)");
  limits.max_rate = 120;
  EXPECT_EQ(refusal(run, 1, limits), "");
  // A closed model has no arrival rate to refuse.
  limits.max_rate = 1;
  EXPECT_EQ(refusal(compiled(kTwoHosts), 1, limits), "");
}

TEST(RunLimitFlags, ZeroAndEmptyMeanNoLimitAndABadDurationNamesItsFlag) {
  RunLimitFlags flags;
  auto none = runLimits(flags);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->max_users || none->max_agents || none->max_duration || none->max_rate);
  flags = {.max_users = 5, .max_agents = 2, .max_duration = "90s", .max_rate = 7.5, .allow_hosts = {"*.svc"}};
  auto set = runLimits(flags);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(*set->max_users, 5);
  EXPECT_EQ(*set->max_agents, 2);
  EXPECT_EQ(*set->max_duration, 90s);
  EXPECT_EQ(*set->max_rate, 7.5);
  EXPECT_EQ(set->allowed_hosts, std::vector<std::string>{"*.svc"});
  flags.max_duration = "soon";
  auto bad = runLimits(flags);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where, "--max-duration");
  EXPECT_EQ(runLimitFlag("maxUsers"), "--max-users");
  EXPECT_EQ(runLimitFlag("maxAgents"), "--max-agents");
  EXPECT_EQ(runLimitFlag("maxDuration"), "--max-duration");
  EXPECT_EQ(runLimitFlag("maxRate"), "--max-rate");
  EXPECT_EQ(runLimitFlag("allowedHosts"), "--allow-host");
}

TEST(Limits, ParsedAsFlagsAndAnnotationsWriteThem) {
  EXPECT_EQ(*parseLimitCount("20"), 20);
  EXPECT_FALSE(parseLimitCount("0").ok());
  EXPECT_FALSE(parseLimitCount("20 users").ok());
  EXPECT_FALSE(parseLimitCount("").ok());
  EXPECT_EQ(*parseLimitRate("2.5"), 2.5);
  EXPECT_FALSE(parseLimitRate("0").ok());
  EXPECT_FALSE(parseLimitRate("nan").ok());
  EXPECT_FALSE(parseLimitRate("5/s").ok());
  EXPECT_EQ(splitList(" a.svc, *.b.svc,,10.0.0.0/8 "), (std::vector<std::string>{"a.svc", "*.b.svc", "10.0.0.0/8"}));
  EXPECT_TRUE(splitList("").empty());
}

}  // namespace
}  // namespace herd::scenario
