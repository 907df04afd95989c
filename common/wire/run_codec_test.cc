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

constexpr const char* kCodeText = R"(name: c
target: http://127.0.0.1:8080
users:
  - {name: u, steps: [{get: /a}]}
  - {name: pinned, code: {library: ./shop.so, class: Buyer, sha256: ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789}}
  - {name: free, code: {library: ./shop.so, class: Flaky}}
load: {users: 3, duration: 1m}
)";

// The operator compiles without the libraries: a pinned hash travels, an
// unknown one does not (the agents' Ready tells it); what an agent bound
// crosses in its Ready and binds the coordinator's plan the same way.
TEST(RunCodec, CodeClassesTravelAsPinnedAndAsAgentsBoundThem) {
  scenario::RunOverrides overrides;
  overrides.bind_code = false;
  auto run = scenario::compileRun(kCodeText, "c.yaml", overrides);
  ASSERT_TRUE(run.ok()) << run.error().describe();
  const auto message = encodeRun(kCodeText, "c.yaml", {}, *run);
  ASSERT_EQ(message.code_sha256_size(), 1);
  EXPECT_EQ(message.code_sha256().at("pinned"), "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");

  auto agents = run->plan;
  const std::vector<scenario::BoundClass> bound{
      {"pinned", std::string(64, 'a'), {{"login", "POST"}, {"catalog", "GET"}}, {"pinned: signed"}},
      {"free", std::string(64, 'b'), {{"free", "CODE"}}, {}}};
  ASSERT_TRUE(scenario::bindReported(agents, bound).ok());
  EXPECT_FALSE(scenario::hasUnboundCode(agents));
  v1::Ready ready;
  encodeCode(agents, ready);
  v1::Ready received;
  ASSERT_TRUE(received.ParseFromString(ready.SerializeAsString()));
  auto decoded = decodeCode(received);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].endpoints.size(), 2u);
  EXPECT_EQ((*decoded)[0].checks, std::vector<std::string>{"pinned: signed"});
  EXPECT_EQ((*decoded)[1].endpoints[0].name, "free");
  EXPECT_EQ((*decoded)[1].sha256, std::string(64, 'b'));

  auto coordinators = run->plan;
  ASSERT_TRUE(scenario::hasUnboundCode(coordinators));
  ASSERT_TRUE(scenario::bindReported(coordinators, *decoded).ok());
  ASSERT_EQ(coordinators.endpoints.size(), 4u);  // /a, then the classes' in class order
  EXPECT_EQ(coordinators.endpoints[1].name, "login");
  EXPECT_EQ(coordinators.endpoints[3].name, "free");
  EXPECT_EQ(coordinators.checks.back(), "pinned: signed");

  // Another scenario's classes do not bind.
  auto other = run->plan;
  auto swapped = *decoded;
  std::swap(swapped[0], swapped[1]);
  auto refused = scenario::bindReported(other, swapped);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("where the scenario has \"pinned\""), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(other.endpoints.size(), 1u);
}

TEST(RunCodec, APinnedHashMustBe64HexDigits) {
  std::string text = kCodeText;
  text.replace(text.find("ABCDEF0123"), 10, "xyz");
  scenario::RunOverrides overrides;
  overrides.bind_code = false;
  auto run = scenario::compileRun(text, "c.yaml", overrides);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().where, "c.yaml:5:69");  // the value
  EXPECT_NE(run.error().message.find("users[1].code.sha256: a SHA-256 is 64 hex digits"), std::string::npos)
      << run.error().message;
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
