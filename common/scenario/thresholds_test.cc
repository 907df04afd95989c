#include <gtest/gtest.h>

#include "common/scenario/compiler.h"

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBase = R"(name: t
target: http://127.0.0.1:8080
users: [{name: u, steps: [{get: /}]}]
load: {users: 1, duration: 1s}
)";

Result<Plan> compileWith(const std::string& thresholds) {
  return compileString(std::string(kBase) + "thresholds:\n" + thresholds, "t.yaml");
}

TEST(Thresholds, StringsAndMapsMix) {
  auto plan = compileWith(R"(  - "http.failures rate < 1%"
  - {expression: "http.latency p95 < 500ms", abortOnFail: true, delay: 10s}
  - expression: http.requests count > 0
    abortOnFail: true
)");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const std::vector<ThresholdSpec> expected = {
      {"http.failures rate < 1%", false, {}},
      {"http.latency p95 < 500ms", true, 10s},
      {"http.requests count > 0", true, {}},
  };
  EXPECT_EQ(plan->thresholds, expected);
}

TEST(Thresholds, BadEntriesNameTheirPlace) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"  - {expression: x, abortOnFial: true}\n", "t.yaml:6:21: thresholds[0].abortOnFial: unknown key"},
      {"  - {abortOnFail: true}\n", "t.yaml:6:5: thresholds[0].expression: required"},
      {"  - {expression: x, abortOnFail: yes please}\n", "thresholds[0].abortOnFail: expected true or false"},
      {"  - {expression: x, abortOnFail: true, delay: soon}\n", "thresholds[0].delay"},
      {"  - {expression: x, delay: 5s}\n", "delay only applies with abortOnFail: true"},
      {"  - {expression: \"  \"}\n", "empty threshold"},
      {"  - [a, b]\n", "a threshold is a string"},
  };
  for (const auto& [yaml, expected] : cases) {
    auto plan = compileWith(yaml);
    ASSERT_FALSE(plan.ok()) << yaml;
    EXPECT_NE(plan.error().describe().find(expected), std::string::npos) << plan.error().describe();
  }
}

}  // namespace
}  // namespace herd::scenario
