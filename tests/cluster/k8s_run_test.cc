// `herd k8s run` and `herd k8s report` as a CI job uses them, against the real
// apiserver: herd-operator as a process, agent pods run by the pod-runner, load
// against nginx on loopback. Exit codes 0 (passed, table and files, the report
// clean in Chromium), 1 (a threshold failed), 2 (the apiserver refuses the
// manifest, with its message; the scenario does not compile), 3 (no apiserver);
// and the results fetched again after ttlSecondsAfterFinished removed the pods.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#include "common/core/clock.h"
#include "common/core/crypto.h"
#include "operator/controller/loadtest.h"
#include "operator_fixture.h"
#include "operator_process.h"
#include "tests/support/nginx_server.h"
#include "tests/support/process.h"

namespace herd::k8s::testing {
namespace {

using json = Json;
using std::chrono::seconds;
namespace fs = std::filesystem;

std::string readText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Cli {
  int code = -1;
  std::string output;  // stdout and stderr
};

class K8sRun : public LoadTestNamespaceTest {
 protected:
  void SetUp() override {
    LoadTestNamespaceTest::SetUp();
    if (IsSkipped()) return;
    dir_ = fs::temp_directory_path() / ("herd-k8srun-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    LoadTestNamespaceTest::TearDown();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  // `herd ARGS...` to completion (at most 3 minutes).
  Cli herd(std::vector<std::string> args) {
    const auto log = dir_ / ("herd-" + std::to_string(++calls_) + ".log");
    args.insert(args.begin(), HERD_CLI_BIN);
    auto code = test_support::runCommand(args, log, std::chrono::minutes(3));
    Cli out{code ? *code : -1, readText(log)};
    std::cout << "$ herd";
    for (size_t i = 1; i < args.size(); ++i) std::cout << " " << args[i];
    std::cout << "\n" << out.output << "exit " << out.code << "\n";
    return out;
  }
  // The example LoadTest with its target moved to nginx, edited by `edit`.
  fs::path manifest(const std::string& url, const std::function<std::string(std::string)>& edit = {}) {
    auto text = readText(std::string(HERD_SOURCE_DIR) + "/examples/k8s/loadtest-inline.yaml");
    text = std::regex_replace(text, std::regex("http://127\\.0\\.0\\.1:8080"), url);
    text = std::regex_replace(text, std::regex("duration: 10s"), "duration: 4s");
    if (edit) text = edit(text);
    const auto path = dir_ / ("loadtest-" + std::to_string(++manifests_) + ".yaml");
    std::ofstream(path) << text;
    return path;
  }
  std::unique_ptr<OperatorProcess> startOperator() {
    auto op = std::make_unique<OperatorProcess>(std::vector<std::string>{
        "--kubeconfig", kubeconfigPath(), "--namespace", ns_->name(), "--coordinator-listen", "127.0.0.1:0"});
    EXPECT_GT(op->port("coordinator"), 0) << op->log();
    return op;
  }
  fs::path dir_;
  int calls_ = 0, manifests_ = 0;
};

TEST_F(K8sRun, PassingRunExits0WithTheTableAndFilesWhichOutliveThePods) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto op = startOperator();
  const auto file = manifest((*nginx)->url(), [](std::string text) {
    return std::regex_replace(text, std::regex("ttlSecondsAfterFinished: 3600"), "ttlSecondsAfterFinished: 1");
  });
  const auto out = dir_ / "out";
  auto run = herd({"k8s", "run", file.string(), "-n", ns_->name(), "--kubeconfig", kubeconfigPath(), "--out",
                   out.string(), "--timeout", "2m"});
  ASSERT_EQ(run.code, 0) << run.output << op->log();
  // Progress lines from the status while the load goes, then herd run's table.
  EXPECT_TRUE(std::regex_search(run.output, std::regex(R"(\d+s  users \d+/20  rps [0-9.]+  failures 0)")))
      << run.output;
  for (const char* part : {"Name", "p95 ms", "/products?page=[n]", "/cart", "Total", "Thresholds",
                           "pass  http.latency p95 < 500ms", "verdict: passed"})
    EXPECT_NE(run.output.find(part), std::string::npos) << part << " in\n" << run.output;

  const auto lt = loadTest("shop-smoke");
  const auto& st = lt["status"];
  const auto summary = json::parse(readText(out / "summary.json"));
  EXPECT_EQ(summary["runId"], st["runId"]);
  EXPECT_EQ(summary["verdict"], "passed");
  EXPECT_EQ(summary["totals"]["requests"], st["totals"]["requests"]);
  EXPECT_EQ((*nginx)->waitForAccessLogCount(summary["totals"]["requests"].get<int64_t>()),
            summary["totals"]["requests"].get<int64_t>());

  // The operator kept the report (gzipped, with the charts' per-second series) beside the summary.
  auto cm = client_->get(resources::kConfigMaps, ns_->name(), st["summaryConfigMap"].get<std::string>());
  ASSERT_TRUE(cm.ok());
  EXPECT_TRUE((*cm)["binaryData"].contains("report.html.gz")) << (*cm)["metadata"].dump();
  const auto html = readText(out / "report.html");
  EXPECT_EQ(html.find("\"t\":[]"), std::string::npos) << "the series is empty";
  EXPECT_NE(html.find("\"t\":[1"), std::string::npos);

  // The report opens in headless Chromium: no console errors, nothing fetched.
  const auto opened = dir_ / "opened.json";
  auto chromium = test_support::runCommand(
      {"/usr/bin/python3", std::string(HERD_CLUSTER_SCRIPTS) + "/open_report.py", (out / "report.html").string()},
      opened, std::chrono::seconds(90));
  ASSERT_TRUE(chromium.ok() && *chromium == 0) << readText(opened);
  const auto page = json::parse(readText(opened));
  EXPECT_EQ(page["errors"], json::array()) << page.dump();
  EXPECT_EQ(page["requested"], json::array({page["url"]})) << page.dump();
  EXPECT_EQ(page["endpointRows"], 3) << page.dump();  // two endpoints and the total

  // ttlSecondsAfterFinished: 1 removes the run's pods; the results stay.
  ASSERT_TRUE(eventually(seconds(60), [&] { return loadTest("shop-smoke")["status"].value("cleanedUp", false); }))
      << loadTest("shop-smoke").dump();
  ListOptions pods;
  pods.label_selector = "herd.dev/loadtest=shop-smoke";
  EXPECT_EQ((*client_->listAll(resources::kPods, ns_->name(), pods))["items"].size(), 0u);
  const auto again = dir_ / "again";
  auto report = herd(
      {"k8s", "report", "shop-smoke", "-n", ns_->name(), "--kubeconfig", kubeconfigPath(), "--out", again.string()});
  ASSERT_EQ(report.code, 0) << report.output;
  EXPECT_NE(report.output.find("verdict: passed"), std::string::npos) << report.output;
  EXPECT_EQ(readText(again / "summary.json"), readText(out / "summary.json"));
  EXPECT_EQ(readText(again / "report.html"), readText(out / "report.html"));
  auto unknown = herd({"k8s", "report", "shop-smoke", "--run", "nope", "-n", ns_->name(), "--kubeconfig",
                       kubeconfigPath(), "--out", again.string()});
  EXPECT_EQ(unknown.code, 2) << unknown.output;
  EXPECT_EQ(op->stop(), 0) << op->log();
}

TEST_F(K8sRun, FailingThresholdExits1AndASecondRunOfTheSameLoadTestIsFollowed) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto op = startOperator();
  const auto file = manifest((*nginx)->url(), [](std::string text) {
    text = std::regex_replace(text, std::regex("ttlSecondsAfterFinished: 3600"), "historyLimit: 1");
    return std::regex_replace(text, std::regex(R"(- "http.failures rate < 1%")"),
                              R"(- "http.requests count >= 1000000000")");
  });
  auto first = herd({"k8s", "run", file.string(), "-n", ns_->name(), "--kubeconfig", kubeconfigPath()});
  ASSERT_EQ(first.code, 1) << first.output << op->log();
  EXPECT_NE(first.output.find("FAIL  http.requests count >= 1000000000"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("verdict: failed"), std::string::npos) << first.output;
  const json first_run = loadTest("shop-smoke")["status"]["runId"];
  // The same manifest again: a new herd.dev/run value starts (and follows) a new run.
  auto second = herd({"k8s", "run", file.string(), "-n", ns_->name(), "--kubeconfig", kubeconfigPath()});
  EXPECT_EQ(second.code, 1) << second.output;
  const auto st = loadTest("shop-smoke")["status"];
  EXPECT_NE(st["runId"], first_run);
  // historyLimit 1: the first run left the history, and its kept results with it.
  EXPECT_EQ(st["history"].size(), 1u) << st.dump();
  EXPECT_TRUE(eventually(seconds(10), [&] {
    auto gone = client_->get(resources::kConfigMaps, ns_->name(), first_run.get<std::string>() + "-summary");
    return !gone.ok() && gone.error().isNotFound();
  }));
  EXPECT_TRUE(client_->get(resources::kConfigMaps, ns_->name(), st["summaryConfigMap"].get<std::string>()).ok());
  auto old = herd({"k8s", "report", "shop-smoke", "--run", first_run.get<std::string>(), "-n", ns_->name(),
                   "--kubeconfig", kubeconfigPath()});
  EXPECT_EQ(old.code, 2) << old.output;
  EXPECT_EQ(op->stop(), 0) << op->log();
}

TEST_F(K8sRun, InvalidManifestExits2WithTheApiserversMessage) {
  auto op = startOperator();
  // The CRD's schema refuses it at apply: 422 with the field's path.
  const auto bad = manifest("http://127.0.0.1:9", [](std::string text) {
    return std::regex_replace(text, std::regex("agents: 2"), "agents: -3");
  });
  auto refused = herd({"k8s", "run", bad.string(), "-n", ns_->name(), "--kubeconfig", kubeconfigPath()});
  EXPECT_EQ(refused.code, 2) << refused.output;
  EXPECT_NE(refused.output.find("422"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("spec.agents"), std::string::npos) << refused.output;
  EXPECT_TRUE(loadTest("shop-smoke").empty());
  // A scenario that does not compile: the operator refuses the run, with the compiler's place.
  const auto wrong = manifest("http://127.0.0.1:9", [](std::string text) {
    return std::regex_replace(text, std::regex("- get: /cart"), "- gett: /cart");
  });
  auto invalid = herd({"k8s", "run", wrong.string(), "-n", ns_->name(), "--kubeconfig", kubeconfigPath()});
  EXPECT_EQ(invalid.code, 2) << invalid.output << op->log();
  EXPECT_NE(invalid.output.find("InvalidScenario"), std::string::npos) << invalid.output;
  // Not a LoadTest at all, and not YAML: refused before any request.
  std::ofstream(dir_ / "pod.yaml") << "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";
  auto pod = herd({"k8s", "run", (dir_ / "pod.yaml").string(), "--kubeconfig", kubeconfigPath()});
  EXPECT_EQ(pod.code, 2) << pod.output;
  EXPECT_NE(pod.output.find("kind"), std::string::npos) << pod.output;
  EXPECT_EQ(op->stop(), 0) << op->log();
}

// Ctrl-C without a terminal (a cancelled CI job): the run is stopped in the
// cluster (herd.dev/stop), ends early with a verdict on what it measured, and
// herd prints and exits with it.
TEST_F(K8sRun, InterruptedWithoutATerminalStopsTheRunAndReportsIt) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto op = startOperator();
  const auto file = manifest((*nginx)->url(), [](std::string text) {
    return std::regex_replace(text, std::regex("duration: 4s"), "duration: 5m");
  });
  const auto log = dir_ / "interrupted.log";
  // In the background (stdin /dev/null), SIGINT once its progress shows users running.
  const std::string script =
      "\"$0\" k8s run \"$1\" -n \"$2\" --kubeconfig \"$3\" --timeout 2m > \"$4\" 2>&1 & pid=$!; "
      "for i in $(seq 900); do grep -q 'users [1-9]' \"$4\" && break; sleep 0.1; done; "
      "kill -INT $pid; wait $pid";
  auto code = test_support::runCommand(
      {"bash", "-c", script, HERD_CLI_BIN, file.string(), ns_->name(), kubeconfigPath(), log.string()},
      dir_ / "bash.log", std::chrono::minutes(3));
  const auto output = readText(log);
  std::cout << output;
  ASSERT_TRUE(code.ok()) << code.error().describe() << output;
  EXPECT_EQ(*code, 0) << output << op->log();
  EXPECT_NE(output.find("stopping run"), std::string::npos) << output;
  EXPECT_NE(output.find("verdict: passed"), std::string::npos) << output;
  const auto st = loadTest("shop-smoke")["status"];
  EXPECT_EQ(st["phase"], "Succeeded") << st.dump();
  const auto started = parseRfc3339(st["startTime"].get<std::string>());
  const auto completed = parseRfc3339(st["completionTime"].get<std::string>());
  ASSERT_TRUE(started && completed) << st.dump();
  EXPECT_LT(*completed - *started, std::chrono::seconds(120)) << st.dump();  // not the 5 minutes asked for
  EXPECT_EQ(op->stop(), 0) << op->log();
}

// Baselines: two runs against nginx, the second through a proxy that delays every
// request by 40 ms, both judged with "p95 < baseline * 1.10". The first has no
// baseline (skipped, it passes); the second, followed by an operator started
// afresh, is compared with the first run's stored numbers and fails with both
// values in status. --out also holds the CSVs written from the stored summary.
TEST_F(K8sRun, ASlowerSecondRunFailsAgainstTheFirstAsBaselineWithBothValuesInStatus) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  const auto port_file = dir_ / "proxy.port";
  auto proxy = test_support::spawnChild(
      {"/usr/bin/python3", std::string(HERD_SOURCE_DIR) + "/tests/fixtures/delay_proxy/delay_proxy.py", "--upstream",
       (*nginx)->url().substr(std::string("http://").size()), "--delay-ms", "40", "--max-seconds", "300", "--port-file",
       port_file.string()},
      dir_ / "proxy.log");
  ASSERT_TRUE(proxy.ok()) << proxy.error().describe();
  struct Stop {
    pid_t pid;
    ~Stop() { test_support::stopChild(pid); }
  } stop_proxy{*proxy};
  ASSERT_TRUE(eventually(seconds(10), [&] { return fs::exists(port_file); })) << readText(dir_ / "proxy.log");
  const auto proxy_url = "http://127.0.0.1:" + std::to_string(std::stoi(readText(port_file)));
  auto relative = [](std::string text) {
    return std::regex_replace(text, std::regex(R"(- "http.latency p95 < 500ms")"),
                              R"(- "http.latency p95 < baseline * 1.10")");
  };

  auto op = startOperator();
  const auto out = dir_ / "out";
  auto first = herd({"k8s", "run", manifest((*nginx)->url(), relative).string(), "-n", ns_->name(), "--kubeconfig",
                     kubeconfigPath(), "--out", out.string(), "--timeout", "2m"});
  ASSERT_EQ(first.code, 0) << first.output << op->log();
  EXPECT_NE(first.output.find("skip  http.latency p95 < baseline * 1.10"), std::string::npos) << first.output;
  auto st = loadTest("shop-smoke")["status"];
  const auto first_run = st["runId"].get<std::string>();
  EXPECT_EQ(st["baseline"]["runId"], json()) << st.dump();
  EXPECT_EQ(st["thresholds"][0]["reason"], "NoBaseline") << st.dump();
  const double first_p95 = st["thresholds"][0]["value"].get<double>();
  // The CSVs from the stored summary, as `herd run --out` names them.
  const auto stats = readText(out / "herd_stats.csv");
  EXPECT_EQ(stats.rfind("Type,Name,Request Count,", 0), 0u) << stats;
  EXPECT_NE(stats.find(",Aggregated," + std::to_string(st["totals"]["requests"].get<int64_t>()) + ","),
            std::string::npos)
      << stats;
  EXPECT_EQ(readText(out / "herd_failures.csv"), "Method,Name,Error,Occurrences\r\n");
  EXPECT_FALSE(fs::exists(out / "herd_stats_history.csv"));
  EXPECT_EQ(op->stop(), 0) << op->log();

  // A new operator process: the baseline's numbers come from what the first run stored.
  op = startOperator();
  auto second = herd({"k8s", "run", manifest(proxy_url, relative).string(), "-n", ns_->name(), "--kubeconfig",
                      kubeconfigPath(), "--timeout", "2m"});
  ASSERT_EQ(second.code, 1) << second.output << op->log();
  EXPECT_NE(second.output.find("FAIL  http.latency p95 < baseline * 1.10  (measured "), std::string::npos)
      << second.output;
  st = loadTest("shop-smoke")["status"];
  EXPECT_EQ(st["verdict"], "Failed") << st.dump();
  EXPECT_EQ(st["baseline"]["runId"], first_run) << st.dump();
  EXPECT_EQ(st["baseline"]["source"], "configmap/" + first_run + "-summary") << st.dump();
  const auto& t = st["thresholds"][0];
  EXPECT_EQ(t["expression"], "http.latency p95 < baseline * 1.10");
  EXPECT_EQ(t["passed"], false) << t.dump();
  EXPECT_EQ(t["baselineRunId"], first_run);
  EXPECT_DOUBLE_EQ(t["baseline"].get<double>(), first_p95);
  EXPECT_NEAR(t["bound"].get<double>(), first_p95 * 1.10, 1e-9);
  EXPECT_GE(t["value"].get<double>(), 40.0) << t.dump();  // every request waited 40 ms in the proxy
  EXPECT_NE(st["message"].get<std::string>().find("baseline"), std::string::npos) << st.dump();
  EXPECT_EQ(st["history"][0]["thresholds"][0], t) << st.dump();
  EXPECT_EQ(op->stop(), 0) << op->log();
}

TEST_F(K8sRun, UnreachableApiserverExits3) {
  // A loopback port nothing listens on: bound, then closed.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  auto config = readText(kubeconfigPath());
  config = std::regex_replace(config, std::regex(R"(server: \S+)"),
                              "server: https://127.0.0.1:" + std::to_string(port));
  const auto kubeconfig = dir_ / "kubeconfig";
  std::ofstream(kubeconfig) << config;
  auto run = herd(
      {"k8s", "run", manifest("http://127.0.0.1:9").string(), "-n", ns_->name(), "--kubeconfig", kubeconfig.string()});
  EXPECT_EQ(run.code, 3) << run.output;
  EXPECT_NE(run.output.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << run.output;
  auto report = herd({"k8s", "report", "shop-smoke", "-n", ns_->name(), "--kubeconfig", kubeconfig.string()});
  EXPECT_EQ(report.code, 3) << report.output;
}

// The example library (examples/compiled) built as a user builds it: herd
// installed into a prefix, the example configured against it with
// find_package(herd). Once per test process; "" when it could not be built
// (the log says why). Built here rather than by CMake at build time: only this
// test pays the half minute, and the install must follow the whole build.
std::string exampleLibrary(const fs::path& scratch) {
  static const std::string built = [&] {
    const auto root = fs::temp_directory_path() / ("herd-compiled-" + std::to_string(::getpid()));
    fs::remove_all(root);
    const auto log = scratch / "example-build.log";
    const std::vector<std::vector<std::string>> steps{
        {"cmake", "--install", HERD_BUILD_DIR, "--prefix", (root / "prefix").string()},
        {"cmake", "-S", std::string(HERD_SOURCE_DIR) + "/examples/compiled", "-B", (root / "build").string(),
         "-DCMAKE_PREFIX_PATH=" + (root / "prefix").string(), "-DCMAKE_BUILD_TYPE=Release"},
        {"cmake", "--build", (root / "build").string()}};
    for (const auto& step : steps) {
      auto code = test_support::runCommand(step, log, std::chrono::minutes(5));
      if (!code.ok() || *code != 0) {
        std::cout << readText(log);
        return std::string();
      }
    }
    return (root / "build" / "shop.so").string();
  }();
  return built;
}

// A LoadTest mixing YAML and C++ classes: the operator compiles it without
// the library (its image has none), the agents (the pod-runner's processes,
// the library on their file system) load it and tell the coordinator the
// classes' endpoints and the library's SHA-256. The run succeeds; per endpoint
// the totals equal nginx's access log, and the exception a class throws shows
// with its text.
TEST_F(K8sRun, LoadTestWithCppClassesSucceedsWithTotalsEqualToNginxPerEndpoint) {
  const auto library = exampleLibrary(dir_);
  ASSERT_FALSE(library.empty()) << "the example library did not build";
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto op = startOperator();
  const auto file = dir_ / "loadtest-cpp.yaml";
  std::ofstream(file) << R"(apiVersion: herd.dev/v1alpha1
kind: LoadTest
metadata:
  name: shop-cpp
spec:
  scenario:
    inline: |
      name: shop-cpp
      target: )" << (*nginx)->url()
                      << R"(
      params: {apiKey: test-key}
      users:
        - name: buyer
          weight: 3
          code: {library: )"
                      << library << R"(, class: Buyer}
        - name: flaky
          weight: 1
          code: {library: )"
                      << library << R"(, class: Flaky}
        - name: browser
          weight: 1
          steps: [{get: /about}, {think: 5ms}]
      load: {users: 10, spawnRate: 100, duration: 4s}
  agents: 2
  ttlSecondsAfterFinished: 3600
)";
  const auto out = dir_ / "out";
  auto run = herd({"k8s", "run", file.string(), "-n", ns_->name(), "--kubeconfig", kubeconfigPath(), "--out",
                   out.string(), "--timeout", "2m"});
  ASSERT_EQ(run.code, 0) << run.output << op->log();
  EXPECT_EQ(loadTest("shop-cpp")["status"]["phase"], "Succeeded");

  const auto summary = json::parse(readText(out / "summary.json"));
  EXPECT_EQ(summary["agents"], 2);
  std::map<std::pair<std::string, std::string>, int64_t> logged;
  const auto total = summary["totals"]["requests"].get<int64_t>();
  ASSERT_EQ((*nginx)->waitForAccessLogCount(total), total);
  for (const auto& entry : (*nginx)->accessLog()) ++logged[{entry.method, entry.uri}];
  const std::map<std::string, std::pair<std::string, std::string>> expected{{"login", {"POST", "/login"}},
                                                                            {"catalog", {"GET", "/products"}},
                                                                            {"checkout", {"POST", "/checkout"}},
                                                                            {"status", {"GET", "/status"}},
                                                                            {"/about", {"GET", "/about"}}};
  ASSERT_EQ(summary["endpoints"].size(), expected.size()) << summary["endpoints"].dump();
  for (const auto& endpoint : summary["endpoints"]) {
    const auto name = endpoint["name"].get<std::string>();
    ASSERT_TRUE(expected.contains(name)) << name;
    const auto& [method, uri] = expected.at(name);
    EXPECT_EQ(endpoint["method"], method) << name;
    const int64_t served = logged[std::pair(method, uri)];
    EXPECT_EQ(endpoint["requests"].get<int64_t>(), served) << name;
    EXPECT_GT(endpoint["requests"].get<int64_t>(), 0) << name;
  }
  EXPECT_EQ(summary["totals"]["failures"], 0) << summary["errors"].dump();
  ASSERT_EQ(summary["errors"].size(), 1u) << summary["errors"].dump();
  EXPECT_EQ(summary["errors"][0]["kind"], "exception");
  EXPECT_EQ(summary["errors"][0]["message"], "inventory out of sync");
  // The operator loaded no library: its coordinator numbered the classes'
  // endpoints from the first agent's Ready and took that agent's hashes.
  const auto log = op->log();
  EXPECT_NE(log.find("C++ classes' endpoints and checks as agent"), std::string::npos) << log;
  EXPECT_NE(log.find("the run's library for class buyer is SHA-256 " + sha256Hex(readText(library))), std::string::npos)
      << log;
  EXPECT_EQ(op->stop(), 0) << op->log();
}

}  // namespace
}  // namespace herd::k8s::testing
