// The LoadTest reconciler against the real control plane: a run's life, validation,
// agent loss, timeouts, scaling, re-runs and adoption (fixture: operator_suite.h).
#include "common/report/compress.h"
#include "operator_suite.h"

namespace herd::k8s::testing {
namespace {

TEST_F(Operator, RunGoesFromStartingToSucceededWithStatusHistoryEventsAndTtl) {
  startOperator(coord);
  auto spec = basicSpec(2);
  spec["ttlSecondsAfterFinished"] = 2;
  spec["agentTemplate"] = {{"labels", {{"team", "perf"}}}, {"resources", {{"limits", {{"cpu", "1"}}}}}};
  create("shop", spec);
  ASSERT_TRUE(waitStatus("shop", [](const json& s) { return k8s::getInt(getObject(s, "agents"), "ready") == 2; }));
  auto st = status("shop");
  const auto run = getString(st, "runId");
  EXPECT_EQ(getString(st, "phase"), "Starting");
  EXPECT_TRUE(condition(st, "Validated", true));
  EXPECT_EQ(getString(st, "selector"), "herd.dev/run=" + run);

  // The pods: owned by the LoadTest, labelled, restricted, with the template.
  auto ps = pods(run);
  ASSERT_EQ(ps.size(), 2u);
  const auto& pod = ps[0];
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "LoadTest");
  EXPECT_EQ(pod["metadata"]["labels"]["team"], "perf");
  EXPECT_EQ(pod["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(pod["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"], json({"ALL"}));
  EXPECT_EQ(pod["spec"]["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["spec"]["containers"][0]["resources"]["limits"]["cpu"], "1");

  // The coordinator got the run with the Secret's token and 2 expected agents.
  auto reqs = coord.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].run_id, run);
  EXPECT_EQ(reqs[0].expected_agents, 2);
  EXPECT_EQ(reqs[0].token.size(), 64u);  // 256 bits in hex
  auto secret = client_->get(resources::kSecrets, ns(), controller::tokenSecretName(run));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(*report::base64Decode(getString((*secret)["data"], "token")), reqs[0].token);

  coord.script(run, running(2));
  ASSERT_TRUE(waitStatus("shop", [](const json& s) {
    return getString(s, "phase") == "Running" && condition(s, "Running", true) && condition(s, "AgentsReady", true);
  }));
  EXPECT_EQ(getObject(status("shop"), "totals")["requests"], 500);

  auto done = running(2);
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  done.thresholds = {{"http.failures rate < 2%", true, 0.01}};
  done.summary_json = R"({"version": 1, "verdict": "passed"})";
  coord.script(run, done);
  ASSERT_TRUE(waitStatus("shop", [](const json& s) { return getString(s, "phase") == "Succeeded"; }));
  st = status("shop");
  EXPECT_EQ(getString(st, "verdict"), "Passed");
  EXPECT_TRUE(condition(st, "Complete", true));
  EXPECT_TRUE(condition(st, "ThresholdsPassed", true));
  EXPECT_TRUE(condition(st, "TotalsComplete", true));  // nothing known to be missing: plain Passed
  EXPECT_FALSE(getString(st, "completionTime").empty());
  ASSERT_EQ(st["history"].size(), 1u);
  EXPECT_EQ(st["history"][0]["runId"], run);
  EXPECT_EQ(st["history"][0]["totals"]["failures"], 5);
  auto summary = client_->get(resources::kConfigMaps, ns(), controller::summaryConfigMapName(run));
  ASSERT_TRUE(summary.ok());
  EXPECT_NE(getString((*summary)["data"], "summary.json").find("\"passed\""), std::string::npos);
  std::string out;
  EXPECT_EQ(kubectl("wait --for=condition=Complete --timeout=5s -n " + ns() + " lt/shop", &out), 0) << out;

  // ttlSecondsAfterFinished: pods and Secret go, the status and summary stay.
  ASSERT_TRUE(waitStatus("shop", [](const json& s) { return s.contains("cleanedUp") && s["cleanedUp"] == true; }));
  EXPECT_TRUE(eventually(seconds(10), [&] { return pods(run).empty(); }));
  EXPECT_TRUE(client_->get(resources::kSecrets, ns(), controller::tokenSecretName(run)).error().isNotFound());
  EXPECT_TRUE(client_->get(resources::kConfigMaps, ns(), controller::summaryConfigMapName(run)).ok());
  EXPECT_EQ(getString(status("shop"), "verdict"), "Passed");
  for (const char* r : {"RunStarting", "RunStarted", "RunSucceeded", "CleanedUp"})
    EXPECT_TRUE(eventually(seconds(10), [&] { return has(eventReasons("shop"), r); })) << r;
  EXPECT_EQ(kubectl("get lt -n " + ns(), &out), 0);
  EXPECT_NE(out.find("Succeeded"), std::string::npos) << out;
  EXPECT_NE(out.find("Passed"), std::string::npos) << out;
}

TEST_F(Operator, InvalidScenarioGivesValidatedFalseWithLineAndColumnAndNoPods) {
  startOperator(coord);
  create("typo", {{"scenario",
                   {{"inline", "name: typo\ntarget: http://127.0.0.1:8080\nusers:\n  - name: u\n    stepz: []\n"}}}});
  ASSERT_TRUE(waitStatus("typo", [](const json& s) { return condition(s, "Validated", false); }));
  auto st = status("typo");
  std::string message;
  for (const auto& c : st["conditions"])
    if (c["type"] == "Validated") message = c["message"];
  EXPECT_NE(message.find(":5:5: users[0].stepz: unknown key"), std::string::npos) << message;
  EXPECT_EQ(getString(st, "phase"), "Failed");
  EXPECT_TRUE(condition(st, "Complete", true));
  EXPECT_EQ(coord.startCalls(), 0);
  ListOptions opts;
  opts.label_selector = "herd.dev/loadtest=typo";
  EXPECT_TRUE((*client_->listAll(resources::kPods, ns(), opts))["items"].empty());
  EXPECT_TRUE((*client_->listAll(resources::kSecrets, ns(), opts))["items"].empty());
  EXPECT_TRUE(eventually(seconds(10), [&] { return has(eventReasons("typo"), "InvalidScenario"); }));

  // Fixing the scenario (a spec change) starts a run.
  auto fixed = client_->patch(kLoadTests, ns(), "typo", {{"spec", {{"scenario", {{"inline", kScenario}}}}}});
  ASSERT_TRUE(fixed.ok());
  ASSERT_TRUE(waitStatus("typo", [](const json& s) { return getString(s, "phase") == "Starting"; }));
  EXPECT_TRUE(condition(status("typo"), "Validated", true));
}

TEST_F(Operator, ScenarioFromAConfigMapCreatedLater) {
  startOperator(coord);
  create("cm", {{"scenario", {{"configMapRef", {{"name", "shop-scenario"}}}}}});
  ASSERT_TRUE(waitStatus("cm", [](const json& s) { return getString(s, "reason") == "ScenarioNotFound"; }));
  json cm{{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "shop-scenario"}, {"namespace", ns()}}},
          {"data", {{"scenario.yaml", kScenario}}}};
  ASSERT_TRUE(client_->create(resources::kConfigMaps, ns(), cm).ok());
  ASSERT_TRUE(waitStatus("cm", [](const json& s) { return getString(s, "phase") == "Starting"; }));
}

TEST_F(Operator, DeletingALoadTestMidRunAbortsTheRunAndKillsItsAgents) {
  startOperator(coord);
  const auto run = createRunning("doomed", basicSpec(2));
  ASSERT_FALSE(HasFailure());
  std::vector<int> pids;
  for (const auto& p : pods(run)) pids.push_back(agentPid(getString(p["metadata"], "name")));
  ASSERT_EQ(pids.size(), 2u);
  for (int pid : pids) ASSERT_GT(pid, 0);

  ASSERT_TRUE(client_->remove(kLoadTests, ns(), "doomed").ok());
  EXPECT_TRUE(eventually(seconds(10), [&] { return coord.aborted().count(run) == 1; }));
  // kube-controller-manager's garbage collector deletes the owned pods; the
  // stand-in kills their processes.
  EXPECT_TRUE(eventually(seconds(60), [&] { return pods(run).empty(); })) << pods(run).dump();
  EXPECT_TRUE(eventually(seconds(15), [&] { return processGone(pids[0]) && processGone(pids[1]); }));
}

TEST_F(Operator, LostAgentUnderRebalanceIsReplacedAndDegraded) {
  startOperator(coord);
  const auto run = createRunning("lossy", basicSpec(2));
  ASSERT_FALSE(HasFailure());
  const auto victim = controller::agentPodName(run, 1);
  auto old_uid = metaString(*client_->get(resources::kPods, ns(), victim), "uid");
  killAgent(agentPid(victim));

  ASSERT_TRUE(waitStatus("lossy", [](const json& s) { return condition(s, "Degraded", true); }));
  EXPECT_TRUE(eventually(seconds(10), [&] { return has(eventReasons("lossy"), "AgentLost"); }));
  // Rebalance: a new pod takes the lost agent's index and becomes ready.
  EXPECT_TRUE(eventually(seconds(30), [&] {
    auto p = client_->get(resources::kPods, ns(), victim);
    return p.ok() && metaString(*p, "uid") != old_uid &&
           controller::classifyPod(*p).state == controller::PodHealth::State::kReady;
  }));
  EXPECT_EQ(getString(status("lossy"), "phase"), "Running");

  // The lost agent's last reports never arrived: the run passes on what was
  // counted, and the status says the totals are incomplete and what is missing.
  auto done = running(2);
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  done.summary_json = R"({"version": 1, "verdict": "passed", "totalsComplete": false, "missingTotals": {"agents": [
      {"agent": ")" + victim +
                      R"(/u", "reason": "lost before it delivered these reports", "fromSecond": 4,
       "toSecond": 5.2, "estimatedRequests": 120}], "estimatedRequests": 120}})";
  coord.script(run, done);
  ASSERT_TRUE(waitStatus("lossy", [](const json& s) { return getString(s, "phase") == "Succeeded"; }));
  const auto st = status("lossy");
  EXPECT_EQ(getString(st, "verdict"), "Passed");
  EXPECT_TRUE(condition(st, "TotalsComplete", false)) << st.dump();
  std::string said;
  for (const auto& c : st["conditions"])
    if (getString(c, "type") == "TotalsComplete") said = getString(c, "reason") + ": " + getString(c, "message");
  EXPECT_EQ(said.rfind("ReportsMissing: no reports from " + victim + "/u 4s-6s", 0), 0u) << said;
  EXPECT_NE(said.find("about 120 requests missing"), std::string::npos) << said;
  EXPECT_NE(getString(st, "message").find("totals incomplete: "), std::string::npos) << st.dump();
}

TEST_F(Operator, LostAgentUnderAbortFailsTheRun) {
  const auto run = runningWithLossPolicy("strict", "Abort");
  ASSERT_FALSE(HasFailure());
  killAgent(agentPid(controller::agentPodName(run, 0)));
  ASSERT_TRUE(waitStatus("strict", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  auto st = status("strict");
  EXPECT_EQ(getString(st, "reason"), "AgentLost");
  EXPECT_EQ(getString(st, "verdict"), "Aborted");
  EXPECT_TRUE(condition(st, "Complete", true));
  EXPECT_EQ(coord.aborted().count(run), 1u);
}

TEST_F(Operator, UnschedulableAgentsEndTheRunWithTheSchedulersReason) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["agentTemplate"] = {{"nodeSelector", {{"pool", "does-not-exist"}}}};
  create("nowhere", spec);
  ASSERT_TRUE(waitStatus("nowhere", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  auto st = status("nowhere");
  EXPECT_EQ(getString(st, "reason"), "AgentUnschedulable");
  EXPECT_NE(getString(st, "message").find("didn't match Pod's node affinity/selector"), std::string::npos);
  EXPECT_TRUE(condition(st, "Complete", true));
}

TEST_F(Operator, CrashingAgentEndsAStartingRun) {
  startOperator(coord, {"/bin/sh", "-c", "exit 7"});
  create("crashy", basicSpec(1));
  ASSERT_TRUE(waitStatus("crashy", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  auto st = status("crashy");
  EXPECT_EQ(getString(st, "reason"), "AgentCrashed");
  EXPECT_NE(getString(st, "message").find("exited with code 7"), std::string::npos) << getString(st, "message");
}

TEST_F(Operator, AgentsThatNeverConnectTimeOut) {
  // The scripted coordinator never reports the agents connected here.
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["timeouts"] = {{"agentsReady", "3s"}};
  create("silent", spec);
  ASSERT_TRUE(waitStatus(
      "silent", [](const json& s) { return getString(s, "phase") == "Failed"; }, seconds(20)));
  auto st = status("silent");
  EXPECT_EQ(getString(st, "reason"), "AgentsNotReady");
  EXPECT_EQ(getString(st, "message"), "1 of 1 agents ready and 0 connected after 3s");
}

TEST_F(Operator, ARunThatNeverEndsTimesOutAfterItsDurationPlusAMargin) {
  startOperator(coord);
  const auto run = createRunning("endless", basicSpec(1));  // the scenario's duration: 5s
  ASSERT_FALSE(HasFailure());
  harness_->advance(std::chrono::minutes(5));  // within 5s + 5m: still running
  harness_->kick(ns() + "/endless");
  EXPECT_FALSE(
      eventually(std::chrono::milliseconds(800), [&] { return getString(status("endless"), "phase") != "Running"; }));
  harness_->advance(seconds(6));
  harness_->kick(ns() + "/endless");
  ASSERT_TRUE(waitStatus("endless", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  auto st = status("endless");
  EXPECT_EQ(getString(st, "reason"), "RunTimeout");
  EXPECT_EQ(getString(st, "message"), "the run did not end within 5m5s");
  EXPECT_EQ(coord.aborted().count(run), 1u);
}

TEST_F(Operator, ScaleChangesTheAgentCountOfTheLiveRun) {
  startOperator(coord);
  const auto run = createRunning("elastic", basicSpec(2));
  ASSERT_FALSE(HasFailure());
  std::string out;
  ASSERT_EQ(kubectl("scale -n " + ns() + " lt/elastic --replicas 3", &out), 0) << out;
  EXPECT_TRUE(eventually(seconds(30), [&] { return readyPods(run) == 3; }));
  EXPECT_TRUE(eventually(seconds(10), [&] { return coord.expected()[run] == 3; }));
  EXPECT_EQ(runId("elastic"), run);  // the same run, rescaled
  EXPECT_TRUE(coord.retired(run).empty());
  // Scaling down deletes the highest-index pods, and tells the coordinator first
  // which agents (NAME/UID, the id their Hello carries) retire.
  std::set<std::string> leaving;
  for (const auto& pod : pods(run))
    if (controller::agentIndexOf(pod) >= 1) leaving.insert(controller::agentIdOf(pod));
  ASSERT_EQ(leaving.size(), 2u);
  ASSERT_EQ(kubectl("scale -n " + ns() + " lt/elastic --replicas 1", &out), 0) << out;
  EXPECT_TRUE(eventually(seconds(30), [&] { return pods(run).size() == 1; }));
  EXPECT_EQ(coord.expected()[run], 1);
  EXPECT_EQ(coord.retired(run), leaving);
  EXPECT_EQ(controller::agentIndexOf(pods(run)[0]), 0);
  const auto reasons = eventReasons("elastic");
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "AgentsScaled"), 2) << ::testing::PrintToString(reasons);
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "AgentLost"), 0);
  // status.agents.ready is the scale subresource's status replicas.
  EXPECT_TRUE(eventually(seconds(10), [&] {
    kubectl("get -n " + ns() + " lt/elastic -o jsonpath={.status.agents.ready}", &out);
    return out == "1";
  })) << out;
}

TEST_F(Operator, AScaleTheRunCannotTakeKeepsItsAgentsAndSaysWhy) {
  startOperator(coord);
  const auto run = createRunning("rigid", basicSpec(1));
  ASSERT_FALSE(HasFailure());
  coord.refuseGrowth(run, 1, "the open model cannot take more agents mid-run");
  std::string out;
  ASSERT_EQ(kubectl("scale -n " + ns() + " lt/rigid --replicas 2", &out), 0) << out;
  ASSERT_TRUE(waitStatus("rigid", [](const json& s) { return !getString(s, "scaleRefused").empty(); }));
  auto st = status("rigid");
  EXPECT_EQ(getString(st, "scaleRefused"),
            "run " + run + " keeps 1 agent(s): the open model cannot take more agents mid-run");
  EXPECT_EQ(st["agents"]["desired"], 1);
  EXPECT_EQ(getString(st, "phase"), "Running");
  EXPECT_FALSE(eventually(std::chrono::milliseconds(800), [&] { return pods(run).size() != 1; }));
  const auto reasons = eventReasons("rigid");
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "ScaleRefused"), 1) << ::testing::PrintToString(reasons);
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "AgentsScaled"), 0);
  // Back to 1: the refusal is gone.
  ASSERT_EQ(kubectl("scale -n " + ns() + " lt/rigid --replicas 1", &out), 0) << out;
  ASSERT_TRUE(waitStatus("rigid", [](const json& s) { return !s.contains("scaleRefused"); }));
}

TEST_F(Operator, AnnotationStartsANewRunAndKeepsTheLedger) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["params"] = {{"pageSize", "50"}};
  create("again", spec);
  ASSERT_TRUE(waitStatus("again", [](const json& s) { return !getString(s, "runId").empty(); }));
  const auto first = runId("again");
  auto done = running(1);
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kFailed;
  coord.script(first, done);
  ASSERT_TRUE(waitStatus("again", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  EXPECT_TRUE(condition(status("again"), "ThresholdsPassed", false));
  EXPECT_TRUE(condition(status("again"), "Complete", true));

  ASSERT_TRUE(
      client_->patch(kLoadTests, ns(), "again", {{"metadata", {{"annotations", {{"herd.dev/run", "2"}}}}}}).ok());
  ASSERT_TRUE(waitStatus("again", [&](const json& s) {
    return !getString(s, "runId").empty() && getString(s, "runId") != first && getString(s, "phase") == "Starting";
  }));
  auto st = status("again");
  EXPECT_EQ(getString(st, "runTrigger"), "2");
  ASSERT_EQ(st["history"].size(), 1u);
  EXPECT_EQ(st["history"][0]["runId"], first);
  EXPECT_EQ(st["history"][0]["verdict"], "Failed");
  EXPECT_EQ(st["history"][0]["params"]["pageSize"], "50");
}

TEST_F(Operator, ACoordinatorThatCannotRunEndsTheRunBeforeAnyPod) {
  other_coord_ = controller::makeUnavailableCoordinator("127.0.0.1:7070");
  startOperator(*other_coord_);
  create("nocoord", basicSpec(2));
  ASSERT_TRUE(waitStatus("nocoord", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  auto st = status("nocoord");
  EXPECT_EQ(getString(st, "reason"), "CoordinatorUnavailable");
  EXPECT_TRUE(condition(st, "Complete", true));
  EXPECT_TRUE(pods(getString(st, "runId")).empty());
}

TEST_F(Operator, ARestartedOperatorAdoptsTheLiveRun) {
  startOperator(coord);
  const auto run = createRunning("adopt", basicSpec(2));
  ASSERT_FALSE(HasFailure());
  std::set<std::string> uids;
  for (const auto& p : pods(run)) uids.insert(metaString(p, "uid"));
  const auto token = coord.requests().at(0).token;
  const int calls = coord.startCalls();

  harness_.reset();  // the operator goes away mid-run...
  auto later = running(2);
  later.totals.requests = 900;
  coord.script(run, later);  // ...while the coordinator's run goes on
  startOperator(coord);
  ASSERT_TRUE(waitStatus("adopt", [](const json& s) { return getObject(s, "totals")["requests"] == 900; }));
  EXPECT_EQ(runId("adopt"), run);
  EXPECT_GT(coord.startCalls(), calls);  // asked again, with the same run id and token
  ASSERT_EQ(coord.requests().size(), 1u);
  EXPECT_EQ(coord.requests()[0].token, token);
  std::set<std::string> after;
  for (const auto& p : pods(run)) after.insert(metaString(p, "uid"));
  EXPECT_EQ(after, uids);  // the same agent pods, none recreated
  auto done = later;
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  coord.script(run, done);
  ASSERT_TRUE(waitStatus("adopt", [](const json& s) { return getString(s, "phase") == "Succeeded"; }));
  EXPECT_EQ(status("adopt")["history"].size(), 1u);
}

TEST_F(Operator, LostAgentUnderContinueIsNotReplaced) {
  const auto run = runningWithLossPolicy("goon", "Continue");
  ASSERT_FALSE(HasFailure());
  const auto victim = controller::agentPodName(run, 0);
  killAgent(agentPid(victim));
  ASSERT_TRUE(waitStatus("goon", [](const json& s) { return condition(s, "Degraded", true); }));
  auto st = status("goon");
  EXPECT_EQ(getString(st, "phase"), "Running");
  EXPECT_EQ(st["lostAgents"], json({victim}));
  EXPECT_TRUE(eventually(seconds(5), [&] { return k8s::getInt(getObject(status("goon"), "agents"), "ready") == 1; }));
  auto pod = client_->get(resources::kPods, ns(), victim);
  ASSERT_TRUE(pod.ok());  // left as it is, for its logs
  EXPECT_EQ(controller::classifyPod(*pod).state, controller::PodHealth::State::kCrashed);
}

}  // namespace
}  // namespace herd::k8s::testing
