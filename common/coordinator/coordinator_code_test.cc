// C++ classes in a distributed run: the run's library hashes (the coordinator's,
// pinned, or the first agent's), the classes' endpoints bound from an agent's
// Ready when the coordinator loaded no library (the operator), refusals, and
// exception texts carried in reports.
#include "common/coordinator/coordinator_test_fixture.h"
#include "common/stats/error_kind.h"

namespace herd::coordinator::test {
namespace {

const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

std::string codeScenario(const std::string& pin = "") {
  return R"(
name: unit
target: http://127.0.0.1:1
users:
  - name: u
    steps: [{get: /a}]
  - name: shop
    code: {library: ./shop.so, class: Buyer)" +
         (pin.empty() ? std::string() : ", sha256: " + pin) + R"(}
load: {users: 10, spawnRate: 100, duration: 1s}
)";
}

// The FNV-1a id stats::exceptionMessageId gives, computed here so this process
// does not learn the text by throwing it.
int32_t idOf(const std::string& text) {
  uint32_t hash = 2166136261u;
  for (const char c : text) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  return static_cast<int32_t>(hash & 0x7fffffffu);
}

v1::AgentMessage readyWith(const std::string& sha256) {
  v1::AgentMessage m;
  auto& c = *m.mutable_ready()->add_code();
  c.set_class_name("shop");
  c.set_sha256(sha256);
  auto& catalog = *c.add_endpoints();
  catalog.set_name("catalog");
  catalog.set_method("GET");
  auto& checkout = *c.add_endpoints();
  checkout.set_name("checkout");
  checkout.set_method("POST");
  c.add_checks("shop: order accepted");
  return m;
}

class CoordinatorCode : public CoordinatorTest {
 protected:
  std::unique_ptr<Coordinator> makeWith(const std::string& text, size_t agents) {
    code_plan_ = *scenario::compileString(text, "unit.yaml");  // unbound, as the operator compiles it
    return make(code_plan_, agents);
  }
  // Agent NAME joins with a library of hash SHA256 and must be refused for it:
  // the refusal's text (empty, and the test failed, when none came).
  std::string joinRefused(Coordinator& coordinator, const std::string& name, const std::string& sha256) {
    auto stream = coordinator.connect(name);
    coordinator.receive(stream, hello(name));
    coordinator.receive(stream, readyWith(sha256));
    auto refused = next(*stream, v1::CoordinatorMessage::kRefused);
    if (!refused) {
      ADD_FAILURE() << name << " was not refused";
      return "";
    }
    EXPECT_EQ(refused->refused().reason(), v1::Refused::CODE_MISMATCH);
    return refused->refused().message();
  }
  scenario::Plan code_plan_;
};

TEST_F(CoordinatorCode, TheFirstAgentsLibraryIsTheRunsAndAnotherIsRefusedWithExit2) {
  auto coordinator = makeWith(codeScenario(), 2);
  ASSERT_EQ(coordinator->plan().endpoints.size(), 1u);
  auto a = coordinator->connect("a");
  coordinator->receive(a, hello("agent-a"));
  coordinator->receive(a, readyWith(kShaA));
  // The classes' endpoints and checks as agent-a bound them, after the YAML ones.
  const auto& plan = coordinator->plan();
  ASSERT_EQ(plan.endpoints.size(), 3u);
  EXPECT_EQ(plan.endpoints[1].name, "catalog");
  EXPECT_EQ(plan.endpoints[2].method, "POST");
  ASSERT_EQ(plan.checks.size(), 1u);
  EXPECT_EQ(plan.checks[0], "shop: order accepted");

  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  const auto why = joinRefused(*coordinator, "agent-b", kShaB);
  EXPECT_NE(why.find("users[1].code.library: ./shop.so on this agent has SHA-256 " + kShaB + ", the run's is " + kShaA +
                     " (agent agent-a's, the first to join)"),
            std::string::npos)
      << why;
  runner.join();
  ASSERT_TRUE(result && !result->ok());
  EXPECT_NE(result->error().message.find(kShaB), std::string::npos) << result->error().message;
  EXPECT_TRUE(coordinator->invalidInput());
  // The agent that was fine hears the run is over, with exit code 2.
  auto finished = next(*a, v1::CoordinatorMessage::kFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->finished().exit_code(), 2);
}

TEST_F(CoordinatorCode, APinnedHashIsTheRunsFromTheStart) {
  auto coordinator = makeWith(codeScenario(kShaB), 1);
  const auto why = joinRefused(*coordinator, "agent-a", kShaA);
  EXPECT_NE(why.find("the run's is " + kShaB + " (pinned by the scenario)"), std::string::npos) << why;
  auto result = coordinator->run();
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(coordinator->invalidInput());
}

TEST_F(CoordinatorCode, ReportsCountTheClassesEndpointsAndCarryExceptionTexts) {
  auto coordinator = makeWith(codeScenario(), 1);
  auto a = coordinator->connect("a");
  coordinator->receive(a, hello("agent-a"));
  coordinator->receive(a, readyWith(kShaA));
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));

  const std::string text = "inventory out of sync on agent-a";
  const int32_t id = idOf(text);
  stats::Recorder r(3);
  for (int i = 0; i < 4; ++i) r.recordRequest(2, 1000, 10, 10, stats::ErrorKind::kNone);  // checkout
  r.recordError(2, stats::ErrorKind::kException, id);
  r.recordError(1, stats::ErrorKind::kException, idOf("a text nobody sends"));
  v1::AgentMessage m;
  m.mutable_report()->set_sequence(1);
  m.mutable_report()->set_final(true);
  wire::encodeStats(r, *m.mutable_report()->mutable_stats());
  auto& texts = *m.mutable_report()->mutable_stats()->mutable_exception_messages();
  texts[id] = text;
  texts[idOf("a text nobody sends")] = "another text";  // not its id's: left out
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStop));
  coordinator->receive(a, m);
  runner.join();
  ASSERT_TRUE(result && result->ok()) << result->error().describe();
  EXPECT_EQ((*result)->aggregate.total().endpoints()[2].requests, 4u);
  EXPECT_EQ(stats::errorMessage(stats::ErrorKind::kException, id), text);
  EXPECT_NE(stats::errorMessage(stats::ErrorKind::kException, idOf("a text nobody sends")).find("in the agent's log"),
            std::string::npos);
}

}  // namespace
}  // namespace herd::coordinator::test
