#pragma once
// The fixture of the LoadTest reconciler's cluster tests (operator_test.cc,
// operator_schedule_test.cc): the real apiserver + etcd + kube-controller-manager,
// agent pods run by the pod-runner (the test kubelet stand-in, started by
// tests/cluster/up) and a scripted coordinator in place of the distributed one,
// driven by each test.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "operator/controller/builders.h"
#include "operator/controller/loadtest.h"
#include "operator_fixture.h"

namespace herd::k8s::testing {

using json = Json;
using controller::kLoadTests;
using controller::RunProgress;
using std::chrono::seconds;

inline constexpr const char* kScenario = R"(name: shop
target: http://127.0.0.1:8080
users:
  - name: browser
    steps:
      - get: /products
      - think: 100ms
load: {users: 10, spawnRate: 10, duration: 5s}
)";

class Operator : public LoadTestNamespaceTest {
 protected:
  void TearDown() override {
    harness_.reset();
    LoadTestNamespaceTest::TearDown();
  }

  void startOperator(controller::RunCoordinator& c, std::vector<std::string> command = sleepingAgent()) {
    harness_ = std::make_unique<OperatorHarness>(*client_, ns(), c, std::move(command));
  }

  json create(const std::string& name, json spec) {
    json lt{{"apiVersion", "herd.dev/v1alpha1"},
            {"kind", "LoadTest"},
            {"metadata", {{"name", name}, {"namespace", ns()}}},
            {"spec", std::move(spec)}};
    auto created = client_->create(kLoadTests, ns(), lt);
    EXPECT_TRUE(created.ok()) << created.error().describe();
    return created.ok() ? *created : json();
  }
  json basicSpec(int agents) { return {{"scenario", {{"inline", kScenario}}}, {"agents", agents}}; }

  // Waits until pred(status) holds; the failure message shows the last status.
  ::testing::AssertionResult waitStatus(const std::string& name, const std::function<bool(const json&)>& pred,
                                        std::chrono::milliseconds limit = seconds(30)) {
    json last;
    if (eventually(limit, [&] {
          last = status(name);
          return pred(last);
        }))
      return ::testing::AssertionSuccess();
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
    for (const auto& p : pods(run_id)) n += controller::classifyPod(p).state == controller::PodHealth::State::kReady;
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
    EXPECT_TRUE(
        waitStatus(name, [&](const json& s) { return k8s::getInt(getObject(s, "agents"), "ready") == agents; }));
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

  // Declared before the harness: its workers call the coordinator until it stops.
  ScriptedCoordinator coord;
  std::unique_ptr<controller::RunCoordinator> other_coord_;
  std::unique_ptr<OperatorHarness> harness_;
};

}  // namespace herd::k8s::testing
