// The guardrails against the real apiserver (docs/security.md#guardrails): each rule
// refuses a LoadTest that breaks it (Validated=False, reason PolicyViolation, a
// message naming the rule and the value, an Event, no pod), a LoadTest within every
// limit runs, and the Namespace's herd.dev/* annotations replace the operator's
// rules. One operator and one namespace serve every case, so the whole test costs
// about one run's start.
#include "operator/controller/policy.h"
#include "operator_suite.h"

namespace herd::k8s::testing {
namespace {

using namespace std::chrono_literals;

class OperatorPolicy : public Operator {
 protected:
  static controller::Guardrails guardrails() {
    controller::Guardrails g;
    g.limits.max_users = 10;
    g.limits.max_agents = 2;
    g.limits.max_duration = 10s;
    g.limits.max_rate = 20;
    g.limits.allowed_hosts = {"127.0.0.1", "*.perf.test"};
    g.allowed_images = {"localhost/herd:"};
    return g;
  }

  static json scenarioSpec(const std::string& scenario, json extra = json::object()) {
    json spec{{"scenario", {{"inline", scenario}}}, {"agents", 1}};
    spec.update(extra);
    return spec;
  }

  json loadTestPods(const std::string& name) {
    ListOptions opts;
    opts.label_selector = std::string(controller::kLabelLoadTest) + "=" + name;
    auto listed = client_->listAll(resources::kPods, ns(), opts);
    return listed.ok() ? (*listed)["items"] : json::array({"list failed"});
  }

  // Refused with PolicyViolation, the message naming `rule` and `value`, an Event.
  void expectRefused(const std::string& name, const std::string& rule, const std::string& value) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(waitStatus(name, [](const json& s) { return getString(s, "reason") == "PolicyViolation"; }));
    const auto st = status(name);
    EXPECT_EQ(getString(st, "phase"), "Failed");
    EXPECT_TRUE(condition(st, "Validated", false));
    const auto message = getString(st, "message");
    EXPECT_EQ(message.rfind(rule + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(value), std::string::npos) << message;
    EXPECT_TRUE(eventually(10s, [&] { return has(eventReasons(name), "PolicyViolation"); }));
  }

  void expectRuns(const std::string& name, int agents) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(waitStatus(name, [](const json& s) { return !getString(s, "runId").empty(); }));
    EXPECT_TRUE(condition(status(name), "Validated", true)) << status(name).dump(1);
    EXPECT_TRUE(eventually(30s, [&] { return static_cast<int>(loadTestPods(name).size()) == agents; }));
  }

  void annotateNamespace(json annotations) {
    auto patched = client_->patch(resources::kNamespaces, "", ns(), {{"metadata", {{"annotations", annotations}}}});
    ASSERT_TRUE(patched.ok()) << patched.error().describe();
  }
};

constexpr const char* kOpen = R"(name: open
target: http://127.0.0.1:8080
users: [{name: u, steps: [{get: /}, {get: "http://CDN:9000/logo.png"}]}]
load: {arrivalRate: RATE, duration: 5s, maxUsers: 4}
)";

// The open model at `rate`, its second URL on `cdn`.
std::string openAt(int rate, const std::string& cdn = "cdn.perf.test") {
  std::string text = kOpen;
  text.replace(text.find("CDN"), 3, cdn);
  return text.replace(text.find("RATE"), 4, std::to_string(rate));
}

TEST_F(OperatorPolicy, EachGuardrailRefusesWithoutPodsAndAllowedValuesRun) {
  harness_ = std::make_unique<OperatorHarness>(*client_, ns(), coord, sleepingAgent(), guardrails());
  const std::string scenario = kScenario;  // 10 users for 5s at http://127.0.0.1:8080
  const json secret_env = json::array(
      {{{"name", "API_KEY"}, {"valueFrom", {{"secretKeyRef", {{"name", "api"}, {"key", "key"}}}}}}});
  // name, spec, rule, value the message names
  const std::vector<std::tuple<std::string, json, std::string, std::string>> refused{
      {"users", scenarioSpec(scenario, {{"load", {{"users", 11}}}}), "maxUsers", "11 users"},
      {"agents", scenarioSpec(scenario, {{"agents", 3}}), "maxAgents", "3 agents"},
      {"duration", scenarioSpec(scenario, {{"load", {{"duration", "11s"}}}}), "maxDuration", "duration 11s"},
      {"rate", scenarioSpec(openAt(30)), "maxRate", "arrival rate 30/s"},
      {"target", scenarioSpec(scenario, {{"target", "http://10.1.2.3:80"}}), "allowedHosts", "http://10.1.2.3:80"},
      {"second-url", scenarioSpec(openAt(5, "cdn.other.test")), "allowedHosts", "http://cdn.other.test:9000"},
      {"image", scenarioSpec(scenario, {{"agentTemplate", {{"image", "evil.example/herd:1"}}}}), "allowedImages",
       "evil.example/herd:1"},
      {"account", scenarioSpec(scenario, {{"agentTemplate", {{"serviceAccountName", "default"}}}}),
       "allowServiceAccount", "serviceAccountName default"},
      {"priority", scenarioSpec(scenario, {{"agentTemplate", {{"priorityClassName", "high"}}}}), "allowPriorityClass",
       "priorityClassName high"},
      {"secret-env", scenarioSpec(scenario, {{"agentTemplate", {{"env", secret_env}}}}), "allowSecretEnv",
       "env[0] API_KEY"},
  };
  for (const auto& [name, spec, rule, value] : refused) create(name, spec);
  // At every limit exactly, with an allowed image and a second host: runs.
  create("within", scenarioSpec(scenario, {{"agents", 2},
                                           {"load", {{"users", 10}, {"duration", "10s"}}},
                                           {"agentTemplate", {{"image", "localhost/herd:test"}}}}));
  create("open-within", scenarioSpec(openAt(20)));
  expectRuns("within", 2);
  expectRuns("open-within", 1);
  for (const auto& [name, spec, rule, value] : refused) {
    expectRefused(name, rule, value);
    EXPECT_EQ(loadTestPods(name).size(), 0u) << name;
  }
  for (const auto& request : coord.requests())
    EXPECT_TRUE(request.loadtest == ns() + "/within" || request.loadtest == ns() + "/open-within")
        << request.loadtest << " reached the coordinator";
  // kubectl scale grows a live run without a new start: maxAgents holds there too.
  auto scaled = client_->patch(kLoadTests, ns(), "within", {{"spec", {{"agents", 3}}}});
  ASSERT_TRUE(scaled.ok()) << scaled.error().describe();
  EXPECT_TRUE(waitStatus("within", [](const json& s) {
    return getString(s, "scaleRefused").find("keeps 2 agent(s): maxAgents: 3 agents is not allowed") !=
           std::string::npos;
  }));
  EXPECT_EQ(loadTestPods("within").size(), 2u);

  // The Namespace's annotations replace the operator's rules for its LoadTests.
  json secret{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", "api"}, {"namespace", ns()}}},
              {"stringData", {{"key", "k"}}}};
  ASSERT_TRUE(client_->create(resources::kSecrets, ns(), secret).ok());
  annotateNamespace({{controller::kAnnotationMaxUsers, "5"},
                     {controller::kAnnotationAllowServiceAccount, "true"},
                     {controller::kAnnotationAllowSecretEnv, "true"}});
  create("ns-users", scenarioSpec(scenario, {{"load", {{"users", 6}}}}));
  create("ns-allowed",
         scenarioSpec(scenario, {{"load", {{"users", 5}}},
                                 {"agentTemplate", {{"serviceAccountName", "default"}, {"env", secret_env}}}}));
  expectRefused("ns-users", "maxUsers",
                "6 users is not allowed (limit: 5 users); set by namespace annotation "
                "herd.dev/max-users");
  EXPECT_EQ(loadTestPods("ns-users").size(), 0u);
  expectRuns("ns-allowed", 1);
  const auto pods = loadTestPods("ns-allowed");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(getString(getObject(pods[0], "spec"), "serviceAccountName"), "default");

  // An annotation that does not parse refuses rather than running unguarded.
  annotateNamespace({{controller::kAnnotationMaxAgents, "many"}});
  create("ns-bad", scenarioSpec(scenario));
  expectRefused("ns-bad", "namespace annotation herd.dev/max-agents", "\"many\"");
  EXPECT_EQ(loadTestPods("ns-bad").size(), 0u);
}

}  // namespace
}  // namespace herd::k8s::testing
