#include "tests/cluster/pod_runner/pod_view.h"

#include <gtest/gtest.h>

namespace herd::podrunner {
namespace {

TEST(PodView, ExpandsVarsLikeKubernetes) {
  std::map<std::string, std::string> env{{"A", "x"}, {"B", "y/z"}};
  EXPECT_EQ(expandVars("$(A)-$(B)", env), "x-y/z");
  EXPECT_EQ(expandVars("$$(A) $(C) $(", env), "$(A) $(C) $(");
}

TEST(PodView, RewritesPathsUnderMounts) {
  std::map<std::string, std::string> m{{"/var/run/herd", "/tmp/p/v1"}, {"/var/run/herd/token", "/tmp/p/v2"}};
  EXPECT_EQ(rewriteMountPaths("/var/run/herd/token/token", m), "/tmp/p/v2/token");
  EXPECT_EQ(rewriteMountPaths("/var/run/herd/x", m), "/tmp/p/v1/x");
  EXPECT_EQ(rewriteMountPaths("/var/run/herdx", m), "/var/run/herdx");
  EXPECT_EQ(rewriteMountPaths("--flag", m), "--flag");
}

TEST(PodView, ProcessSpecFromTheFirstContainer) {
  json pod{
      {"metadata", {{"name", "p"}, {"namespace", "n"}}},
      {"spec",
       {{"containers",
         json::array(
             {{{"name", "c"},
               {"command", {"herd", "agent"}},
               {"args", {"--token-file", "/var/run/herd/token/token", "$(NAME)"}},
               {"env", json::array(
                           {{{"name", "NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
                            {{"name", "S"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}}}})}}})}}}};
  auto spec = processSpec(pod, {{"/var/run/herd/token", "/w/tok"}}, {{"herd", "/build/herd"}},
                          [](const std::string& kind, const std::string& name,
                             const std::string& key) -> Result<std::string> { return kind + ":" + name + ":" + key; });
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  EXPECT_EQ(spec->argv, (std::vector<std::string>{"/build/herd", "agent", "--token-file", "/w/tok/token", "p"}));
  EXPECT_EQ(spec->env.at("S"), "secret:s:k");
  json no_command{{"spec", {{"containers", json::array({{{"name", "c"}, {"image", "x"}}})}}}};
  EXPECT_FALSE(processSpec(no_command, {}, {}, {}).ok());
  EXPECT_FALSE(processSpec(json::object(), {}, {}, {}).ok());
}

TEST(PodView, NodeSelectorDecidesSchedulability) {
  json pod{{"spec", {{"nodeSelector", {{"pool", "load"}}}}}};
  EXPECT_TRUE(unschedulableReason(pod, {{"kubernetes.io/os", "linux"}}));
  EXPECT_FALSE(unschedulableReason(pod, {{"pool", "load"}}));
  EXPECT_FALSE(unschedulableReason(json::object(), {}));
}

TEST(PodView, TerminatedStatusCarriesTheExitCode) {
  json pod{{"spec", {{"containers", json::array({{{"name", "agent"}, {"image", "i"}}})}}}};
  auto st = terminatedStatus(pod, 3, "t0", "t1");
  EXPECT_EQ(st["phase"], "Failed");
  EXPECT_EQ(st["containerStatuses"][0]["state"]["terminated"]["exitCode"], 3);
  EXPECT_EQ(terminatedStatus(pod, 0, "t0", "t1")["phase"], "Succeeded");
  EXPECT_EQ(runningStatus(pod, "t0")["conditions"][3]["status"], "True");
}

}  // namespace
}  // namespace herd::podrunner
