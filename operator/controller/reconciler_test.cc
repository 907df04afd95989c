// The reconciler's passes over an in-memory apiserver (fake_apiserver.h): what a
// run reads and compiles, and the state it moves through, without a cluster.
// The same life against the real apiserver is tests/cluster/operator_test.cc.
#include "operator/controller/reconciler.h"

#include <gtest/gtest.h>

#include <set>

#include "common/scenario/run.h"
#include "operator/controller/fake_apiserver.h"

namespace herd::controller {
namespace {

using json = Json;

constexpr const char* kNs = "perf";
constexpr const char* kLoadTestPath = "/apis/herd.dev/v1alpha1/namespaces/perf/loadtests/shop";
constexpr const char* kConfigMapPath = "/api/v1/namespaces/perf/configmaps/shop-scenario";
constexpr const char* kPods = "/api/v1/namespaces/perf/pods";

std::string scenarioWithUsers(int users) {
  return "name: shop\ntarget: http://127.0.0.1:8080\nusers: [{name: u, steps: [{get: /}]}]\n"
         "load: {users: " +
         std::to_string(users) + ", duration: 1m}\n";
}

// Records what the reconciler asks; the progress is whatever the test scripts.
class ScriptedCoordinator final : public RunCoordinator {
 public:
  Status startRun(const RunRequest& request) override {
    requests.emplace(request.run_id, request);
    return Ok{};
  }
  std::optional<RunProgress> progress(const std::string& run_id) override {
    auto it = scripted.find(run_id);
    if (it != scripted.end()) return it->second;
    if (requests.count(run_id)) return RunProgress{};
    return std::nullopt;
  }
  Status setExpectedAgents(const std::string& run_id, int agents, const std::vector<std::string>&) override {
    expected[run_id] = agents;
    return Ok{};
  }
  void stopRun(const std::string&, const std::string&) override {}
  void abortRun(const std::string& run_id, const std::string&) override { aborted.push_back(run_id); }
  void forget(const std::string& run_id) override { scripted.erase(run_id); }
  std::string agentEndpoint() const override { return "127.0.0.1:1"; }

  std::map<std::string, RunRequest> requests;
  std::map<std::string, RunProgress> scripted;
  std::map<std::string, int> expected;
  std::vector<std::string> aborted;
};

class ReconcilerPasses : public ::testing::Test {
 protected:
  ReconcilerPasses()
      : api_(new testing::FakeApiServer),
        client_(std::unique_ptr<k8s::Transport>(api_)),
        events_(client_, "test"),
        reconciler_(
            client_, events_, coordinator_, ReconcilerSettings{}, [this] { return now_; }, 7) {}

  void createLoadTest(json spec) {
    api_->put(
        kLoadTestPath,
        json{{"apiVersion", "herd.dev/v1alpha1"},
             {"kind", "LoadTest"},
             {"metadata",
              {{"name", "shop"}, {"namespace", kNs}, {"generation", 1}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
             {"spec", std::move(spec)}});
  }
  void createConfigMap(const std::string& text) {
    api_->put(kConfigMapPath, json{{"apiVersion", "v1"},
                                   {"kind", "ConfigMap"},
                                   {"metadata", {{"name", "shop-scenario"}, {"namespace", kNs}}},
                                   {"data", {{"scenario.yaml", text}}}});
  }
  json status() { return api_->object(kLoadTestPath)["status"]; }
  Result<ReconcileResult> pass() {
    now_ += std::chrono::seconds(2);
    return reconciler_.reconcile(std::string(kNs) + "/shop");
  }
  // Every agent pod Ready, as a kubelet would report.
  void readyPods() {
    for (auto pod : api_->list(kPods)) {
      pod["status"] = {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}};
      api_->put(std::string(kPods) + "/" + pod["metadata"]["name"].get<std::string>(), pod);
    }
  }
  std::string conditionMessage(const std::string& type) {
    const json st = status();  // a range-for would not keep a temporary alive
    for (const auto& c : st["conditions"])
      if (c["type"] == type) return c.value("message", "");
    return "";
  }
  bool condition(const std::string& type, bool value, const std::string& reason) {
    const json st = status();
    for (const auto& c : st["conditions"])
      if (c["type"] == type) return c["status"] == (value ? "True" : "False") && c["reason"] == reason;
    return false;
  }

  testing::FakeApiServer* api_;
  k8s::Client client_;
  k8s::EventRecorder events_;
  ScriptedCoordinator coordinator_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01
  Reconciler reconciler_;
};

TEST_F(ReconcilerPasses, ARunReadsItsConfigMapAndCompilesItsScenarioOnceHoweverManyPasses) {
  createConfigMap(scenarioWithUsers(10));
  createLoadTest({{"scenario", {{"configMapRef", {{"name", "shop-scenario"}}}}}, {"agents", 2}});
  const auto compiles = scenario::compileRunCount();
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Starting");
  const std::string run = status()["runId"];
  readyPods();
  coordinator_.scripted[run].state = RunProgress::State::kRunning;
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Running");
  EXPECT_EQ(scenario::compileRunCount() - compiles, 1u);
  EXPECT_EQ(api_->count("GET", kConfigMapPath), 1);

  // What the run was started from is in the status.
  const json plan = status()["plan"];
  EXPECT_EQ(plan["users"], 10);
  EXPECT_EQ(plan["duration"], "1m");
  EXPECT_EQ(plan["scenarioSource"], "configmap/shop-scenario/scenario.yaml");
  EXPECT_EQ(plan["scenarioSha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(status()["agents"]["desired"], 2);
  ASSERT_EQ(coordinator_.requests.size(), 1u);
  EXPECT_EQ(coordinator_.requests.at(run).run->total_users, 10);
}

TEST_F(ReconcilerPasses, AConfigMapEditMidRunLeavesTheRunAsItStartedAndAppliesToTheNextRun) {
  // Eight agents asked for, two users: two agents (an agent without users would idle).
  createConfigMap(scenarioWithUsers(2));
  createLoadTest({{"scenario", {{"configMapRef", {{"name", "shop-scenario"}}}}}, {"agents", 8}});
  ASSERT_TRUE(pass().ok());
  const std::string run = status()["runId"];
  const std::string sha = status()["plan"]["scenarioSha256"];
  readyPods();
  coordinator_.scripted[run].state = RunProgress::State::kRunning;
  ASSERT_TRUE(pass().ok());

  createConfigMap(scenarioWithUsers(40));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["runId"], run);
  EXPECT_EQ(status()["plan"]["users"], 2);
  EXPECT_EQ(status()["plan"]["scenarioSha256"], sha);
  EXPECT_EQ(status()["agents"]["desired"], 2);
  EXPECT_EQ(api_->list(kPods).size(), 2u);
  EXPECT_EQ(coordinator_.requests.at(run).run->plan.load.users, 2);
  EXPECT_EQ(coordinator_.expected.at(run), 2);
  EXPECT_NE(conditionMessage("Validated").find("edits apply to the next run"), std::string::npos)
      << conditionMessage("Validated");

  // The next run (a new value of the run annotation) reads the edit.
  auto lt = api_->object(kLoadTestPath);
  lt["metadata"]["annotations"] = {{kAnnotationRun, "again"}};
  api_->put(kLoadTestPath, lt);
  ASSERT_TRUE(pass().ok());
  EXPECT_NE(status()["runId"], run);
  EXPECT_EQ(status()["plan"]["users"], 40);
  EXPECT_NE(status()["plan"]["scenarioSha256"], sha);
  EXPECT_EQ(status()["agents"]["desired"], 8);
  EXPECT_EQ(api_->count("GET", kConfigMapPath), 2);
}

TEST_F(ReconcilerPasses, AnOperatorThatDidNotStartTheRunRecompilesTheTextTheRunStartedWith) {
  createConfigMap(scenarioWithUsers(10));
  createLoadTest({{"scenario", {{"configMapRef", {{"name", "shop-scenario"}}}}}, {"agents", 2}});
  ASSERT_TRUE(pass().ok());
  const std::string run = status()["runId"];
  createConfigMap(scenarioWithUsers(40));  // edited before the restart

  ScriptedCoordinator fresh;
  Reconciler restarted(
      client_, events_, fresh, ReconcilerSettings{}, [this] { return now_; }, 8);
  ASSERT_TRUE(restarted.reconcile(std::string(kNs) + "/shop").ok());
  ASSERT_EQ(fresh.requests.count(run), 1u);
  EXPECT_EQ(fresh.requests.at(run).run->plan.load.users, 10);
  EXPECT_EQ(fresh.requests.at(run).scenario_text, scenarioWithUsers(10));
  EXPECT_EQ(status()["plan"]["users"], 10);
}

// Run tokens come from the kernel's CSPRNG, run ids from the reconciler's own
// seeded generator: many runs give 64-hex-digit tokens that never repeat, and
// a reconciler started with the same seed gives the same run ids with other
// tokens, so a published run id says nothing about any token.
TEST_F(ReconcilerPasses, TokensAre256RandomBitsThatTheRunIdDoesNotDetermine) {
  createLoadTest({{"scenario", {{"inline", scenarioWithUsers(1)}}}});
  std::vector<std::string> run_ids;
  std::set<std::string> tokens;
  for (int i = 0; i < 50; ++i) {
    auto lt = api_->object(kLoadTestPath);
    lt["metadata"]["annotations"] = {{kAnnotationRun, "r" + std::to_string(i)}};
    api_->put(kLoadTestPath, lt);
    ASSERT_TRUE(pass().ok());
    const std::string run = status()["runId"];
    ASSERT_EQ(coordinator_.requests.count(run), 1u) << run;
    const auto& token = coordinator_.requests.at(run).token;
    ASSERT_EQ(token.size(), 64u) << token;
    ASSERT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    ASSERT_TRUE(tokens.insert(token).second) << "two runs share token " << token;
    EXPECT_EQ(status().dump().find(token), std::string::npos) << "the status shows the token";
    EXPECT_FALSE(api_->object("/api/v1/namespaces/perf/secrets/" + tokenSecretName(run)).is_null());
    run_ids.push_back(run);
  }

  testing::FakeApiServer* api = new testing::FakeApiServer;
  k8s::Client client{std::unique_ptr<k8s::Transport>(api)};
  k8s::EventRecorder events(client, "test");
  ScriptedCoordinator same_seed;
  Reconciler twin(
      client, events, same_seed, ReconcilerSettings{}, [this] { return now_; }, 7);
  api->put(kLoadTestPath, api_->object(kLoadTestPath));
  for (int i = 0; i < 5; ++i) {
    auto lt = api->object(kLoadTestPath);
    lt["metadata"]["annotations"] = {{kAnnotationRun, "r" + std::to_string(i)}};
    lt.erase("status");
    api->put(kLoadTestPath, lt);
    ASSERT_TRUE(twin.reconcile(std::string(kNs) + "/shop").ok());
    const std::string run = api->object(kLoadTestPath)["status"]["runId"];
    EXPECT_EQ(run, run_ids[static_cast<size_t>(i)]) << "the same seed gives the same run ids";
    ASSERT_EQ(same_seed.requests.count(run), 1u);
    EXPECT_EQ(tokens.count(same_seed.requests.at(run).token), 0u) << "a token followed from the seed";
  }
}

TEST_F(ReconcilerPasses, RunLevelRulesEndTheRunAsInvalidScenarioBeforeAnyPod) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"t.yaml:5:14: thresholds[0]: threshold \"http.latency p95 <<< 5ms\": unknown comparison",
       {{"inline", scenarioWithUsers(1) + "thresholds: [\"http.latency p95 <<< 5ms\"]\n"}}},
      {"perf/shop:spec.scenario.inline:4:7: load.maxUsers: 2 users cannot be spread over 3 agents (spec.agents)",
       {{"inline",
         "name: o\ntarget: http://127.0.0.1:8080\nusers: [{name: u, steps: [{get: /}]}]\n"
         "load: {arrivalRate: 5, duration: 2s, maxUsers: 2}\n"}}},
  };
  for (const auto& [expected, scenario] : cases) {
    createLoadTest({{"scenario", scenario}, {"agents", 3}});
    ASSERT_TRUE(pass().ok());
    EXPECT_EQ(status()["phase"], "Failed");
    EXPECT_EQ(status()["reason"], "InvalidScenario");
    EXPECT_TRUE(condition("Validated", false, "InvalidScenario"));
    const auto message = conditionMessage("Validated");
    EXPECT_NE(message.find(expected.substr(expected.find(':'))), std::string::npos) << message;
    EXPECT_TRUE(api_->list(kPods).empty());
    EXPECT_TRUE(coordinator_.requests.empty());
  }
}

// The state transitions of one run, pass by pass.

TEST_F(ReconcilerPasses, StartingRunningSucceededWithTheCoordinatorsVerdict) {
  createLoadTest({{"scenario", {{"inline", scenarioWithUsers(4)}}}, {"agents", 2}});
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Starting");
  EXPECT_TRUE(condition("AgentsReady", false, "Waiting"));
  EXPECT_EQ(api_->list(kPods).size(), 2u);
  const std::string run = status()["runId"];
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Starting");  // the coordinator has not started the load
  readyPods();
  coordinator_.scripted[run].state = RunProgress::State::kRunning;
  coordinator_.scripted[run].connected = 2;
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Running");
  EXPECT_EQ(status()["reason"], "RunStarted");
  EXPECT_TRUE(condition("AgentsReady", true, "AllAgentsReady"));
  EXPECT_TRUE(condition("Running", true, "LoadRunning"));
  coordinator_.scripted[run].state = RunProgress::State::kStopping;
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Stopping");
  auto& done = coordinator_.scripted[run];
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Succeeded");
  EXPECT_EQ(status()["verdict"], "Passed");
  EXPECT_TRUE(condition("Complete", true, "ThresholdsPassed"));
  EXPECT_EQ(status()["history"].size(), 1u);
  // Nothing more happens to a finished run.
  const auto before = status();
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status(), before);
}

TEST_F(ReconcilerPasses, AMissingConfigMapKeepsTheRunPendingUntilItAppears) {
  createLoadTest({{"scenario", {{"configMapRef", {{"name", "shop-scenario"}}}}}, {"agents", 2}});
  auto waiting = pass();
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->requeue_after, ReconcilerSettings{}.missing_scenario_retry);
  EXPECT_EQ(status()["phase"], "Pending");
  EXPECT_EQ(status()["reason"], "ScenarioNotFound");
  EXPECT_TRUE(condition("Validated", false, "ScenarioNotFound"));
  EXPECT_FALSE(status().contains("runId"));
  EXPECT_TRUE(api_->list(kPods).empty());
  createConfigMap(scenarioWithUsers(4));
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Starting");
  EXPECT_TRUE(condition("Validated", true, "Compiled"));
  EXPECT_EQ(api_->list(kPods).size(), 2u);
}

TEST_F(ReconcilerPasses, ASlowerRunFailsAsARegressionAndItsPodsGoAfterTheTtl) {
  createLoadTest({{"scenario", {{"inline", scenarioWithUsers(2)}}},
                  {"agents", 1},
                  {"ttlSecondsAfterFinished", 10},
                  {"regression", {{"maxP95IncreasePercent", 10}}}});
  auto finish = [this](double p95_ms) {
    const std::string run = status()["runId"];
    readyPods();
    auto& done = coordinator_.scripted[run];
    done.state = RunProgress::State::kFinished;
    done.verdict = RunProgress::Verdict::kPassed;
    done.totals.requests = 100;
    done.totals.p95_ms = p95_ms;
    return pass();
  };
  ASSERT_TRUE(pass().ok());
  ASSERT_TRUE(finish(100).ok());
  EXPECT_EQ(status()["verdict"], "Passed");
  // A new run on the annotation; its p95 is twice the last passing run's.
  json lt = api_->object(kLoadTestPath);
  lt["metadata"]["annotations"] = {{"herd.dev/run", "again"}};
  api_->put(kLoadTestPath, lt);
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Starting");
  EXPECT_EQ(status()["runTrigger"], "again");
  auto ended = finish(200);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(status()["phase"], "Failed");
  EXPECT_EQ(status()["verdict"], "Failed");
  EXPECT_EQ(status()["reason"], "Regression");
  EXPECT_TRUE(condition("ThresholdsPassed", false, "Regression"));
  ASSERT_EQ(status()["history"].size(), 2u);
  EXPECT_EQ(status()["history"][0]["reason"], "Regression");
  EXPECT_EQ(status()["history"][1]["verdict"], "Passed");
  // Before the TTL the run's pods stay (their logs); after it they go, once.
  const std::string run = status()["runId"];
  auto run_pods = [&] {
    int n = 0;
    for (const auto& pod : api_->list(kPods)) n += pod["metadata"]["name"].get<std::string>().rfind(run, 0) == 0;
    return n;
  };
  ASSERT_TRUE(ended->requeue_after.has_value());
  EXPECT_EQ(run_pods(), 1);
  now_ += std::chrono::seconds(10);
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(run_pods(), 0);
  EXPECT_EQ(status()["cleanedUp"], true);
  const auto before = status();
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status(), before);
}

// spec.baseline: the second run's relative threshold is bounded by what the first
// (passing) run stored, found through status.history when the run starts and
// kept in status.baseline, so an operator that takes the run over reads the same
// run's numbers, from its history entry once its summary ConfigMap is gone.
TEST_F(ReconcilerPasses, ARelativeThresholdComparesWithTheLatestPassingRunsStoredResults) {
  const std::string expression = "http.latency p95 < baseline * 1.10";
  createLoadTest({{"scenario", {{"inline", scenarioWithUsers(2)}}}, {"agents", 1}, {"thresholds", {expression}}});
  ASSERT_TRUE(pass().ok());
  const std::string first = status()["runId"];
  EXPECT_TRUE(condition("BaselineFound", false, "NoBaseline"));
  EXPECT_NE(conditionMessage("BaselineFound").find("no passing run in the history of LoadTest perf/shop yet"),
            std::string::npos)
      << conditionMessage("BaselineFound");
  const auto& unjudged = coordinator_.requests.at(first).run->thresholds.back();
  EXPECT_EQ(unjudged.baseline_value, std::nullopt);
  EXPECT_NE(unjudged.baseline_missing.find("no passing run"), std::string::npos);

  readyPods();
  auto& done = coordinator_.scripted[first];
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  done.totals.p95_ms = 9;
  ThresholdOutcome measured{expression, true, 8.0};
  measured.skipped = "no passing run yet";
  done.thresholds = {measured};
  done.summary_json = json{{"runId", first},
                           {"totals", {{"requests", 10}, {"failures", 0}, {"rps", 5.0}, {"latency", {{"p95", 9.0}}}}},
                           {"thresholds", {{{"expression", expression}, {"passed", true}, {"value", 8.0}}}}}
                          .dump();
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["verdict"], "Passed");
  EXPECT_EQ(status()["thresholds"][0]["reason"], "NoBaseline");
  EXPECT_EQ(status()["history"][0]["thresholds"][0]["value"], 8.0);

  json lt = api_->object(kLoadTestPath);
  lt["metadata"]["annotations"] = {{"herd.dev/run", "again"}};
  api_->put(kLoadTestPath, lt);
  ASSERT_TRUE(pass().ok());
  const std::string second = status()["runId"];
  ASSERT_NE(second, first);
  EXPECT_EQ(status()["baseline"],
            json({{"loadTest", "shop"}, {"runId", first}, {"source", "configmap/" + first + "-summary"}}));
  EXPECT_TRUE(condition("BaselineFound", true, "Found"));
  const auto& judged = coordinator_.requests.at(second).run->thresholds.back();
  EXPECT_EQ(judged.baseline_value, 8.0);  // the baseline's own threshold value, not its totals' 9
  EXPECT_EQ(judged.baseline_run, first);
  EXPECT_NEAR(judged.bound, 8.8, 1e-9);

  // Another operator takes the run over after the summary ConfigMap went: the
  // same run, from its history entry.
  ASSERT_TRUE(client_.remove(k8s::resources::kConfigMaps, kNs, first + "-summary").ok());
  ScriptedCoordinator fresh;
  Reconciler restarted(
      client_, events_, fresh, ReconcilerSettings{}, [this] { return now_; }, 8);
  ASSERT_TRUE(restarted.reconcile(std::string(kNs) + "/shop").ok());
  ASSERT_EQ(fresh.requests.count(second), 1u);
  const auto& again = fresh.requests.at(second).run->thresholds.back();
  EXPECT_EQ(again.baseline_value, 8.0);
  EXPECT_EQ(again.baseline_run, first);

  // The second run fails on it: both values in status and history.
  readyPods();
  auto& slow = fresh.scripted[second];
  slow.state = RunProgress::State::kFinished;
  slow.verdict = RunProgress::Verdict::kFailed;
  ThresholdOutcome failed{expression, false, 30.0};
  failed.baseline = 8.0;
  failed.bound = 8.8;
  failed.baseline_run = first;
  slow.thresholds = {failed};
  ASSERT_TRUE(restarted.reconcile(std::string(kNs) + "/shop").ok());
  EXPECT_EQ(status()["verdict"], "Failed");
  const json want = {{"expression", expression}, {"passed", false}, {"value", 30.0},
                     {"baseline", 8.0},          {"bound", 8.8},    {"baselineRunId", first}};
  EXPECT_EQ(status()["thresholds"][0], want);
  EXPECT_EQ(status()["history"][0]["thresholds"][0], want);
  EXPECT_EQ(status()["history"][0]["baseline"], json({{"loadTest", "shop"}, {"runId", first}}));
}

TEST_F(ReconcilerPasses, ABaselineOfAnotherLoadTestThatDoesNotExistSkipsTheRelativeThresholds) {
  createLoadTest({{"scenario", {{"inline", scenarioWithUsers(2)}}},
                  {"agents", 1},
                  {"thresholds", {"http.rps > baseline * 0.9"}},
                  {"baseline", {{"run", "latestPassing"}, {"loadTest", "reference"}}}});
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Starting");  // the run goes, judged on its other thresholds
  EXPECT_EQ(status()["baseline"]["message"], "LoadTest perf/reference not found");
  EXPECT_TRUE(condition("BaselineFound", false, "NoBaseline"));
}

TEST_F(ReconcilerPasses, AgentsNotReadyInTimeEndTheRunAndDeleteItsPods) {
  createLoadTest(
      {{"scenario", {{"inline", scenarioWithUsers(4)}}}, {"agents", 2}, {"timeouts", {{"agentsReady", "3s"}}}});
  ASSERT_TRUE(pass().ok());
  ASSERT_TRUE(pass().ok());  // 2 s after the start
  EXPECT_EQ(status()["phase"], "Starting");
  ASSERT_TRUE(pass().ok());  // 4 s
  EXPECT_EQ(status()["phase"], "Failed");
  EXPECT_EQ(status()["reason"], "AgentsNotReady");
  EXPECT_TRUE(api_->list(kPods).empty());
  EXPECT_EQ(coordinator_.aborted.size(), 1u);
}

TEST_F(ReconcilerPasses, ALostAgentUnderAbortEndsTheRunAndOneUnderRebalanceIsReplaced) {
  for (const char* policy : {"Rebalance", "Abort"}) {
    createLoadTest({{"scenario", {{"inline", scenarioWithUsers(4)}}}, {"agents", 2}, {"agentLossPolicy", policy}});
    ASSERT_TRUE(pass().ok());
    const std::string run = status()["runId"];
    readyPods();
    coordinator_.scripted[run].state = RunProgress::State::kRunning;
    ASSERT_TRUE(pass().ok());
    ASSERT_EQ(status()["phase"], "Running");
    const std::string victim = std::string(kPods) + "/" + agentPodName(run, 1);
    auto pod = api_->object(victim);
    pod["status"] = {{"phase", "Failed"}, {"reason", "Error"}, {"message", "killed"}};
    api_->put(victim, pod);
    ASSERT_TRUE(pass().ok());
    if (std::string(policy) == "Abort") {
      EXPECT_EQ(status()["phase"], "Failed");
      EXPECT_EQ(status()["reason"], "AgentLost");
      continue;
    }
    EXPECT_EQ(status()["phase"], "Running");
    EXPECT_TRUE(condition("Degraded", true, "AgentLost"));
    EXPECT_EQ(status()["lostAgents"], json::array({agentPodName(run, 1)}));
    ASSERT_TRUE(pass().ok());  // the replacement, same index
    ASSERT_FALSE(api_->object(victim).is_null());
    EXPECT_FALSE(api_->object(victim).contains("status"));  // a new pod, not the failed one
  }
}

TEST_F(ReconcilerPasses, ARunThatDoesNotEndInItsDurationPlusTheMarginTimesOut) {
  createLoadTest({{"scenario", {{"inline", scenarioWithUsers(1)}}}, {"timeouts", {{"run", "10s"}}}});
  ASSERT_TRUE(pass().ok());
  const std::string run = status()["runId"];
  readyPods();
  coordinator_.scripted[run].state = RunProgress::State::kRunning;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Running");
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status()["phase"], "Failed");
  EXPECT_EQ(status()["reason"], "RunTimeout");
}

}  // namespace
}  // namespace herd::controller
