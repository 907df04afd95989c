// Failover mid-run between two `herd-operator --leader-elect` processes against
// the real apiserver. The agents (pod-runner processes) reach the operators
// through one address, a TCP proxy standing in for the chart's Service, which
// selects the leader's pod by its leader label (here: the replica whose
// /metrics says herd_operator_leader 1, set the moment it takes the Lease,
// before its reconciler has run). The leader is SIGKILLed 20 s into a 60 s run
// of 20 users on 2 agents against nginx on loopback, and the run must complete
// with nginx's own count and no agent pod failing. After the kill the proxy
// sends the redialling agents to the standby, which has been up longer than its
// hold window (--hold-unknown-runs, short here) and does not lead until the old
// Lease expires: it refuses them (UNKNOWN_RUN), and they must retry instead of
// exiting until it leads and takes the run over. That the window opens again on
// leadership (so agents that reach a new leader before its reconciler has
// adopted the run are held, not refused) is shown deterministically by
// operator/coordinator/live_coordinator_test.cc; here the new leader must simply
// never answer UNKNOWN_RUN.
// Plaintext (--coordinator-insecure) keeps the proxy's routing simple; failover
// over TLS runs in the e2e-cluster tier (failover_kill, failover_restart) and in
// OperatorBinary's restart test.
#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "operator/controller/builders.h"
#include "operator/controller/loadtest.h"
#include "operator_fixture.h"
#include "operator_process.h"
#include "tcp_proxy.h"
#include "tests/support/nginx_server.h"

namespace herd::k8s::testing {
namespace {

using json = Json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The operators' hold window for agents of runs they do not hold yet; the
// standby is older than twice that when the leader dies, so only a window that
// starts with leadership saves the run.
constexpr auto kHold = seconds(5);
constexpr auto kKillAfter = seconds(20);  // into the run

// The distinct peers the log shows refused as of an unknown run.
size_t refusedPeers(const std::string& log) {
  std::set<std::string> peers;
  const std::regex refused("refused (\\S+): unknown run");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), refused); it != std::sregex_iterator(); ++it)
    peers.insert((*it)[1]);
  return peers.size();
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}
constexpr const char* kScenario =
    "name: failover\ntarget: {URL}\nusers: [{name: u, steps: [{get: /f}, {think: 50ms}]}]\n"
    "load: {users: 20, spawnRate: 100, duration: 60s}\n";

class OperatorFailover : public LoadTestNamespaceTest {
 protected:
  // Every agent pod of the LoadTest seen so far, with its last phase.
  void notePods(const std::string& name) {
    ListOptions opts;
    opts.label_selector = std::string(controller::kLabelLoadTest) + "=" + name;
    auto pods = client_->listAll(resources::kPods, ns_->name(), opts);
    if (!pods.ok()) return;
    for (const auto& pod : (*pods)["items"])
      pods_[getString(pod["metadata"], "name")] = getString(getObject(pod, "status"), "phase");
  }
  std::string podLogs() {
    std::string out;
    for (const auto& [pod, phase] : pods_) {
      std::ifstream f(podDir(ns_->name(), pod) + "/container.log");
      std::stringstream ss;
      ss << f.rdbuf();
      auto text = ss.str();
      out += "--- " + pod + " (" + phase + ")\n" + text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
    }
    return out;
  }

  std::map<std::string, std::string> pods_;
};

TEST_F(OperatorFailover, StandbyPastItsHoldWindowTakesOverMidRunAndTheTotalsAreNginxsCount) {
  const auto& ns = ns_->name();
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();

  std::array<std::atomic<int>, 2> metrics{}, coordinator{};
  auto leading = [&](size_t i) {
    return metrics[i] > 0 && httpGet(metrics[i], "/metrics").find("herd_operator_leader 1") != std::string::npos;
  };
  std::atomic<bool> to_standby{false};
  std::atomic<int> standby_port{0};
  TcpProxy service([&] {
    if (to_standby) return standby_port.load();
    for (size_t i = 0; i < 2; ++i)
      if (leading(i)) return coordinator[i].load();
    return 0;
  });
  const auto started = Clock::now();
  std::array<std::unique_ptr<OperatorProcess>, 2> replicas;
  for (size_t i = 0; i < 2; ++i) {
    replicas[i] = std::make_unique<OperatorProcess>(std::vector<std::string>{
        "--kubeconfig", kubeconfigPath(), "--namespace", ns, "--leader-elect", "--metrics-listen", "127.0.0.1:0",
        "--coordinator-listen", "127.0.0.1:0", "--coordinator-advertise", "127.0.0.1:" + std::to_string(service.port()),
        "--hold-unknown-runs", std::to_string(kHold.count()), "--coordinator-insecure"});
  }
  for (size_t i = 0; i < 2; ++i) {
    metrics[i] = replicas[i]->port("metrics");
    coordinator[i] = replicas[i]->port("coordinator");
    ASSERT_GT(metrics[i], 0) << replicas[i]->log();
    ASSERT_GT(coordinator[i], 0) << replicas[i]->log();
  }
  ASSERT_TRUE(eventually(seconds(60), [&] { return leading(0) || leading(1); })) << replicas[0]->log();
  const size_t leader = leading(0) ? 0 : 1, standby = 1 - leader;
  standby_port = coordinator[standby].load();
  ASSERT_FALSE(leading(standby)) << "two leaders";
  const std::string scenario = std::regex_replace(kScenario, std::regex("\\{URL\\}"), (*nginx)->url());
  json lt{{"apiVersion", "herd.dev/v1alpha1"},
          {"kind", "LoadTest"},
          {"metadata", {{"name", "failover"}, {"namespace", ns}}},
          {"spec", {{"scenario", {{"inline", scenario}}}, {"agents", 2}}}};
  ASSERT_TRUE(client_->create(controller::kLoadTests, ns, lt).ok());
  ASSERT_TRUE(eventually(seconds(60),
                         [&] {
                           auto st = status("failover");
                           return getString(st, "phase") == "Running" &&
                                  getObject(st, "totals").value("requests", 0) > 0;
                         }))
      << status("failover").dump() << replicas[leader]->log();
  const auto running = Clock::now();
  const auto run_id = getString(status("failover"), "runId");
  notePods("failover");

  std::this_thread::sleep_until(running + kKillAfter);  // mid-run: the wait is the point, not a sync
  const auto standby_age = std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_GT(standby_age, 2.0 * static_cast<double>(kHold.count()));
  const int64_t before_kill = (*nginx)->requestCountFromAccessLog("/f");
  replicas[leader]->kill();
  const auto killed = Clock::now();
  // The agents redial the standby, which does not lead yet and refuses them.
  to_standby = true;
  service.closeAll();
  ASSERT_TRUE(eventually(seconds(10), [&] { return refusedPeers(replicas[standby]->log()) >= 2; }))
      << "the standby did not refuse both agents\n"
      << replicas[standby]->log();
  // It leads once the old Lease (15 s) has expired; the agents are still there.
  ASSERT_TRUE(eventually(seconds(40), [&] { return leading(standby); })) << replicas[standby]->log();
  const auto takeover = std::chrono::duration<double>(Clock::now() - killed).count();

  auto last_pods = Clock::now();
  const bool ended = eventually(seconds(150), [&] {
    if (Clock::now() - last_pods > std::chrono::milliseconds(500)) {
      notePods("failover");
      last_pods = Clock::now();
    }
    const auto phase = getString(status("failover"), "phase");
    return phase == "Succeeded" || phase == "Failed";
  });
  notePods("failover");
  const auto st = status("failover");
  ASSERT_TRUE(ended) << st.dump() << replicas[standby]->log() << podLogs();
  EXPECT_EQ(getString(st, "runId"), run_id);  // the same run, taken over
  EXPECT_EQ(getString(st, "phase"), "Succeeded") << st.dump() << replicas[standby]->log();
  EXPECT_EQ(getString(st, "verdict"), "Passed") << st.dump();
  EXPECT_NE(controller::conditionStatus(st, "Degraded"), std::optional<bool>(true)) << st.dump();
  EXPECT_EQ(controller::conditionStatus(st, "TotalsComplete"), std::optional<bool>(true)) << st.dump();
  // The two pods the first leader started ran the whole run: none failed, none replaced.
  EXPECT_EQ(pods_.size(), 2u) << podLogs();
  for (const auto& [pod, phase] : pods_) EXPECT_NE(phase, "Failed") << pod << "\n" << podLogs();
  // As the standby it refused the agents; as the leader it never answered
  // UNKNOWN_RUN.
  const auto log = replicas[standby]->log();
  const auto leading_at = log.find("leading as");
  ASSERT_NE(leading_at, std::string::npos) << log;
  const std::string as_standby = log.substr(0, leading_at), as_leader = log.substr(leading_at);
  EXPECT_GE(refusedPeers(as_standby), 2u) << log;
  EXPECT_EQ(as_leader.find("unknown run"), std::string::npos) << log;
  const int64_t requests = st["totals"]["requests"].get<int64_t>();
  const int64_t counted = (*nginx)->waitForAccessLogCount(requests, "/f");
  EXPECT_GT(before_kill, 0);
  EXPECT_EQ(requests, counted) << st.dump() << log;
  auto cm = client_->get(resources::kConfigMaps, ns, getString(st, "summaryConfigMap"));
  ASSERT_TRUE(cm.ok()) << st.dump();
  auto summary = json::parse(getString(getObject(*cm, "data"), "summary.json"));
  int adopted = 0;
  for (const auto& e : summary["events"]) adopted += e.value("message", "").find("adopted agent") == 0 ? 1 : 0;
  EXPECT_EQ(adopted, 2) << summary["events"].dump();
  EXPECT_EQ(summary["totals"]["requests"].get<int64_t>(), counted);
  EXPECT_EQ(summary["users"]["peak"].get<int64_t>(), 20) << summary.dump();
  std::cout << "standby up " << standby_age << " s at the kill; leader again after " << takeover << " s; nginx counted "
            << counted << " requests (" << before_kill << " before the kill); status totals " << requests
            << "; proxied connections " << service.forwarded() << "; agents held by the new leader "
            << occurrences(as_leader, "holding agent") << "\n";
  EXPECT_EQ(replicas[standby]->stop(), 0) << log;
}

}  // namespace
}  // namespace herd::k8s::testing
