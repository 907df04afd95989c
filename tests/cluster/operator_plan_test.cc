// A run's definition against the real control plane: compiled once when the run
// starts and kept (a ConfigMap edit mid-run changes nothing in it), and the
// run-level rules the operator shares with `herd coordinator` (fixture:
// operator_suite.h).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "operator_suite.h"
#include "tests/support/process.h"

namespace herd::k8s::testing {
namespace {

std::string scenarioWithUsers(int users) {
  std::string text = kScenario;
  text.replace(text.find("users: 10"), 9, "users: " + std::to_string(users));
  return text;
}

json configMap(const std::string& ns, const std::string& text) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "plan-scenario"}, {"namespace", ns}}},
          {"data", {{"scenario.yaml", text}}}};
}

TEST_F(Operator, AConfigMapEditMidRunLeavesThePlanUsersAndAgentsOfTheRunUnchanged) {
  startOperator(coord);
  // Three agents asked for, two users: two agents (one without users would idle).
  ASSERT_TRUE(client_->create(resources::kConfigMaps, ns(), configMap(ns(), scenarioWithUsers(2))).ok());
  create("pinned", {{"scenario", {{"configMapRef", {{"name", "plan-scenario"}}}}}, {"agents", 3}});
  ASSERT_TRUE(waitStatus("pinned", [](const json& s) { return k8s::getInt(getObject(s, "agents"), "ready") == 2; }));
  const auto run = runId("pinned");
  const json plan = getObject(status("pinned"), "plan");
  EXPECT_EQ(plan["users"], 2);
  EXPECT_EQ(plan["duration"], "5s");
  EXPECT_EQ(plan["scenarioSource"], "configmap/plan-scenario/scenario.yaml");
  std::set<std::string> uids;
  for (const auto& p : pods(run)) uids.insert(metaString(p, "uid"));

  // One user would mean one agent; the running run keeps its 2 users on 2 agents.
  auto edited = client_->replace(resources::kConfigMaps, configMap(ns(), scenarioWithUsers(1)));
  ASSERT_TRUE(edited.ok()) << edited.error().describe();
  auto later = running(2);
  later.totals.requests = 777;
  coord.script(run, later);  // a pass after the edit has written this
  ASSERT_TRUE(waitStatus("pinned", [](const json& s) { return getObject(s, "totals")["requests"] == 777; }));
  const auto st = status("pinned");
  EXPECT_EQ(getString(st, "runId"), run);
  EXPECT_EQ(getObject(st, "plan"), plan);
  EXPECT_EQ(k8s::getInt(getObject(st, "agents"), "desired"), 2);
  std::set<std::string> after;
  for (const auto& p : pods(run)) after.insert(metaString(p, "uid"));
  EXPECT_EQ(after, uids);
  ASSERT_EQ(coord.requests().size(), 1u);
  EXPECT_EQ(coord.requests()[0].run->plan.load.users, 2);
  EXPECT_EQ(coord.requests()[0].scenario_text, scenarioWithUsers(2));
  EXPECT_EQ(coord.expected().at(run), 2);
  for (const auto& c : st["conditions"]) {
    if (c["type"] != "Validated") continue;
    EXPECT_NE(getString(c, "message").find("edits apply to the next run"), std::string::npos);
  }
  // The copy a restarted operator would carry the run on from.
  auto copy = client_->get(resources::kConfigMaps, ns(), controller::scenarioSnapshotName(run));
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(getString((*copy)["data"], "scenario.yaml"), scenarioWithUsers(2));
}

// `herd coordinator` on a file and the operator on the same text inline: the same
// error, but for the front end's name of the field and of the file.
TEST_F(Operator, TheOperatorAndHerdCoordinatorRefuseTheSameRunsWithTheSameWords) {
  startOperator(coord);
  const std::string open_model =
      "name: o\ntarget: http://127.0.0.1:8080\nusers: [{name: u, steps: [{get: /}]}]\n"
      "load: {arrivalRate: 5, duration: 2s, maxUsers: 2}\n";
  const std::string bad_threshold = scenarioWithUsers(1) + "thresholds: [\"http.latency p95 <<< 5ms\"]\n";
  const std::vector<std::pair<std::string, std::string>> cases = {{"open", open_model}, {"threshold", bad_threshold}};
  const auto dir = std::filesystem::temp_directory_path() / ("herd-rules-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const auto& [name, text] : cases) {
    const auto file = dir / (name + ".yaml");
    std::ofstream(file) << text;
    const auto log = dir / (name + ".log");
    auto code = test_support::runCommand(
        {HERD_CLI_BIN, "coordinator", file.string(), "--listen", "127.0.0.1:0", "--expect-agents", "3"}, log);
    ASSERT_TRUE(code.ok()) << code.error().describe();
    EXPECT_EQ(*code, 2);
    std::ifstream in(log);
    std::ostringstream read;
    read << in.rdbuf();
    const std::string cli = read.str();

    create(name, {{"scenario", {{"inline", text}}}, {"agents", 3}});
    ASSERT_TRUE(waitStatus(name, [](const json& s) { return getString(s, "phase") == "Failed"; }));
    const auto st = status(name);
    EXPECT_EQ(getString(st, "reason"), "InvalidScenario");
    std::string message;
    for (const auto& c : st["conditions"])
      if (c["type"] == "Validated" && c["status"] == "False") message = getString(c, "message");
    // The operator names the inline text and spec.agents; the command line, the file and --expect-agents.
    std::string as_cli = message;
    const std::string inline_name = ns() + "/" + name + ":spec.scenario.inline";
    ASSERT_EQ(as_cli.rfind(inline_name, 0), 0u) << message;
    as_cli.replace(0, inline_name.size(), file.string());
    if (auto at = as_cli.find("spec.agents"); at != std::string::npos) as_cli.replace(at, 11, "--expect-agents");
    EXPECT_NE(cli.find("herd: error: " + as_cli), std::string::npos) << "operator: " << message << "\ncli: " << cli;
    EXPECT_NE(message.find(name == "open" ? ":4:7: load.maxUsers: 2 users cannot be spread over 3 agents"
                                          : ": thresholds[0]: threshold \"http.latency p95 <<< 5ms\""),
              std::string::npos)
        << message;
    EXPECT_TRUE(pods(getString(st, "runId")).empty());
    ListOptions opts;
    opts.label_selector = "herd.dev/loadtest=" + name;
    EXPECT_TRUE((*client_->listAll(resources::kPods, ns(), opts))["items"].empty());
  }
  EXPECT_EQ(coord.startCalls(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace herd::k8s::testing
