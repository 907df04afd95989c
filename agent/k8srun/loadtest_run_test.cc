#include "agent/k8srun/loadtest_run.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/core/clock.h"

namespace herd::k8srun {
namespace {

using std::chrono::system_clock;

std::string writeTemp(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("herd-k8srun-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(ReadManifest, KeepsYamlTypesAsKubectlDoes) {
  const auto path = writeTemp(
      "apiVersion: herd.dev/v1alpha1\nkind: LoadTest\nmetadata: {name: shop}\n"
      "spec:\n  agents: 2\n  load: {users: 20, spawnRate: 2.5, duration: 10s}\n"
      "  params: {pageSize: \"50\", flag: 'true'}\n  ttlSecondsAfterFinished: 3600\n  x: ~\n  y: false\n");
  auto doc = readManifest(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(doc) << doc.error().describe();
  const auto& spec = (*doc)["spec"];
  EXPECT_EQ(spec["agents"], 2);
  EXPECT_TRUE(spec["agents"].is_number_integer());
  EXPECT_EQ(spec["load"]["spawnRate"], 2.5);
  EXPECT_EQ(spec["load"]["duration"], "10s");
  EXPECT_EQ(spec["params"]["pageSize"], "50");  // quoted: a string
  EXPECT_EQ(spec["params"]["flag"], "true");
  EXPECT_TRUE(spec["x"].is_null());
  EXPECT_EQ(spec["y"], false);
}

TEST(ReadManifest, ErrorsNameTheFile) {
  auto missing = readManifest("/nonexistent/lt.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().where, "/nonexistent/lt.yaml");
  const auto path = writeTemp("a: [unclosed\n");
  auto bad = readManifest(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where, path);
}

json manifest() {
  return json{{"apiVersion", "herd.dev/v1alpha1"},
              {"kind", "LoadTest"},
              {"metadata", {{"name", "shop"}, {"resourceVersion", "7"}}},
              {"spec", json::object()},
              {"status", {{"phase", "Running"}}}};
}

TEST(PrepareManifest, SetsNamespaceAndTriggerAndDropsServerFields) {
  auto m = prepareManifest(manifest(), "", "team", "T1");
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ((*m)["metadata"]["namespace"], "team");
  EXPECT_EQ((*m)["metadata"]["annotations"]["herd.dev/run"], "T1");
  EXPECT_FALSE((*m)["metadata"].contains("resourceVersion"));
  EXPECT_FALSE(m->contains("status"));
  EXPECT_EQ((*prepareManifest(manifest(), "perf", "team", "T1"))["metadata"]["namespace"], "perf");

  auto own = manifest();
  own["metadata"]["namespace"] = "a";
  EXPECT_EQ((*prepareManifest(own, "", "team", "T"))["metadata"]["namespace"], "a");
  EXPECT_EQ(prepareManifest(own, "b", "team", "T").error().where, "metadata.namespace");
  auto other = manifest();
  other["kind"] = "Pod";
  EXPECT_EQ(prepareManifest(other, "", "d", "T").error().where, "kind");
  auto unnamed = manifest();
  unnamed["metadata"].erase("name");
  EXPECT_EQ(prepareManifest(unnamed, "", "d", "T").error().where, "metadata.name");
}

json withStatus(json status) { return json{{"metadata", {{"name", "shop"}}}, {"status", std::move(status)}}; }

TEST(ViewRun, FollowsOnlyTheRunOurTriggerStarted) {
  const auto now = system_clock::now();
  // The previous run's end is not ours.
  auto old = viewRun(withStatus({{"runTrigger", "T0"}, {"phase", "Succeeded"}, {"runId", "r0"}}), "T1", now);
  EXPECT_FALSE(old.ours);
  EXPECT_EQ(old.outcome, Outcome::kRunning);

  auto running = viewRun(withStatus({{"runTrigger", "T1"},
                                     {"phase", "Running"},
                                     {"runId", "r1"},
                                     {"users", 8},
                                     {"plan", {{"users", 20}}},
                                     {"startTime", formatRfc3339(now - std::chrono::seconds(5))},
                                     {"totals",
                                      {{"requests", 100},
                                       {"failures", 2},
                                       {"rps", 19.6},
                                       {"latency", {{"p50", 1.5}, {"p95", 3.0}, {"p99", 4.0}}}}}}),
                         "T1", now);
  EXPECT_TRUE(running.ours);
  EXPECT_EQ(running.outcome, Outcome::kRunning);
  EXPECT_EQ(running.sample.users, 8);
  EXPECT_EQ(running.target_users, 20);
  EXPECT_EQ(running.sample.requests, 20u);  // the rate, rounded
  EXPECT_EQ(running.sample.total_failures, 2u);
  EXPECT_DOUBLE_EQ(running.sample.p95_ms, 3.0);
  EXPECT_NEAR(running.sample.elapsed_seconds, 5.0, 0.01);
  EXPECT_LT(running.sample.generator_busy_percent, 0);
}

TEST(ViewRun, OutcomesAreHerdsExitCodes) {
  const auto now = system_clock::now();
  auto view = [&](json status) {
    status["runTrigger"] = "T";
    return viewRun(withStatus(std::move(status)), "T", now).outcome;
  };
  EXPECT_EQ(view({{"phase", "Succeeded"}, {"runId", "r"}, {"verdict", "Passed"}}), Outcome::kPassed);
  EXPECT_EQ(view({{"phase", "Failed"}, {"runId", "r"}, {"verdict", "Failed"}, {"reason", "ThresholdsFailed"}}),
            Outcome::kThresholdFailed);
  EXPECT_EQ(view({{"phase", "Failed"}, {"runId", "r"}, {"verdict", "Failed"}, {"reason", "Regression"}}),
            Outcome::kThresholdFailed);
  EXPECT_EQ(view({{"phase", "Failed"},
                  {"runId", "r"},
                  {"verdict", "Aborted"},
                  {"reason", "RunAborted"},
                  {"thresholds", {{{"expression", "x"}, {"passed", false}}}}}),
            Outcome::kThresholdFailed);  // an abortOnFail threshold ended it
  EXPECT_EQ(view({{"phase", "Failed"}, {"runId", "r"}, {"verdict", "Aborted"}, {"reason", "AgentsNotReady"}}),
            Outcome::kCouldNotRun);
  EXPECT_EQ(view({{"phase", "Failed"}, {"reason", "InvalidScenario"}}), Outcome::kInvalid);  // no run id: refused
  EXPECT_EQ(view({{"phase", "Starting"}, {"runId", "r"}}), Outcome::kRunning);
}

TEST(FindRun, TheNewestFinishedOrOneFromTheHistory) {
  json lt = withStatus(
      {{"runId", "r3"},
       {"phase", "Succeeded"},
       {"verdict", "Passed"},
       {"summaryConfigMap", "r3-summary"},
       {"history", {{{"runId", "r3"}, {"verdict", "Passed"}}, {{"runId", "r2"}, {"verdict", "Failed"}}}}});
  EXPECT_EQ(findRun(lt, "")->summary_config_map, "r3-summary");
  EXPECT_EQ(findRun(lt, "r2")->summary_config_map, "r2-summary");
  EXPECT_EQ(findRun(lt, "r2")->verdict, "Failed");
  EXPECT_EQ(findRun(lt, "r1").error().where, "--run");
  // While r4 runs, the newest finished run is the history's first.
  lt["status"]["runId"] = "r4";
  lt["status"]["phase"] = "Running";
  EXPECT_EQ(findRun(lt, "")->run_id, "r3");
  EXPECT_FALSE(findRun(withStatus(json::object()), ""));
}

}  // namespace
}  // namespace herd::k8srun
