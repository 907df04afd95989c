// The LoadTest reconciler against the real apiserver + etcd +
// kube-controller-manager, with agent pods run by the pod-runner (the test
// kubelet stand-in, started by tests/cluster/up) and a scripted coordinator in
// place of the distributed one (issue 4), driven by each test.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "operator/controller/builders.h"
#include "operator/controller/loadtest.h"
#include "operator_fixture.h"

namespace herd::k8s::testing {
namespace {

using json = nlohmann::json;
using controller::kLoadTests;
using controller::RunProgress;
using std::chrono::seconds;

const char* kScenario = R"(name: shop
target: http://127.0.0.1:8080
users:
  - name: browser
    steps:
      - get: /products
      - think: 100ms
load: {users: 10, spawnRate: 10, duration: 5s}
)";

class Operator : public ::testing::Test {
 protected:
  void SetUp() override {
    HERD_REQUIRE_CLUSTER();
    client_ = makeClient();
    ensureLoadTestCrd(*client_);
    ns_ = std::make_unique<TestNamespace>(*client_);
  }
  void TearDown() override {
    harness_.reset();
    ns_.reset();
  }
  const std::string& ns() const { return ns_->name(); }

  void startOperator(controller::RunCoordinator& c, std::vector<std::string> command = sleepingAgent()) {
    harness_ = std::make_unique<OperatorHarness>(*client_, ns(), c, std::move(command));
  }

  json create(const std::string& name, json spec) {
    json lt{{"apiVersion", "herd.dev/v1alpha1"}, {"kind", "LoadTest"},
            {"metadata", {{"name", name}, {"namespace", ns()}}}, {"spec", std::move(spec)}};
    auto created = client_->create(kLoadTests, ns(), lt);
    EXPECT_TRUE(created.ok()) << created.error().describe();
    return created.ok() ? *created : json();
  }
  json basicSpec(int agents) { return {{"scenario", {{"inline", kScenario}}}, {"agents", agents}}; }

  json get(const std::string& name) {
    auto got = client_->get(kLoadTests, ns(), name);
    return got.ok() ? *got : json::object();
  }
  json status(const std::string& name) { return getObject(get(name), "status"); }
  // Waits until pred(status) holds; the failure message shows the last status.
  ::testing::AssertionResult waitStatus(const std::string& name, const std::function<bool(const json&)>& pred,
                                        std::chrono::milliseconds limit = seconds(30)) {
    json last;
    if (eventually(limit, [&] { last = status(name); return pred(last); })) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "status never matched; last: " << last.dump(1);
  }
  std::string runId(const std::string& name) { return getString(status(name), "runId"); }

  json pods(const std::string& run_id) {
    ListOptions opts;
    opts.label_selector = controller::runSelector(run_id);
    auto listed = client_->listAll(resources::kPods, ns(), opts);
    return listed.ok() ? (*listed)["items"] : json::array();
  }
  int readyPods(const std::string& run_id) {
    int n = 0;
    for (const auto& p : pods(run_id))
      n += controller::classifyPod(p).state == controller::PodHealth::State::kReady;
    return n;
  }
  std::vector<std::string> eventReasons(const std::string& name) {
    std::vector<std::string> out;
    ListOptions opts;
    opts.field_selector = "involvedObject.name=" + name;
    auto events = client_->listAll(resources::kEvents, ns(), opts);
    if (events.ok())
      for (const auto& e : (*events)["items"]) out.push_back(getString(e, "reason"));
    return out;
  }
  static bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  static bool condition(const json& st, const std::string& type, bool value) {
    return controller::conditionStatus(st, type) == std::optional<bool>(value);
  }
  // The agent's pid, once its script has written it (0 if it never does).
  int agentPid(const std::string& pod_name) {
    int pid = 0;
    eventually(seconds(10), [&] {
      std::ifstream f(podDir(ns(), pod_name) + "/pid");
      return static_cast<bool>(f >> pid) && pid > 0;
    });
    return pid;
  }
  // Never kill(0 or -1, ...): that would reach the test's own process group.
  static void killAgent(int pid) {
    ASSERT_GT(pid, 1);
    ::kill(pid, SIGKILL);
  }
  static bool processGone(int pid) { return pid > 0 && ::kill(pid, 0) != 0; }

  // Creates the LoadTest, waits for its agents to be ready, lets the scripted
  // coordinator report the load running and waits for phase Running: the run id.
  std::string createRunning(const std::string& name, json spec) {
    const int agents = static_cast<int>(k8s::getInt(spec, "agents", 1));
    create(name, std::move(spec));
    EXPECT_TRUE(waitStatus(name, [&](const json& s) { return k8s::getInt(getObject(s, "agents"), "ready") == agents; }));
    const auto run = runId(name);
    coord.script(run, running(agents));
    EXPECT_TRUE(waitStatus(name, [](const json& s) { return getString(s, "phase") == "Running"; }));
    return run;
  }

  std::string firstScheduledRun(const std::string& name, const char* cron, const char* policy);

  // An operator, and a LoadTest with two agents and the given loss policy, running.
  std::string runningWithLossPolicy(const std::string& name, const char* policy) {
    startOperator(coord);
    auto spec = basicSpec(2);
    spec["agentLossPolicy"] = policy;
    return createRunning(name, spec);
  }

  RunProgress running(int connected) {
    RunProgress p;
    p.state = RunProgress::State::kRunning;
    p.connected = connected;
    p.users = 10;
    p.totals = {500, 5, 100.0, 1.5, 4.5, 9.0};
    return p;
  }

  std::unique_ptr<Client> client_;
  std::unique_ptr<TestNamespace> ns_;
  // Declared before the harness: its workers call the coordinator until it stops.
  ScriptedCoordinator coord;
  std::unique_ptr<controller::RunCoordinator> other_coord_;
  std::unique_ptr<OperatorHarness> harness_;
};

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
  EXPECT_EQ(reqs[0].token.size(), 32u);
  auto secret = client_->get(resources::kSecrets, ns(), controller::tokenSecretName(run));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(controller::base64Decode(getString((*secret)["data"], "token")), reqs[0].token);

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
  create("typo", {{"scenario", {{"inline", "name: typo\ntarget: http://127.0.0.1:8080\nusers:\n  - name: u\n    stepz: []\n"}}}});
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
  json cm{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "shop-scenario"}, {"namespace", ns()}}},
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
  ASSERT_TRUE(waitStatus("silent", [](const json& s) { return getString(s, "phase") == "Failed"; }, seconds(20)));
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
  EXPECT_FALSE(eventually(std::chrono::milliseconds(800), [&] { return getString(status("endless"), "phase") != "Running"; }));
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

  ASSERT_TRUE(client_->patch(kLoadTests, ns(), "again", {{"metadata", {{"annotations", {{"herd.dev/run", "2"}}}}}}).ok());
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

// Moves the operator's clock just past status.nextScheduleTime and runs a pass.
void passNextScheduleTime(OperatorHarness& harness, const json& st, const std::string& key) {
  auto next = controller::parseRfc3339(getString(st, "nextScheduleTime"));
  ASSERT_TRUE(next) << st.dump();
  harness.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*next - harness.now()) + seconds(1));
  harness.kick(key);
}

// An operator and a scheduled LoadTest whose first run the test has made due: its id.
std::string Operator::firstScheduledRun(const std::string& name, const char* cron, const char* policy) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["schedule"] = {{"cron", cron}, {"concurrencyPolicy", policy}};
  spec["timeouts"] = {{"agentsReady", "1h"}, {"run", "1h"}};  // the clock jumps by minutes
  create(name, spec);
  EXPECT_TRUE(waitStatus(name, [](const json& s) { return !getString(s, "nextScheduleTime").empty(); }));
  passNextScheduleTime(*harness_, status(name), ns() + "/" + name);
  EXPECT_TRUE(waitStatus(name, [](const json& s) { return !getString(s, "runId").empty(); }));
  return runId(name);
}

TEST_F(Operator, CronScheduleRunsTwiceWithTwoHistoryEntriesAndForbidPreventsOverlap) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["schedule"] = {{"cron", "* * * * *"}, {"timeZone", "Europe/Paris"}, {"concurrencyPolicy", "Forbid"}};
  create("cron", spec);
  const auto key = ns() + "/cron";
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return !getString(s, "nextScheduleTime").empty(); }));
  EXPECT_TRUE(runId("cron").empty());  // a scheduled LoadTest does not run on creation

  passNextScheduleTime(*harness_, status("cron"), key);
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return k8s::getInt(getObject(s, "agents"), "ready") == 1; }));
  const auto first = runId("cron");
  EXPECT_EQ(getString(status("cron"), "runReason").rfind("schedule ", 0), 0u);
  coord.script(first, running(1));
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return getString(s, "phase") == "Running"; }));

  // Due again while the first run goes on: Forbid skips it.
  passNextScheduleTime(*harness_, status("cron"), key);
  EXPECT_TRUE(eventually(seconds(10), [&] { return has(eventReasons("cron"), "RunSkipped"); }));
  EXPECT_EQ(runId("cron"), first);
  EXPECT_EQ(coord.requests().size(), 1u);

  auto done = running(1);
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  coord.script(first, done);
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return getString(s, "phase") == "Succeeded"; }));

  passNextScheduleTime(*harness_, status("cron"), key);
  ASSERT_TRUE(waitStatus("cron", [&](const json& s) {
    return getString(s, "runId") != first && k8s::getInt(getObject(s, "agents"), "ready") == 1;
  }));
  const auto second = runId("cron");
  coord.script(second, done);
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return s.contains("history") && s["history"].size() == 2; }));
  auto st = status("cron");
  EXPECT_EQ(st["history"][0]["runId"], second);
  EXPECT_EQ(st["history"][1]["runId"], first);
  EXPECT_EQ(getString(st["history"][1], "trigger").rfind("schedule ", 0), 0u);
  EXPECT_TRUE(coord.aborted().empty());  // nothing overlapped, nothing was cut short
  EXPECT_EQ(coord.requests().size(), 2u);
}

TEST_F(Operator, CronReplaceStopsTheLiveRunAndSuspendStopsScheduling) {
  const auto key = ns() + "/replace";
  const auto first = firstScheduledRun("replace", "*/5 * * * *", "Replace");
  ASSERT_FALSE(HasFailure());
  passNextScheduleTime(*harness_, status("replace"), key);
  ASSERT_TRUE(waitStatus("replace", [&](const json& s) {
    return !getString(s, "runId").empty() && getString(s, "runId") != first;
  }));
  EXPECT_EQ(coord.aborted().count(first), 1u);
  auto st = status("replace");
  ASSERT_EQ(st["history"].size(), 1u);
  EXPECT_EQ(st["history"][0]["reason"], "Superseded");

  ASSERT_TRUE(client_->patch(kLoadTests, ns(), "replace", {{"spec", {{"schedule", {{"suspend", true}}}}}}).ok());
  ASSERT_TRUE(waitStatus("replace", [](const json& s) { return getString(s, "nextScheduleTime").empty(); }));
  const auto second = runId("replace");
  harness_->advance(std::chrono::minutes(30));
  harness_->kick(key);
  EXPECT_FALSE(eventually(std::chrono::milliseconds(1500), [&] { return runId("replace") != second; }));
}

TEST_F(Operator, CronAllowStartsTheDueRunWhenTheLiveOneEnds) {
  const auto key = ns() + "/allow";
  const auto first = firstScheduledRun("allow", "*/10 * * * *", "Allow");
  ASSERT_FALSE(HasFailure());
  passNextScheduleTime(*harness_, status("allow"), key);  // due while the first is live: waits
  EXPECT_FALSE(eventually(std::chrono::milliseconds(800), [&] { return runId("allow") != first; }));
  EXPECT_FALSE(has(eventReasons("allow"), "RunSkipped"));
  auto done = running(1);
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  coord.script(first, done);
  ASSERT_TRUE(waitStatus("allow", [&](const json& s) {
    return !getString(s, "runId").empty() && getString(s, "runId") != first;
  }));
  auto st = status("allow");
  ASSERT_EQ(st["history"].size(), 1u);
  EXPECT_EQ(st["history"][0]["verdict"], "Passed");
  EXPECT_TRUE(coord.aborted().empty());
}

TEST_F(Operator, RegressionRuleFailsARunSlowerThanTheLastPassingOne) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["regression"] = {{"maxP95IncreasePercent", 20}};
  create("gate", spec);
  auto finish = [&](const std::string& run, double p95) {
    auto done = running(1);
    done.state = RunProgress::State::kFinished;
    done.verdict = RunProgress::Verdict::kPassed;
    done.totals.p95_ms = p95;
    coord.script(run, done);
  };
  ASSERT_TRUE(waitStatus("gate", [](const json& s) { return !getString(s, "runId").empty(); }));
  const auto first = runId("gate");
  finish(first, 100);
  ASSERT_TRUE(waitStatus("gate", [](const json& s) { return getString(s, "phase") == "Succeeded"; }));
  ASSERT_TRUE(client_->patch(kLoadTests, ns(), "gate", {{"metadata", {{"annotations", {{"herd.dev/run", "2"}}}}}}).ok());
  ASSERT_TRUE(waitStatus("gate", [&](const json& s) { return getString(s, "runId") != first; }));
  finish(runId("gate"), 130);  // thresholds passed, but 30% slower than the baseline
  ASSERT_TRUE(waitStatus("gate", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  auto st = status("gate");
  EXPECT_EQ(getString(st, "verdict"), "Failed");
  EXPECT_EQ(getString(st, "reason"), "Regression");
  EXPECT_NE(getString(st, "message").find("30.0% above run " + first), std::string::npos) << getString(st, "message");
  EXPECT_TRUE(condition(st, "ThresholdsPassed", false));
  EXPECT_EQ(st["history"][0]["reason"], "Regression");
}

}  // namespace
}  // namespace herd::k8s::testing
