// Changing the agent count of a running test (coordinator_scale.cc).
#include "common/coordinator/coordinator_test_fixture.h"

namespace herd::coordinator::test {
namespace {

// Scaling a running test (`kubectl scale`): the unit scenario made long enough
// to be resized mid-way; the tests end it with requestStop().
class CoordinatorScaleTest : public CoordinatorTest {
 protected:
  CoordinatorScaleTest() {
    scenario::CompileOptions longer;
    longer.duration = std::chrono::seconds(60);
    plan_ = *scenario::compileString(kScenario, "scale.yaml", longer);
  }

  // The next Assignment on `c` with a generation above `after`.
  static std::optional<v1::Assignment> assignmentAfter(Connection& c, uint64_t after) {
    for (;;) {
      auto m = next(c, v1::CoordinatorMessage::kAssignment);
      if (!m) return std::nullopt;
      if (m->assignment().generation() > after) return m->assignment();
    }
  }

  // Every user of the run exactly once over the assignments; their sizes.
  static std::vector<int64_t> tiles(int64_t total, const std::vector<v1::Assignment>& assignments) {
    std::vector<int> seen(static_cast<size_t>(total), 0);
    std::vector<int64_t> sizes;
    for (const auto& a : assignments) {
      int64_t n = 0;
      for (const auto& r : a.ranges()) {
        n += r.count();
        for (int64_t i = r.first(); i < r.first() + r.count(); ++i) ++seen.at(static_cast<size_t>(i));
      }
      sizes.push_back(n);
      EXPECT_EQ(a.total_users(), total);
    }
    for (int64_t i = 0; i < total; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "user " << i;
    return sizes;
  }
};

TEST_F(CoordinatorScaleTest, GrowingTwoToThreeAdmitsTheNewAgentAndSplitsTheUsersOverThree) {
  auto coordinator = make(2);
  const auto conns = joinReady(*coordinator, {"agent-a", "agent-b"});
  const auto& a = conns[0];
  const auto& b = conns[1];
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  auto first_a = assignmentAfter(*a, 0);
  auto first_b = assignmentAfter(*b, 0);
  ASSERT_TRUE(first_a && first_b);
  EXPECT_EQ(tiles(10, {*first_a, *first_b}), (std::vector<int64_t>{5, 5}));
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));
  coordinator->receive(a, report(1, 10));
  coordinator->receive(b, report(1, 4));

  // Before the resize a third agent is one too many.
  auto early = coordinator->connect("early");
  coordinator->receive(early, hello("agent-early"));
  auto refused = next(*early, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->refused().reason(), v1::Refused::RUN_FULL);

  ASSERT_TRUE(coordinator->resize(3).ok());
  ASSERT_TRUE(coordinator->resize(3).ok());  // repeats change nothing
  EXPECT_EQ(coordinator->status().expected_agents, 3u);
  auto c = coordinator->connect("c");
  coordinator->receive(c, hello("agent-c"));
  ASSERT_TRUE(next(*c, v1::CoordinatorMessage::kWelcome));
  ASSERT_TRUE(next(*c, v1::CoordinatorMessage::kStart));  // the run's start, already past: "now"
  coordinator->receive(c, ready());
  // A new generation for everyone: 4 + 3 + 3, each keeping what it can.
  auto second_a = assignmentAfter(*a, first_a->generation());
  auto second_b = assignmentAfter(*b, first_b->generation());
  auto second_c = assignmentAfter(*c, 0);
  ASSERT_TRUE(second_a && second_b && second_c);
  EXPECT_EQ(second_a->generation(), second_c->generation());
  EXPECT_EQ(second_b->generation(), second_c->generation());
  EXPECT_EQ(tiles(10, {*second_a, *second_b, *second_c}), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(second_a->ranges(0).first(), 0);
  EXPECT_EQ(second_b->ranges(0).first(), 5);
  EXPECT_EQ(coordinator->status().connected_agents, 3u);
  // The fourth is refused again: the run has its three.
  auto extra = coordinator->connect("extra");
  coordinator->receive(extra, hello("agent-d"));
  refused = next(*extra, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->refused().reason(), v1::Refused::RUN_FULL);

  coordinator->receive(c, report(1, 3));
  coordinator->requestStop("enough");
  for (auto* conn : {a.get(), b.get(), c.get()}) ASSERT_TRUE(next(*conn, v1::CoordinatorMessage::kStop));
  coordinator->receive(a, report(2, 5, true));
  coordinator->receive(b, report(2, 1, true));
  coordinator->receive(c, report(2, 2, true));
  runner.join();
  ASSERT_TRUE(result && result->ok()) << (result ? result->error().describe() : "");
  // Conservation: every report counted once, nothing lost.
  EXPECT_EQ((*result)->aggregate.total().requests(), 10u + 4 + 3 + 5 + 1 + 2);
  EXPECT_EQ((*result)->info.agents, 3);
  EXPECT_EQ((*result)->exit_code, 0);
  const auto& agents = (*result)->info.extra["distributed"]["agents"];
  ASSERT_EQ(agents.size(), 3u);
  std::vector<int64_t> users;
  for (const auto& agent : agents) {
    EXPECT_EQ(agent["state"], "finished") << agent.dump();
    users.push_back(agent["users"].get<int64_t>());
  }
  EXPECT_EQ(users, (std::vector<int64_t>{4, 3, 3}));
}

TEST_F(CoordinatorScaleTest, ShrinkingThreeToTwoRetiresTheNamedAgentWithoutLosingIt) {
  auto coordinator = make(3);
  const auto conns = joinReady(*coordinator, {"agent-a", "agent-b", "agent-c"});
  const auto& a = conns[0];
  const auto& b = conns[1];
  const auto& c = conns[2];
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  std::vector<v1::Assignment> first;
  for (auto& conn : conns) {
    auto got = assignmentAfter(*conn, 0);
    ASSERT_TRUE(got);
    first.push_back(*got);
  }
  EXPECT_EQ(tiles(10, first), (std::vector<int64_t>{4, 3, 3}));
  coordinator->receive(a, report(1, 6));
  coordinator->receive(b, report(1, 5));
  coordinator->receive(c, report(1, 4));

  // The operator deletes agent-b's pod (it names it), not the newest.
  ASSERT_TRUE(coordinator->resize(2, {"agent-b"}).ok());
  auto stop = next(*b, v1::CoordinatorMessage::kStop);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->stop().mode(), v1::Stop::STOP);
  auto second_a = assignmentAfter(*a, first[0].generation());
  auto second_c = assignmentAfter(*c, first[2].generation());
  auto second_b = assignmentAfter(*b, first[1].generation());
  ASSERT_TRUE(second_a && second_b && second_c);
  EXPECT_EQ(second_b->ranges_size(), 0);  // its users are the others' now
  EXPECT_EQ(tiles(10, {*second_a, *second_c}), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(second_a->ranges(0).first(), first[0].ranges(0).first());  // kept what it ran
  EXPECT_EQ(second_c->ranges(0).first(), first[2].ranges(0).first());
  // It delivers its last counts and is let go.
  coordinator->receive(b, report(2, 3, true));
  ASSERT_TRUE(next(*b, v1::CoordinatorMessage::kFinished));
  auto live = coordinator->status();
  EXPECT_EQ(live.expected_agents, 2u);
  EXPECT_EQ(live.connected_agents, 2u);
  EXPECT_EQ(live.lost_agents, 0u);
  EXPECT_EQ(live.requests, 6u + 5 + 4 + 3);
  coordinator->disconnected(b, "pod deleted");
  EXPECT_EQ(coordinator->status().lost_agents, 0u);
  // Should it dial again, it is told to stop: it was scaled away.
  auto back = coordinator->connect("b2");
  coordinator->receive(back, hello("agent-b"));
  ASSERT_TRUE(next(*back, v1::CoordinatorMessage::kStop));

  coordinator->requestStop("enough");
  coordinator->receive(a, report(2, 2, true));
  coordinator->receive(c, report(2, 1, true));
  runner.join();
  ASSERT_TRUE(result && result->ok()) << (result ? result->error().describe() : "");
  EXPECT_EQ((*result)->aggregate.total().requests(), 6u + 5 + 4 + 3 + 2 + 1);
  EXPECT_EQ((*result)->exit_code, 0);
  EXPECT_EQ((*result)->info.verdict, report::Verdict::kPassed);
  const auto& agents = (*result)->info.extra["distributed"]["agents"];
  ASSERT_EQ(agents.size(), 3u);
  EXPECT_EQ(agents[1]["id"], "agent-b");
  EXPECT_EQ(agents[1]["state"], "retired");
  EXPECT_EQ(agents[1]["requests"], 5 + 3);
  EXPECT_EQ(agents[0]["users"].get<int64_t>() + agents[2]["users"].get<int64_t>(), 10);
  for (const auto& e : (*result)->info.extra["events"]) {
    EXPECT_EQ(e["message"].get<std::string>().find("lost"), std::string::npos) << e.dump();
  }
}

TEST_F(CoordinatorScaleTest, UniqueDataRefusesToGrowMidRunButMayShrink) {
  const auto dir = std::filesystem::temp_directory_path() / ("herd-scale-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "accounts.csv") << "name\na\nb\nc\n";
  scenario::CompileOptions longer;
  longer.duration = std::chrono::seconds(60);
  const std::string text = std::string(kScenario) + "data:\n  accounts: {file: accounts.csv, pick: unique}\n";
  auto compiled = scenario::compileString(text, (dir / "unique.yaml").string(), longer);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(compiled.ok()) << compiled.error().describe();
  plan_ = std::move(*compiled);
  auto coordinator = make(2);
  ASSERT_TRUE(coordinator->resize(3).ok());  // before the start only the barrier moves
  ASSERT_TRUE(coordinator->resize(2).ok());
  const auto conns = joinReady(*coordinator, {"agent-a", "agent-b"});
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  ASSERT_TRUE(next(*conns[0], v1::CoordinatorMessage::kStart));
  auto refused = coordinator->resize(3);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("data source \"accounts\" hands out unique rows"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(coordinator->status().expected_agents, 2u);
  ASSERT_TRUE(coordinator->resize(1).ok());  // the newest (agent-b) goes
  ASSERT_TRUE(next(*conns[1], v1::CoordinatorMessage::kStop));
  coordinator->receive(conns[1], report(1, 2, true));
  auto all = assignmentAfter(*conns[0], 1);
  ASSERT_TRUE(all);
  EXPECT_EQ(tiles(10, {*all}), (std::vector<int64_t>{10}));
  coordinator->requestStop("enough");
  coordinator->receive(conns[0], report(1, 3, true));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 5u);
  EXPECT_EQ((*result)->info.extra["distributed"]["agents"][1]["state"], "retired");
}

}  // namespace
}  // namespace herd::coordinator::test
