#include "common/wire/run_codec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace herd::wire {
namespace {

using namespace std::chrono_literals;

constexpr const char* kText = R"(name: t
params: {page: "1"}
target: http://127.0.0.1:8080
users: [{name: u, steps: [{get: "/p/{{params.page}}"}]}]
load: {users: 10, duration: 1m}
stop: {grace: 4s}
)";

TEST(RunCodec, AnAgentDecodesTheCoordinatorsRun) {
  scenario::RunOverrides overrides;
  overrides.compile.params = {{"page", "7"}};
  overrides.compile.target = "http://127.0.0.1:9090";
  overrides.compile.users = 3;
  overrides.compile.spawn_rate = 1.5;
  overrides.compile.duration = 20s;
  overrides.grace = 2s;
  auto run = scenario::compileRun(kText, "t.yaml", overrides);
  ASSERT_TRUE(run.ok()) << run.error().describe();
  const v1::Scenario message = encodeRun(kText, "t.yaml", overrides.compile, *run);
  EXPECT_EQ(message.source_name(), "t.yaml");
  EXPECT_EQ(message.grace_nanos(), std::chrono::nanoseconds(2s).count());

  v1::Scenario received;
  ASSERT_TRUE(received.ParseFromString(message.SerializeAsString()));
  auto decoded = decodeRun(received);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->plan.load.users, 3);
  EXPECT_EQ(decoded->plan.load.spawn_rate, 1.5);
  EXPECT_EQ(decoded->plan.load.duration, 20s);
  EXPECT_EQ(decoded->plan.origins[0].port, 9090);
  EXPECT_EQ(decoded->plan.params.at("page"), "7");
  EXPECT_EQ(decoded->total_users, run->total_users);
  EXPECT_EQ(decoded->grace, run->grace);
}

TEST(RunCodec, WithoutOverridesTheScenarioDecides) {
  auto run = scenario::compileRun(kText, "t.yaml", {});
  ASSERT_TRUE(run.ok());
  const auto message = encodeRun(kText, "t.yaml", {}, *run);
  EXPECT_EQ(message.users(), 0);
  EXPECT_EQ(message.duration_nanos(), 0);
  EXPECT_TRUE(message.target().empty());
  auto decoded = decodeRun(message);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->plan.load.users, 10);
  EXPECT_EQ(decoded->grace, 4s);
}

TEST(RunCodec, AScenarioThatDoesNotCompileIsAnErrorWithItsPlace) {
  v1::Scenario message;
  message.set_source_name("t.yaml");
  message.set_yaml("name: t\nbogus: 1\n");
  auto decoded = decodeRun(message);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().where, "t.yaml:2:1");
}

// The fuzzer's seeds (testdata/run_seeds) are runs that decode, so it starts
// from the success paths; the one with overrides carries them all.
TEST(RunCodec, FuzzSeedsDecode) {
  for (const char* name : {"shop", "shop_overrides", "thresholds"}) {
    std::ifstream in(std::string(HERD_WIRE_RUN_SEEDS) + "/" + name, std::ios::binary);
    ASSERT_TRUE(in) << name;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    v1::Scenario message;
    ASSERT_TRUE(message.ParseFromString(bytes.str())) << name;
    auto decoded = decodeRun(message);
    ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.error().describe();
    if (std::string(name) == "shop_overrides") {
      EXPECT_EQ(decoded->total_users, 7);
      EXPECT_EQ(decoded->plan.load.duration, scenario::Duration(3s));
      EXPECT_EQ(decoded->grace, scenario::Duration(2s));
    }
  }
}

}  // namespace
}  // namespace herd::wire
