// Many LoadTests at once against one herd-operator process (pod-runner tier):
// 50 LoadTests applied together, each with 2 agent pods run as `herd agent`
// processes, each sending to its own path of one nginx on loopback. Every run
// must complete with its status totals equal to nginx's count for its path.
// The test also measures what such a fleet costs: the operator's requests to
// the apiserver (its own herd_operator_apiserver_requests_total) per run per
// minute, and the time from `kubectl apply` to each run's first request at
// nginx. It prints both; docs/capacity.md quotes them.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "common/core/clock.h"
#include "operator/controller/loadtest.h"
#include "operator_fixture.h"
#include "operator_process.h"
#include "tests/support/nginx_server.h"

namespace herd::k8s::testing {
namespace {

using json = Json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kLoadTests = 50;
// What one LoadTest costs the apiserver per minute of its life: the reconciler
// writes status about once a second while a run is live (docs/operator.md), so a
// polling storm (a list or a get per object per pass) shows far above this.
constexpr double kRequestsPerRunPerMinuteBound = 150;

std::string name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "fleet-%02d", i);
  return buf;
}

// Each run's own path, so nginx's log says which run sent what.
std::string path(int i) { return "/" + name(i); }

std::string manifest(const std::string& url) {
  std::string out;
  for (int i = 0; i < kLoadTests; ++i) {
    out += "---\napiVersion: herd.dev/v1alpha1\nkind: LoadTest\nmetadata: {name: " + name(i) +
           "}\nspec:\n  agents: 2\n  scenario:\n    inline: |\n      name: " + name(i) + "\n      target: " + url +
           "\n      users: [{name: u, steps: [{get: " + path(i) +
           "}, {think: 100ms}]}]\n      load: {users: 4, spawnRate: 4, duration: 5s}\n";
  }
  return out;
}

// The sum of herd_operator_apiserver_requests_total over its verbs, or -1.
int64_t apiserverRequests(int metrics_port) {
  const auto text = httpGet(metrics_port, "/metrics");
  static const std::regex line(R"(herd_operator_apiserver_requests_total\{verb="[A-Z]+"\} ([0-9]+))");
  int64_t sum = 0;
  int verbs = 0;
  for (std::sregex_iterator m(text.begin(), text.end(), line), end; m != end; ++m, ++verbs) sum += std::stoll((*m)[1]);
  return verbs > 0 ? sum : -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

class OperatorFleet : public LoadTestNamespaceTest {
 protected:
  std::map<std::string, json> statuses() {
    std::map<std::string, json> out;
    auto list = client_->listAll(controller::kLoadTests, ns());
    if (!list.ok()) return out;
    for (const auto& lt : (*list)["items"]) out[getString(getObject(lt, "metadata"), "name")] = getObject(lt, "status");
    return out;
  }
};

TEST_F(OperatorFleet, FiftyLoadTestsStartedTogetherAllCompleteWithTotalsEqualToNginx) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  OperatorProcess op({"--kubeconfig", kubeconfigPath(), "--namespace", ns(), "--coordinator-listen", "127.0.0.1:0",
                      "--metrics-listen", "127.0.0.1:0"});
  ASSERT_GT(op.port("coordinator"), 0) << op.log();
  const int metrics = op.port("metrics");
  ASSERT_GT(metrics, 0) << op.log();
  ASSERT_TRUE(eventually(seconds(30), [&] { return op.log().find("controller started") != std::string::npos; }))
      << op.log();

  const auto file = std::filesystem::temp_directory_path() / ("herd-fleet-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(file) << manifest((*nginx)->url());
  const int64_t requests_before = apiserverRequests(metrics);
  ASSERT_GE(requests_before, 0);
  const auto applied = Clock::now();
  std::string out;
  ASSERT_EQ(kubectl("apply -n " + ns() + " -f " + file.string(), &out), 0) << out;
  std::filesystem::remove(file);

  // Until every run has ended (at most 5 minutes): when each path first shows
  // in nginx's log, and each run's phase.
  std::map<std::string, double> first_request_s;
  std::map<std::string, json> st;
  const auto deadline = applied + std::chrono::minutes(5);
  auto ended = [](const json& s) {
    const auto phase = getString(s, "phase");
    return phase == "Succeeded" || phase == "Failed";
  };
  for (auto next_status = applied;; std::this_thread::sleep_for(milliseconds(200))) {
    const auto now = Clock::now();
    for (const auto& entry : (*nginx)->accessLog()) {
      if (!first_request_s.contains(entry.uri))
        first_request_s[entry.uri] = std::chrono::duration<double>(now - applied).count();
    }
    if (now >= next_status) {
      st = statuses();
      next_status = now + seconds(1);
      if (st.size() == kLoadTests && std::all_of(st.begin(), st.end(), [&](const auto& s) { return ended(s.second); }))
        break;
    }
    ASSERT_LT(now, deadline) << "not every run ended within 5 minutes\n" << op.log();
  }
  const double minutes = std::chrono::duration<double>(Clock::now() - applied).count() / 60;
  const int64_t requests_after = apiserverRequests(metrics);

  // Every run passed, and counted exactly what nginx logged for its path.
  int64_t total = 0;
  for (const auto& [lt, s] : st) total += s["totals"]["requests"].get<int64_t>();
  EXPECT_EQ((*nginx)->waitForAccessLogCount(total), total);
  std::vector<double> to_first;
  size_t status_bytes = 0;
  for (int i = 0; i < kLoadTests; ++i) {
    const auto& s = st[name(i)];
    EXPECT_EQ(getString(s, "phase"), "Succeeded") << name(i) << " " << s.dump();
    EXPECT_EQ(controller::conditionStatus(s, "TotalsComplete"), std::optional<bool>(true)) << name(i) << s.dump();
    const int64_t counted = s["totals"]["requests"].get<int64_t>();
    EXPECT_GT(counted, 0) << name(i);
    EXPECT_EQ(counted, (*nginx)->requestCountFromAccessLog(path(i))) << name(i);
    EXPECT_EQ(s["totals"]["failures"], 0) << name(i);
    EXPECT_TRUE(first_request_s.contains(path(i))) << name(i);
    status_bytes = std::max(status_bytes, s.dump().size());
    to_first.push_back(first_request_s[path(i)]);
  }
  EXPECT_EQ((*nginx)->requestCountFromAccessLog(), total);  // nothing else reached nginx

  const double per_run_minute = double(requests_after - requests_before) / kLoadTests / minutes;
  std::printf(
      "%d LoadTests, 2 agents each: all ended %.1f s after apply; %lld requests, nginx counted %lld\n"
      "operator -> apiserver: %lld requests, %.1f per run per minute\n"
      "apply to first request at nginx: min %.1f s, median %.1f s, max %.1f s\n"
      "largest status: %zu bytes (JSON)\n",
      kLoadTests, minutes * 60, static_cast<long long>(total),
      static_cast<long long>((*nginx)->requestCountFromAccessLog()),
      static_cast<long long>(requests_after - requests_before), per_run_minute,
      *std::min_element(to_first.begin(), to_first.end()), median(to_first),
      *std::max_element(to_first.begin(), to_first.end()), status_bytes);
  EXPECT_LT(per_run_minute, kRequestsPerRunPerMinuteBound);
  EXPECT_EQ(op.stop(), 0) << op.log();
}

}  // namespace
}  // namespace herd::k8s::testing
