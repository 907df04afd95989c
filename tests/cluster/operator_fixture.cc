#include "operator_fixture.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/core/logging.h"
#include "operator/controller/loadtest.h"

namespace herd::k8s::testing {

namespace {

std::string clusterDir() { return std::filesystem::path(kubeconfigPath()).parent_path().string(); }

std::string kubectlPath() {
  std::ifstream env(clusterDir() + "/cluster.env");
  std::string line;
  while (std::getline(env, line))
    if (line.rfind("KUBECTL=", 0) == 0) return line.substr(8);
  return "kubectl";
}

}  // namespace

int kubectl(const std::string& args, std::string* out) {
  std::string cmd = "KUBECONFIG='" + kubeconfigPath() + "' '" + kubectlPath() + "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  std::string text;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
  int rc = ::pclose(p);
  if (out) *out = text;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void ensureLoadTestCrd(Client& client) {
  std::string out;
  ASSERT_EQ(kubectl(std::string("apply -f ") + HERD_SOURCE_DIR + "/crds/loadtest.yaml", &out), 0) << out;
  ASSERT_TRUE(eventually(std::chrono::seconds(30), [&] { return client.list(controller::kLoadTests, "default").ok(); }))
      << "LoadTests never served";
}

void LoadTestNamespaceTest::SetUp() {
  HERD_REQUIRE_CLUSTER();
  client_ = makeClient();
  ensureLoadTestCrd(*client_);
  ns_ = std::make_unique<TestNamespace>(*client_);
}

Json LoadTestNamespaceTest::loadTest(const std::string& name) {
  auto got = client_->get(controller::kLoadTests, ns(), name);
  return got.ok() ? *got : Json::object();
}

Status ScriptedCoordinator::startRun(const controller::RunRequest& request) {
  std::lock_guard lock(mu_);
  ++start_calls_;
  runs_.emplace(request.run_id, request);  // repeats are no-ops
  progress_.try_emplace(request.run_id);
  return Ok{};
}

std::optional<controller::RunProgress> ScriptedCoordinator::progress(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = progress_.find(run_id);
  if (it == progress_.end()) return std::nullopt;
  return it->second;
}

Status ScriptedCoordinator::setExpectedAgents(const std::string& run_id, int agents,
                                              const std::vector<std::string>& retiring) {
  std::lock_guard lock(mu_);
  if (auto it = refuse_above_.find(run_id); it != refuse_above_.end() && agents > it->second.first)
    return Error{it->second.second, "agents"};
  expected_[run_id] = agents;
  retired_[run_id].insert(retiring.begin(), retiring.end());
  return Ok{};
}

void ScriptedCoordinator::refuseGrowth(const std::string& run_id, int agents, std::string message) {
  std::lock_guard lock(mu_);
  refuse_above_[run_id] = {agents, std::move(message)};
}

std::set<std::string> ScriptedCoordinator::retired(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  auto it = retired_.find(run_id);
  return it == retired_.end() ? std::set<std::string>{} : it->second;
}

void ScriptedCoordinator::stopRun(const std::string& run_id, const std::string&) { abortRun(run_id, ""); }

void ScriptedCoordinator::abortRun(const std::string& run_id, const std::string&) {
  std::lock_guard lock(mu_);
  aborted_.insert(run_id);
}

void ScriptedCoordinator::forget(const std::string& run_id) {
  std::lock_guard lock(mu_);
  progress_.erase(run_id);
}

void ScriptedCoordinator::script(const std::string& run_id, controller::RunProgress progress) {
  std::lock_guard lock(mu_);
  progress_[run_id] = std::move(progress);
}

std::vector<controller::RunRequest> ScriptedCoordinator::requests() const {
  std::lock_guard lock(mu_);
  std::vector<controller::RunRequest> out;
  for (const auto& [id, r] : runs_) out.push_back(r);
  return out;
}

std::map<std::string, int> ScriptedCoordinator::expected() const {
  std::lock_guard lock(mu_);
  return expected_;
}

std::set<std::string> ScriptedCoordinator::aborted() const {
  std::lock_guard lock(mu_);
  return aborted_;
}

int ScriptedCoordinator::startCalls() const {
  std::lock_guard lock(mu_);
  return start_calls_;
}

OperatorHarness::OperatorHarness(Client& client, const std::string& ns, controller::RunCoordinator& coordinator,
                                 std::vector<std::string> agent_command, controller::Guardrails guardrails)
    : events_(client, "herd-operator") {
  if (const char* level = std::getenv("HERD_LOG_LEVEL")) setLogLevel(level);
  controller::ReconcilerSettings settings;
  settings.agent.command = std::move(agent_command);
  settings.agent.coordinator = coordinator.agentEndpoint();
  settings.status_interval = std::chrono::milliseconds(300);
  settings.missing_scenario_retry = std::chrono::milliseconds(500);
  settings.guardrails = std::move(guardrails);
  reconciler_ = std::make_unique<controller::Reconciler>(
      client, events_, coordinator, settings, [this] { return now(); }, 42);
  controller_ = std::make_unique<controller::Controller>(client, *reconciler_, controller::ControllerOptions{{ns}, 2});
  if (!controller_->start(std::chrono::seconds(30))) throw std::runtime_error("controller caches never synced");
}

OperatorHarness::~OperatorHarness() { controller_->stop(); }

std::chrono::system_clock::time_point OperatorHarness::now() const {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(offset_ms_.load());
}

std::vector<std::string> sleepingAgent() {
  // Pod args follow the script: $0=--coordinator $1=HOST:PORT $2=--run-id $3=ID $4=--token-file $5=PATH.
  // "$$$$" because Kubernetes turns $$ in a command into $ (as the stand-in does).
  return {"/bin/sh", "-c", "test -s \"$5\" || exit 9; echo $$$$ > \"$HOME/pid\"; exec sleep 120"};
}

std::string podDir(const std::string& ns, const std::string& name) {
  return clusterDir() + "/pod-runner/pods/" + ns + "_" + name;
}

}  // namespace herd::k8s::testing
