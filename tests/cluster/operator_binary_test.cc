// herd-operator as a process against the real apiserver: flags, namespace
// scoping, health and metrics endpoints, leader election between two
// replicas, clean stop on SIGTERM, and whole runs end to end: the example
// LoadTest applied with kubectl, its agent pods run as `herd agent` processes by
// the pod-runner, load against a real nginx on loopback, the operator's
// coordinator merging it, and status totals checked against nginx's access log.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#include "operator/controller/builders.h"
#include "operator/controller/loadtest.h"
#include "operator_fixture.h"
#include "operator_process.h"
#include "tests/support/nginx_server.h"

namespace herd::k8s::testing {
namespace {

using json = Json;
using std::chrono::seconds;

class OperatorBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    HERD_REQUIRE_CLUSTER();
    client_ = makeClient();
    ensureLoadTestCrd(*client_);
    watched_ = std::make_unique<TestNamespace>(*client_);
  }
  void TearDown() override { watched_.reset(); }

  void createLoadTest(const std::string& ns, const std::string& name, const std::string& scenario) {
    json lt{{"apiVersion", "herd.dev/v1alpha1"},
            {"kind", "LoadTest"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec", {{"scenario", {{"inline", scenario}}}, {"agents", 2}}}};
    auto created = client_->create(controller::kLoadTests, ns, lt);
    ASSERT_TRUE(created.ok()) << created.error().describe();
  }
  json status(const std::string& ns, const std::string& name) {
    auto got = client_->get(controller::kLoadTests, ns, name);
    return got.ok() ? getObject(*got, "status") : json::object();
  }

  std::unique_ptr<Client> client_;
  std::unique_ptr<TestNamespace> watched_;
};

const char* kValid =
    "name: s\ntarget: http://127.0.0.1:8080\nusers: [{name: u, steps: [{get: /}]}]\nload: {users: 2, duration: 5s}\n";
const char* kInvalid = "name: s\ntarget: http://127.0.0.1:8080\nusers: [{name: u, stepz: []}]\n";

TEST_F(OperatorBinary, WatchesOnlyItsNamespacesServesHealthAndStopsCleanly) {
  Client& c = *client_;
  TestNamespace other(c);
  const auto& ns = watched_->name();
  OperatorProcess op({"--kubeconfig", kubeconfigPath(), "--namespace", ns, "--health-listen", "127.0.0.1:0",
                      "--metrics-listen", "127.0.0.1:0", "--coordinator-listen", "127.0.0.1:0"});
  int health = op.port("health endpoints");
  int metrics = op.port("metrics");
  ASSERT_GT(health, 0) << op.log();
  ASSERT_GT(metrics, 0) << op.log();
  EXPECT_NE(httpGet(health, "/healthz").find("200 OK"), std::string::npos);
  EXPECT_TRUE(eventually(seconds(30), [&] { return httpGet(health, "/readyz").find("200 OK") != std::string::npos; }))
      << op.log();

  createLoadTest(ns, "bad", kInvalid);
  createLoadTest(ns, "good", kValid);
  createLoadTest(other.name(), "ignored", kInvalid);
  EXPECT_TRUE(eventually(seconds(30), [&] { return getString(status(ns, "bad"), "phase") == "Failed"; })) << op.log();
  EXPECT_EQ(getString(status(ns, "bad"), "reason"), "InvalidScenario");
  // A valid run gets its agent pods, which join it by run id at the operator's coordinator.
  ListOptions opts;
  opts.label_selector = "herd.dev/loadtest=good";
  EXPECT_TRUE(eventually(seconds(30), [&] { return (*c.listAll(resources::kPods, ns, opts))["items"].size() == 2; }))
      << status(ns, "good").dump() << op.log();
  const auto coordinator_port = op.port("coordinator");
  ASSERT_GT(coordinator_port, 0) << op.log();
  // The list outlives the loop: a range-for over a member of a temporary Result
  // would read freed memory.
  const auto pods = c.listAll(resources::kPods, ns, opts);
  ASSERT_TRUE(pods.ok());
  for (const auto& pod : (*pods)["items"]) {
    const auto& args = pod["spec"]["containers"][0]["args"];
    ASSERT_GE(args.size(), 4u) << pod.dump();
    EXPECT_EQ(args[1], "127.0.0.1:" + std::to_string(coordinator_port));
    EXPECT_EQ(args[2], "--run-id");
    EXPECT_EQ(args[3], getString(status(ns, "good"), "runId"));
  }
  // The other namespace is not watched: its LoadTest never gets a status.
  EXPECT_TRUE(status(other.name(), "ignored").empty());

  auto m = httpGet(metrics, "/metrics");
  EXPECT_NE(m.find("herd_operator_reconciles_total "), std::string::npos) << m;
  EXPECT_NE(m.find("herd_operator_leader 1"), std::string::npos) << m;
  EXPECT_NE(httpGet(health, "/nope").find("404"), std::string::npos);
  EXPECT_EQ(op.stop(), 0) << op.log();
}

TEST_F(OperatorBinary, LeaderElectionRunsOneReplicaAndHandsOverOnStop) {
  const auto& ns = watched_->name();
  auto args = [&] {
    return std::vector<std::string>{"--kubeconfig",   kubeconfigPath(),   "--namespace", ns,
                                    "--leader-elect", "--metrics-listen", "127.0.0.1:0", "--coordinator-listen",
                                    "127.0.0.1:0"};
  };
  auto a = std::make_unique<OperatorProcess>(args());
  OperatorProcess b(args());
  int pa = a->port("metrics"), pb = b.port("metrics");
  ASSERT_GT(pa, 0);
  ASSERT_GT(pb, 0);
  auto leading = [](int port) { return httpGet(port, "/metrics").find("herd_operator_leader 1") != std::string::npos; };
  ASSERT_TRUE(eventually(seconds(30), [&] { return leading(pa) || leading(pb); }));
  // Held for a while, only ever one leader.
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(leading(pa) && leading(pb));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  OperatorProcess* leader = leading(pa) ? a.get() : &b;
  OperatorProcess* follower = leader == a.get() ? &b : a.get();
  int follower_port = leader == a.get() ? pb : pa;
  createLoadTest(ns, "before", kInvalid);
  EXPECT_TRUE(eventually(seconds(30), [&] { return getString(status(ns, "before"), "phase") == "Failed"; }));

  EXPECT_EQ(leader->stop(), 0) << leader->log();  // releases the Lease
  EXPECT_TRUE(eventually(seconds(10), [&] { return leading(follower_port); })) << follower->log();
  createLoadTest(ns, "after", kInvalid);
  EXPECT_TRUE(eventually(seconds(30), [&] { return getString(status(ns, "after"), "phase") == "Failed"; }))
      << follower->log();
  EXPECT_EQ(follower->stop(), 0);
}

TEST_F(OperatorBinary, TheExamplesCompileUnderTheOperator) {
  const auto& ns = watched_->name();
  OperatorProcess op({"--kubeconfig", kubeconfigPath(), "--namespace", ns, "--coordinator-listen", "127.0.0.1:0"});
  std::string out;
  ASSERT_EQ(kubectl("apply -n " + ns + " -f " + std::string(HERD_SOURCE_DIR) + "/examples/k8s/", &out), 0) << out;
  for (const char* name : {"shop-smoke", "shop-configmap", "shop-nightly"}) {
    EXPECT_TRUE(eventually(
        seconds(30),
        [&] { return controller::conditionStatus(status(ns, name), "Validated") == std::optional<bool>(true); }))
        << name << ": " << status(ns, name).dump() << op.log();
  }
  // The scheduled one waits for its time.
  EXPECT_FALSE(getString(status(ns, "shop-nightly"), "nextScheduleTime").empty());
  EXPECT_TRUE(getString(status(ns, "shop-nightly"), "runId").empty());
  EXPECT_EQ(op.stop(), 0);
}

TEST_F(OperatorBinary, BadFlagsAndKubeconfigExitWithCode2) {
  OperatorProcess unknown({"--no-such-flag"});
  EXPECT_EQ(unknown.waitExit(seconds(10)), 2) << unknown.log();
  OperatorProcess missing({"--kubeconfig", "/nonexistent/kubeconfig"});
  EXPECT_EQ(missing.waitExit(seconds(10)), 2);
  EXPECT_NE(missing.log().find("/nonexistent/kubeconfig"), std::string::npos) << missing.log();
  OperatorProcess bad_listen({"--kubeconfig", kubeconfigPath(), "--health-listen", "nowhere"});
  EXPECT_EQ(bad_listen.waitExit(seconds(10)), 2);
  EXPECT_NE(bad_listen.log().find("--health-listen nowhere: expected HOST:PORT"), std::string::npos)
      << bad_listen.log();
  // TLS is the default: without a certificate (an empty one here) or an
  // explicit --coordinator-insecure the operator does not start.
  OperatorProcess no_tls({"--kubeconfig", kubeconfigPath(), "--coordinator-tls-cert", ""});
  EXPECT_EQ(no_tls.waitExit(seconds(10)), 2);
  EXPECT_NE(no_tls.log().find("or --coordinator-insecure for plaintext"), std::string::npos) << no_tls.log();
}

// The first acceptance item, end to end: the example LoadTest, pointed
// at a real nginx on loopback, runs on two `herd agent` processes, reaches
// Complete (kubectl wait returns), and its status totals are nginx's own count.
TEST_F(OperatorBinary, ExampleLoadTestRunsOnTwoAgentsAndCountsWhatNginxCounts) {
  const auto& ns = watched_->name();
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  OperatorProcess op({"--kubeconfig", kubeconfigPath(), "--namespace", ns, "--coordinator-listen", "127.0.0.1:0"});
  ASSERT_GT(op.port("coordinator"), 0) << op.log();
  EXPECT_NE(op.log().find("with TLS"), std::string::npos) << op.log();  // the agents below verify it

  // examples/k8s/loadtest-inline.yaml as shipped, with its target moved to the fixture's nginx.
  std::ifstream in(std::string(HERD_SOURCE_DIR) + "/examples/k8s/loadtest-inline.yaml");
  std::stringstream text;
  text << in.rdbuf();
  const auto manifest = std::regex_replace(text.str(), std::regex("http://127\\.0\\.0\\.1:8080"), (*nginx)->url());
  ASSERT_NE(manifest, text.str());
  const auto path = std::filesystem::temp_directory_path() / ("herd-e2e-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << manifest;
  std::string out;
  ASSERT_EQ(kubectl("apply -n " + ns + " -f " + path.string(), &out), 0) << out;
  std::filesystem::remove(path);

  const int waited = kubectl("wait -n " + ns + " --for=condition=Complete lt/shop-smoke --timeout=120s", &out);
  const auto st = status(ns, "shop-smoke");
  ASSERT_EQ(waited, 0) << out << st.dump() << op.log();
  EXPECT_EQ(getString(st, "phase"), "Succeeded") << st.dump();
  EXPECT_EQ(getString(st, "verdict"), "Passed") << st.dump();
  EXPECT_EQ(controller::conditionStatus(st, "TotalsComplete"), std::optional<bool>(true)) << st.dump();
  EXPECT_EQ(st["agents"]["desired"], 2);
  EXPECT_EQ(st["users"], 20) << st.dump();  // the peak: spec.load.users over both agents

  // Conservation: every request the agents counted is a line in nginx's log, and no more.
  const int64_t requests = st["totals"]["requests"].get<int64_t>();
  ASSERT_GT(requests, 0) << st.dump();
  EXPECT_EQ((*nginx)->waitForAccessLogCount(requests), requests);
  EXPECT_EQ((*nginx)->requestCountFromAccessLog(), requests);
  std::cout << "nginx counted " << (*nginx)->requestCountFromAccessLog() << " requests; status totals " << requests
            << "\n";
  EXPECT_EQ(st["totals"]["failures"], 0);
  EXPECT_GT(st["totals"]["latency"]["p95"].get<double>(), 0);
  EXPECT_EQ(st["thresholds"].size(), 2u) << st.dump();

  // The full summary outlives the pods in a ConfigMap; it agrees with the status.
  auto cm = client_->get(resources::kConfigMaps, ns, getString(st, "summaryConfigMap"));
  ASSERT_TRUE(cm.ok()) << st.dump();
  auto summary = json::parse(getString(getObject(*cm, "data"), "summary.json"));
  EXPECT_EQ(summary["totals"]["requests"], requests);
  EXPECT_EQ(summary["agents"], 2);
  EXPECT_EQ(summary["runId"], getString(st, "runId"));

  ASSERT_EQ(kubectl("get lt -n " + ns, &out), 0) << out;
  for (const char* column : {"PHASE", "USERS", "AGENTS", "RPS", "P95", "ERRORS%", "VERDICT", "AGE"})
    EXPECT_NE(out.find(column), std::string::npos) << column << " in\n" << out;
  EXPECT_NE(out.find("Succeeded"), std::string::npos) << out;
  EXPECT_NE(out.find("Passed"), std::string::npos) << out;
  EXPECT_EQ(op.stop(), 0) << op.log();
}

// Restarting the operator mid-run (SIGTERM, as a rolling update does): the run is
// not aborted; the agents keep their load, redial the same address, and the new
// operator's coordinator adopts them under the same run id and token, so the run
// completes. Known limit (docs/operator.md): the new coordinator counts only what
// arrives after the restart, so the totals are at most nginx's count, not equal.
TEST_F(OperatorBinary, OperatorRestartMidRunReadoptsTheAgentsAndTheRunCompletes) {
  const auto& ns = watched_->name();
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto first = std::make_unique<OperatorProcess>(std::vector<std::string>{
      "--kubeconfig", kubeconfigPath(), "--namespace", ns, "--coordinator-listen", "127.0.0.1:0"});
  const int port = first->port("coordinator");
  ASSERT_GT(port, 0) << first->log();
  const std::string scenario = "name: restart\ntarget: " + (*nginx)->url() +
                               "\nusers: [{name: u, steps: [{get: /r}, {think: 100ms}]}]\n"
                               "load: {users: 6, spawnRate: 20, duration: 12s}\n";
  json lt{{"apiVersion", "herd.dev/v1alpha1"},
          {"kind", "LoadTest"},
          {"metadata", {{"name", "restart"}, {"namespace", ns}}},
          {"spec", {{"scenario", {{"inline", scenario}}}, {"agents", 2}}}};
  ASSERT_TRUE(client_->create(controller::kLoadTests, ns, lt).ok());
  ASSERT_TRUE(eventually(seconds(60),
                         [&] {
                           auto st = status(ns, "restart");
                           return getString(st, "phase") == "Running" && st.contains("totals") &&
                                  st["totals"].value("requests", 0) > 0;
                         }))
      << status(ns, "restart").dump() << first->log();
  const auto run_id = getString(status(ns, "restart"), "runId");

  EXPECT_EQ(first->stop(), 0) << first->log();
  first.reset();
  OperatorProcess second({"--kubeconfig", kubeconfigPath(), "--namespace", ns, "--coordinator-listen",
                          "127.0.0.1:" + std::to_string(port)});
  std::string out;
  const int waited = kubectl("wait -n " + ns + " --for=condition=Complete lt/restart --timeout=90s", &out);
  const auto st = status(ns, "restart");
  ASSERT_EQ(waited, 0) << out << st.dump() << second.log();
  EXPECT_EQ(getString(st, "runId"), run_id);  // the same run, not a new one
  EXPECT_EQ(getString(st, "phase"), "Succeeded") << st.dump() << second.log();
  const int64_t requests = st["totals"]["requests"].get<int64_t>();
  const int64_t counted = (*nginx)->waitForAccessLogCount(requests, "/r");
  EXPECT_GT(requests, 0) << st.dump();
  // The agents sent their whole history to the new coordinator: nothing from
  // before the restart is missing, nothing is counted twice.
  EXPECT_EQ(requests, counted) << st.dump() << second.log();
  std::cout << "nginx counted " << counted << " requests; the run's totals after the restart: " << requests << "\n";
  auto cm = client_->get(resources::kConfigMaps, ns, getString(st, "summaryConfigMap"));
  ASSERT_TRUE(cm.ok()) << st.dump();
  auto summary = json::parse(getString(getObject(*cm, "data"), "summary.json"));
  int adopted = 0;
  for (const auto& e : summary["events"]) adopted += e.value("message", "").find("adopted agent") == 0 ? 1 : 0;
  EXPECT_EQ(adopted, 2) << summary["events"].dump() << second.log();
  // The summary is the whole run's: its totals, its 12 s from the real start, all 6 users.
  EXPECT_EQ(summary["totals"]["requests"].get<int64_t>(), counted);
  EXPECT_NEAR(summary["durationSeconds"].get<double>(), 12.0, 0.5) << summary.dump();
  EXPECT_EQ(summary["users"]["peak"].get<int64_t>(), 6) << summary.dump();
  EXPECT_EQ(second.stop(), 0) << second.log();
}

// `kubectl scale` mid-run (issue 7): the run keeps its id, the coordinator
// admits or retires agents, the users are split over the new set, and the
// totals still equal nginx's own count. Returns the run's summary.
class OperatorScale : public OperatorBinary {
 protected:
  json scaleMidRun(const std::string& name, int from, int to) {
    const auto& ns = watched_->name();
    auto nginx = test_support::NginxServer::start();
    EXPECT_TRUE(nginx.ok()) << nginx.error().describe();
    if (!nginx.ok()) return {};
    OperatorProcess op({"--kubeconfig", kubeconfigPath(), "--namespace", ns, "--coordinator-listen", "127.0.0.1:0"});
    EXPECT_GT(op.port("coordinator"), 0) << op.log();
    const std::string scenario = "name: " + name + "\ntarget: " + (*nginx)->url() +
                                 "\nusers: [{name: u, steps: [{get: /s}, {think: 100ms}]}]\n"
                                 "load: {users: 6, spawnRate: 30, duration: 15s}\n";
    json lt{{"apiVersion", "herd.dev/v1alpha1"},
            {"kind", "LoadTest"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec", {{"scenario", {{"inline", scenario}}}, {"agents", from}}}};
    EXPECT_TRUE(client_->create(controller::kLoadTests, ns, lt).ok());
    EXPECT_TRUE(eventually(seconds(60),
                           [&] {
                             auto st = status(ns, name);
                             return getString(st, "phase") == "Running" && st.contains("totals") &&
                                    st["totals"].value("requests", 0) > 0;
                           }))
        << status(ns, name).dump() << op.log();
    const auto run_id = getString(status(ns, name), "runId");

    std::string out;
    EXPECT_EQ(kubectl("scale -n " + ns + " lt/" + name + " --replicas " + std::to_string(to), &out), 0) << out;
    // The live status follows: the new count desired and connected, while the run goes.
    EXPECT_TRUE(eventually(seconds(20),
                           [&] {
                             auto st = status(ns, name);
                             return getString(st, "phase") == "Running" && st["agents"].value("desired", 0) == to &&
                                    st["agents"].value("connected", 0) == to;
                           }))
        << status(ns, name).dump() << op.log();

    const int waited = kubectl("wait -n " + ns + " --for=condition=Complete lt/" + name + " --timeout=90s", &out);
    const auto st = status(ns, name);
    EXPECT_EQ(waited, 0) << out << st.dump() << op.log();
    EXPECT_EQ(getString(st, "runId"), run_id);  // the same run, rescaled
    EXPECT_EQ(getString(st, "phase"), "Succeeded") << st.dump() << op.log();
    EXPECT_EQ(st["agents"]["desired"], to);
    for (const auto& c : st["conditions"])
      if (getString(c, "type") == "Degraded") {
        EXPECT_EQ(getString(c, "status"), "False") << c.dump();
      }
    // Conservation: every request counted is a line in nginx's log, and no more.
    const int64_t requests = st["totals"]["requests"].get<int64_t>();
    EXPECT_GT(requests, 0) << st.dump();
    EXPECT_EQ((*nginx)->waitForAccessLogCount(requests, "/s"), requests);
    EXPECT_EQ((*nginx)->requestCountFromAccessLog(), requests);
    std::cout << name << ": nginx counted " << (*nginx)->requestCountFromAccessLog() << " requests; status totals "
              << requests << "\n";

    ListOptions opts;
    opts.field_selector = "involvedObject.name=" + name;
    auto events = client_->listAll(resources::kEvents, ns, opts);
    std::vector<std::string> reasons;
    if (events.ok())
      for (const auto& e : (*events)["items"]) reasons.push_back(getString(e, "reason"));
    EXPECT_NE(std::find(reasons.begin(), reasons.end(), "AgentsScaled"), reasons.end())
        << ::testing::PrintToString(reasons);
    EXPECT_EQ(std::find(reasons.begin(), reasons.end(), "AgentLost"), reasons.end())
        << ::testing::PrintToString(reasons);

    auto cm = client_->get(resources::kConfigMaps, ns, getString(st, "summaryConfigMap"));
    EXPECT_TRUE(cm.ok()) << st.dump();
    if (!cm.ok()) return {};
    auto summary = json::parse(getString(getObject(*cm, "data"), "summary.json"));
    EXPECT_EQ(summary["totals"]["requests"], requests);
    // The per-agent counts add up to the totals: a retired agent's are kept, none twice.
    int64_t per_agent = 0;
    for (const auto& agent : summary["distributed"]["agents"]) per_agent += agent["requests"].get<int64_t>();
    EXPECT_EQ(per_agent, requests) << summary["distributed"].dump();
    for (const auto& agent : summary["distributed"]["agents"])
      std::cout << name << ": agent " << agent["id"].get<std::string>() << " " << agent["state"].get<std::string>()
                << ", users " << agent["users"] << ", requests " << agent["requests"] << "\n";
    for (const auto& e : summary["events"]) std::cout << name << ": event " << e.dump() << "\n";
    EXPECT_EQ(op.stop(), 0) << op.log();
    return summary;
  }

  // Users per agent in the summary, by state.
  static std::map<std::string, std::vector<int64_t>> usersByState(const json& summary) {
    std::map<std::string, std::vector<int64_t>> out;
    for (const auto& agent : summary["distributed"]["agents"])
      out[agent["state"].get<std::string>()].push_back(agent["users"].get<int64_t>());
    return out;
  }
};

TEST_F(OperatorScale, ScalingUpMidRunAddsAnAgentAndSplitsTheUsersOverThree) {
  const auto summary = scaleMidRun("grow", 2, 3);
  ASSERT_FALSE(summary.is_null());
  // 6 users: 3 + 3 on two agents, then 2 + 2 + 2 on three, all finished.
  EXPECT_EQ(usersByState(summary), (std::map<std::string, std::vector<int64_t>>{{"finished", {2, 2, 2}}}))
      << summary["distributed"].dump();
  EXPECT_EQ(summary["agents"], 3);
  for (const auto& agent : summary["distributed"]["agents"]) EXPECT_GT(agent["requests"].get<int64_t>(), 0);
}

TEST_F(OperatorScale, ScalingDownMidRunRetiresTheHighestIndexAgentWithoutLosingIt) {
  const auto summary = scaleMidRun("shrink", 3, 2);
  ASSERT_FALSE(summary.is_null());
  // 6 users: 2 + 2 + 2, then 3 + 3 on the two left; the third retired, its counts kept.
  EXPECT_EQ(usersByState(summary),
            (std::map<std::string, std::vector<int64_t>>{{"finished", {3, 3}}, {"retired", {0}}}))
      << summary["distributed"].dump();
  for (const auto& agent : summary["distributed"]["agents"]) {
    EXPECT_GT(agent["requests"].get<int64_t>(), 0) << agent.dump();
    // The highest index goes: pod NAME-agent-2, agent id NAME-agent-2/UID.
    if (agent["state"] == "retired") {
      EXPECT_NE(agent["id"].get<std::string>().find("-agent-2/"), std::string::npos) << agent.dump();
    }
  }
}

}  // namespace
}  // namespace herd::k8s::testing
