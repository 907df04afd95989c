#include "operator/controller/policy.h"

#include <gtest/gtest.h>

namespace herd::controller {
namespace {

using namespace std::chrono_literals;

constexpr const char* kScenario = R"(name: t
target: http://shop.perf.svc:8080
users: [{name: u, steps: [{get: /}]}]
load: {users: 10, duration: 1m}
)";

json nsWith(json annotations) { return {{"metadata", {{"name", "perf"}, {"annotations", std::move(annotations)}}}}; }

scenario::CompiledRun compiled() {
  auto run = scenario::compileRun(kScenario, "t.yaml", {});
  EXPECT_TRUE(run.ok());
  return run.ok() ? *run : scenario::CompiledRun{};
}

LoadTestSpec withTemplate(json tmpl) {
  LoadTestSpec spec;
  spec.agent_template = std::move(tmpl);
  return spec;
}

TEST(Guardrails, TheDefaultsRefuseIdentityPriorityAndSecretsButNoLoad) {
  const Guardrails g;
  const auto run = compiled();
  EXPECT_FALSE(checkLoadTest(g, {}, run, 1000));
  EXPECT_EQ(*checkLoadTest(g, withTemplate({{"serviceAccountName", "admin"}}), run, 1),
            "allowServiceAccount: spec.agentTemplate.serviceAccountName admin is not allowed; "
            "set by the operator's guardrails");
  EXPECT_EQ(*checkLoadTest(g, withTemplate({{"priorityClassName", "system-node-critical"}}), run, 1),
            "allowPriorityClass: spec.agentTemplate.priorityClassName system-node-critical is not allowed; "
            "set by the operator's guardrails");
  const json env = json::array({{{"name", "PLAIN"}, {"value", "x"}},
                                {{"name", "KEY"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}}}});
  EXPECT_EQ(
      *checkLoadTest(g, withTemplate({{"env", env}}), run, 1),
      "allowSecretEnv: spec.agentTemplate.env[1] KEY from a Secret is not allowed; set by the operator's guardrails");
  Guardrails open;
  open.allow_service_account = open.allow_priority_class = open.allow_secret_env = true;
  EXPECT_FALSE(checkLoadTest(
      open, withTemplate({{"serviceAccountName", "a"}, {"priorityClassName", "p"}, {"env", env}}), run, 1));
}

TEST(Guardrails, ImagesMustStartWithAnAllowedPrefix) {
  Guardrails g;
  g.allowed_images = {"registry.example/herd:", "registry.example/herd@"};
  const auto run = compiled();
  EXPECT_FALSE(checkLoadTest(g, withTemplate({{"image", "registry.example/herd:1.4"}}), run, 1));
  EXPECT_FALSE(checkLoadTest(g, {}, run, 1)) << "the operator's --agent-image is the team's own choice";
  EXPECT_EQ(*checkLoadTest(g, withTemplate({{"image", "registry.example/herd-evil:1"}}), run, 1),
            "allowedImages: spec.agentTemplate.image registry.example/herd-evil:1 is not allowed "
            "(limit: [registry.example/herd:*, registry.example/herd@*]); set by the operator's guardrails");
}

TEST(Guardrails, NamespaceAnnotationsReplaceTheOperatorsRulesAndSayWhereTheyCameFrom) {
  Guardrails base;
  base.limits.max_users = 100;
  base.limits.allowed_hosts = {"*.other.svc"};
  auto g = namespaceGuardrails(base, nsWith({{kAnnotationMaxUsers, "5"},
                                             {kAnnotationAllowedHosts, "*.perf.svc"},
                                             {kAnnotationAllowServiceAccount, "true"},
                                             {kAnnotationMaxDuration, "30s"}}));
  ASSERT_TRUE(g.ok()) << g.error().describe();
  EXPECT_EQ(g->limits.max_users, 5);
  EXPECT_EQ(g->limits.max_duration, 30s);
  EXPECT_TRUE(g->allow_service_account);
  EXPECT_FALSE(g->allow_priority_class);
  EXPECT_EQ(*checkLoadTest(*g, {}, compiled(), 1),
            "maxUsers: 10 users is not allowed (limit: 5 users); set by namespace annotation herd.dev/max-users");
  // "none" lifts a limit; the hosts came from the annotation, so the target passes.
  g = namespaceGuardrails(base, nsWith({{kAnnotationMaxUsers, "none"}, {kAnnotationAllowedHosts, "*.perf.svc"}}));
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->limits.max_users);
  EXPECT_FALSE(checkLoadTest(*g, {}, compiled(), 1));
  // Without annotations: the operator's rules.
  g = namespaceGuardrails(base, json::object());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*checkLoadTest(*g, {}, compiled(), 1),
            "allowedHosts: target http://shop.perf.svc:8080 is not allowed (limit: [*.other.svc]); "
            "set by the operator's guardrails");
}

TEST(Guardrails, AnAnnotationThatDoesNotParseIsAnErrorNamingIt) {
  for (const auto& [key, value] :
       std::vector<std::pair<const char*, const char*>>{{kAnnotationMaxUsers, "lots"},
                                                        {kAnnotationMaxAgents, "0"},
                                                        {kAnnotationMaxDuration, "1 hour"},
                                                        {kAnnotationMaxRate, "-1"},
                                                        {kAnnotationAllowSecretEnv, "yes"}}) {
    auto g = namespaceGuardrails({}, nsWith({{key, value}}));
    ASSERT_FALSE(g.ok()) << key;
    EXPECT_EQ(g.error().where, std::string("namespace annotation ") + key);
  }
}

}  // namespace
}  // namespace herd::controller
