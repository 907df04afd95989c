// The coordinator: admission, split, de-duplication, the barrier, delivery.
#include <fmt/format.h>

#include "common/coordinator/coordinator_test_fixture.h"

namespace herd::coordinator::test {
namespace {

TEST_F(CoordinatorTest, RefusesBadHellosWithAReason) {
  auto coordinator = make();
  struct Case {
    v1::AgentMessage message;
    v1::Refused::Reason reason;
    std::string text;
  };
  std::vector<Case> cases{
      {hello("a", "wrong"), v1::Refused::BAD_TOKEN, "token"},
      {hello("a", ""), v1::Refused::BAD_TOKEN, "token"},
      {hello("a", "s3cret", 7), v1::Refused::VERSION_MISMATCH, "version 7"},
      {hello("a", "s3cret", 1, "other-run"), v1::Refused::UNKNOWN_RUN, "other-run"},
      {hello(""), v1::Refused::MALFORMED, "agent_id"},
      {report(1, 1), v1::Refused::MALFORMED, "must be Hello"},
      {v1::AgentMessage{}, v1::Refused::MALFORMED, "must be Hello"},
  };
  for (const auto& c : cases) {
    auto connection = coordinator->connect("test");
    coordinator->receive(connection, c.message);
    auto refused = next(*connection, v1::CoordinatorMessage::kRefused);
    ASSERT_TRUE(refused) << c.text;
    EXPECT_EQ(refused->refused().reason(), c.reason);
    EXPECT_NE(refused->refused().message().find(c.text), std::string::npos) << refused->refused().message();
    EXPECT_TRUE(connection->closed());
  }
  EXPECT_EQ(coordinator->connectedAgents(), 0u);
}

TEST_F(CoordinatorTest, SplitsUsersAndDeduplicatesReports) {
  auto coordinator = make(2);
  auto a = coordinator->connect("a");
  auto b = coordinator->connect("b");
  coordinator->receive(a, hello("agent-a"));
  coordinator->receive(b, hello("agent-b"));
  coordinator->receive(a, ready());
  coordinator->receive(b, ready());
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });

  auto assignment_a = next(*a, v1::CoordinatorMessage::kAssignment);
  auto assignment_b = next(*b, v1::CoordinatorMessage::kAssignment);
  ASSERT_TRUE(assignment_a && assignment_b);
  ASSERT_EQ(assignment_a->assignment().ranges_size(), 1);
  EXPECT_EQ(assignment_a->assignment().ranges(0).first(), 0);
  EXPECT_EQ(assignment_a->assignment().ranges(0).count(), 5);
  EXPECT_EQ(assignment_b->assignment().ranges(0).first(), 5);
  EXPECT_EQ(assignment_b->assignment().ranges(0).count(), 5);
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));

  coordinator->receive(a, report(1, 10));
  coordinator->receive(a, report(1, 10));  // a resend: acknowledged, not counted
  const auto live = coordinator->status();
  EXPECT_EQ(live.phase, "running");
  EXPECT_EQ(live.expected_agents, 2u);
  EXPECT_EQ(live.connected_agents, 2u);
  EXPECT_EQ(live.ready_agents, 2u);
  EXPECT_EQ(live.requests, 10u);
  // The run's 1 s duration ends: the agents stop and send their last reports.
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStop));
  ASSERT_TRUE(next(*b, v1::CoordinatorMessage::kStop));
  coordinator->receive(a, report(2, 5, true));
  coordinator->receive(b, report(1, 7, true));
  // A repeat after a reconnect: Welcome says what was applied.
  auto again = coordinator->connect("a2");
  coordinator->receive(again, hello("agent-a"));
  auto welcome = next(*again, v1::CoordinatorMessage::kWelcome);
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->welcome().applied_sequence(), 2u);
  coordinator->receive(again, report(2, 5, true));

  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 22u);
  EXPECT_EQ((*result)->info.agents, 2);
  EXPECT_EQ((*result)->info.verdict, report::Verdict::kPassed);
  EXPECT_EQ((*result)->info.extra["totalsComplete"], true);  // every final report arrived
}

// A fleet's summary names at most kAgentsListed agents, the notable ones among
// them (here the one agent with failures, the last by id), and counts them all:
// its size stays bounded however many agents report.
TEST_F(CoordinatorTest, TheSummaryOfAFleetListsAHundredAgentsTheNotableFirstAndCountsThemAll) {
  constexpr size_t kAgents = 150;
  auto coordinator = make(kAgents);
  std::vector<std::string> ids;
  for (size_t i = 0; i < kAgents; ++i) ids.push_back(fmt::format("agent-{:03}", i));
  auto streams = joinReady(*coordinator, ids);
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  for (size_t i = 0; i < kAgents; ++i) {
    ASSERT_TRUE(next(*streams[i], v1::CoordinatorMessage::kStop)) << ids[i];
    auto last = report(1, 2, true);
    if (i + 1 == kAgents) {
      stats::Recorder failed(2);
      failed.recordRequest(1, 5000, 10, 10, stats::ErrorKind::kStatus, 503);
      wire::encodeStats(failed, *last.mutable_report()->mutable_stats());
    }
    coordinator->receive(streams[i], last);
  }
  runner.join();
  ASSERT_TRUE(result && result->ok());
  const auto& distributed = (*result)->info.extra["distributed"];
  EXPECT_EQ(distributed["agentsTotal"], kAgents);
  EXPECT_EQ(distributed["agentsByState"], Json({{"finished", kAgents}}));
  const auto& listed = distributed["agents"];
  ASSERT_EQ(listed.size(), Coordinator::kAgentsListed);
  EXPECT_EQ(listed.back()["id"], "agent-149");  // listed in id order, the failing one kept
  EXPECT_EQ(listed.back()["failures"], 1);
  EXPECT_EQ((*result)->aggregate.total().requests(), 2 * (kAgents - 1) + 1);
}

// An agent lost before its final report: the run ends, its verdict from the
// thresholds over what was counted, and the summary says the totals are
// incomplete, whose reports are missing and from when.
TEST_F(CoordinatorTest, AnAgentLostWithReportsUndeliveredMakesTheTotalsIncomplete) {
  CoordinatorOptions options = takeoverOptions();
  options.start_delay = std::chrono::milliseconds(10);
  Coordinator coordinator(plan_, std::vector<report::Threshold>{}, options);
  auto streams = joinReady(coordinator, {"agent-a", "agent-b"});
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator.run()); });
  for (auto& s : streams) ASSERT_TRUE(next(*s, v1::CoordinatorMessage::kStart));
  coordinator.receive(streams[1], report(1, 10));  // agent-b's one report, then silence
  // agent-a reports every 100 ms until its stop, then delivers its final report.
  uint64_t sequence = 0;
  bool stopped = false;
  for (int i = 0; i < 100 && !stopped; ++i) {
    coordinator.receive(streams[0], report(++sequence, 2));
    while (auto m = streams[0]->pop(std::chrono::milliseconds(100))) stopped = stopped || m->has_stop();
  }
  ASSERT_TRUE(stopped);
  coordinator.receive(streams[0], report(++sequence, 2, true));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  const auto& extra = (*result)->info.extra;
  EXPECT_EQ((*result)->info.verdict, report::Verdict::kPassed);
  ASSERT_EQ(extra.value("totalsComplete", true), false) << extra.dump();
  const auto& missing = extra.at("missingTotals").at("agents");
  ASSERT_EQ(missing.size(), 1u) << extra.dump();
  EXPECT_EQ(missing[0]["agent"], "agent-b");
  EXPECT_NE(missing[0]["reason"].get<std::string>().find("lost"), std::string::npos);
  EXPECT_GT(missing[0]["toSecond"].get<double>(), missing[0]["fromSecond"].get<double>());
  int said = 0;
  for (const auto& e : extra["events"]) said += e["message"].get<std::string>().find("the totals are incomplete") == 0;
  EXPECT_EQ(said, 1) << extra["events"].dump();
}

// A report after a gap, or naming an endpoint the plan lacks, is refused; the
// agent reconnects and its final report still counts.
TEST_F(CoordinatorTest, RefusesAGapAndABadReport) {
  auto coordinator = make(1);
  auto a = coordinator->connect("a");
  coordinator->receive(a, hello("agent-a"));
  coordinator->receive(a, ready());
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));
  coordinator->receive(a, report(2, 3));  // 1 is missing
  auto refused = next(*a, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->refused().message().find("after 0"), std::string::npos);

  auto b = coordinator->connect("a-again");
  coordinator->receive(b, hello("agent-a"));
  auto bad = report(1, 3);
  bad.mutable_report()->mutable_stats()->mutable_endpoints(0)->set_index(99);
  coordinator->receive(b, bad);
  refused = next(*b, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->refused().message().find("endpoint index 99"), std::string::npos);

  auto c = coordinator->connect("a-third");
  coordinator->receive(c, hello("agent-a"));
  ASSERT_TRUE(next(*c, v1::CoordinatorMessage::kStop));
  coordinator->receive(c, report(1, 3, true));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 3u);
  EXPECT_EQ((*result)->info.verdict, report::Verdict::kPassed);
}

// One write per Ack interval to an agent that reports more often: the Ack
// covers every report applied since the last; a final report is answered at once.
TEST_F(CoordinatorTest, AcknowledgesReportsCumulativelyOncePerIntervalAndAFinalReportAtOnce) {
  auto plan = scenario::compileString(std::string(kScenario).replace(std::string(kScenario).find("1s}"), 3, "30s}"),
                                      "unit.yaml");
  ASSERT_TRUE(plan.ok());
  CoordinatorOptions options;
  options.run_id = "run-1";
  options.token = "s3cret";
  options.start_delay = std::chrono::milliseconds(10);
  options.grace = std::chrono::milliseconds(100);
  Coordinator coordinator(*plan, {}, options);
  ASSERT_EQ(options.ack_interval, kAckInterval);
  auto a = coordinator.connect("a");
  coordinator.receive(a, hello("agent-a"));
  coordinator.receive(a, ready());
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator.run()); });
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));

  coordinator.receive(a, report(1, 3));
  auto ack = next(*a, v1::CoordinatorMessage::kAck);
  const auto first_ack = MonoClock::now();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack().sequence(), 1u);
  coordinator.receive(a, report(2, 3));
  coordinator.receive(a, report(3, 3));
  ack = next(*a, v1::CoordinatorMessage::kAck);  // one Ack for both, an interval after the first
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack().sequence(), 3u);
  EXPECT_GE(MonoClock::now() - first_ack, kAckInterval - std::chrono::milliseconds(200));

  coordinator.requestStop("the test is over");
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStop));
  const auto before_final = MonoClock::now();
  coordinator.receive(a, report(4, 3, true));
  ack = next(*a, v1::CoordinatorMessage::kAck);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack().sequence(), 4u);
  EXPECT_LT(MonoClock::now() - before_final, kAckInterval / 2) << "a final report waits for no interval";
  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 12u);
}

TEST_F(CoordinatorTest, BarrierTimesOutNamingTheCount) {
  CoordinatorOptions options;
  options.run_id = "r";
  options.expect_agents = 2;
  options.ready_timeout = std::chrono::milliseconds(100);
  Coordinator coordinator(plan_, {}, options);
  auto a = coordinator.connect("a");
  coordinator.receive(a, hello("only-one", ""));
  auto result = coordinator.run();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().describe().find("only 1 of 2 expected agent(s) connected (0 ready)"), std::string::npos)
      << result.error().describe();
  EXPECT_TRUE(next(*a, v1::CoordinatorMessage::kFinished));
}

const char* kPubSub = R"(
name: pubsub
target: http://127.0.0.1:1
users:
  - name: listener
    count: 1
    steps:
      - subscribe: {url: /lp/room, stream: chat, topics: [room], mode: longpoll}
  - name: talker
    steps:
      - publish: {url: /pub/room, stream: chat, topic: room, body: hi}
load: {users: 4, spawnRate: 100, duration: 1s}
)";

TEST_F(CoordinatorTest, JudgesDeliveryOverEveryAgentsRecords) {
  auto compiled = scenario::compileString(kPubSub, "pubsub.yaml");
  ASSERT_TRUE(compiled) << compiled.error().describe();
  const scenario::Plan plan = std::move(*compiled);
  CoordinatorOptions options;
  options.run_id = "run-1";
  options.expect_agents = 2;
  options.start_delay = std::chrono::milliseconds(10);
  options.grace = std::chrono::milliseconds(100);
  Coordinator coordinator(plan, {}, options);
  auto a = coordinator.connect("a");
  auto b = coordinator.connect("b");
  coordinator.receive(a, hello("agent-a", ""));
  coordinator.receive(b, hello("agent-b", ""));
  coordinator.receive(a, ready());
  coordinator.receive(b, ready());
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator.run()); });
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStop));
  ASSERT_TRUE(next(*b, v1::CoordinatorMessage::kStop));

  // Agent a's subscriber hears two of the three messages agent b's publishers sent.
  const int64_t sent = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() -
                       60'000'000;
  stats::DeliveryLog on_a;
  on_a.subscriptions.push_back({0, 0, {"room"}, sent - 1000});
  on_a.receipts.push_back({0, 0, 2, 1, sent, sent + 2000});
  on_a.receipts.push_back({0, 0, 3, 1, sent + 10, sent + 3000});
  stats::DeliveryLog on_b;
  for (int64_t publisher = 2; publisher <= 4; ++publisher)
    on_b.published.push_back({0, "room", publisher, 1, sent + (publisher - 2) * 10});
  // Agent b's records arrive in two pieces, the second with its final report.
  auto pieces = wire::encodeDelivery(on_b, 40);
  ASSERT_EQ(pieces.size(), 3u);
  auto b1 = report(1, 0);
  *b1.mutable_report()->mutable_delivery() = pieces[0];
  coordinator.receive(b, b1);
  auto b2 = report(2, 0);
  *b2.mutable_report()->mutable_delivery() = pieces[1];
  coordinator.receive(b, b2);
  auto b3 = report(3, 1, true);
  *b3.mutable_report()->mutable_delivery() = pieces[2];
  coordinator.receive(b, b3);
  // A record for a stream the scenario does not have ends the stream, counting nothing.
  auto bad = report(1, 1, true);
  stats::DeliveryLog wrong;
  wrong.receipts.push_back({5, 0, 4, 1, sent, sent + 1});
  *bad.mutable_report()->mutable_delivery() = wire::encodeDelivery(wrong, 1 << 20)[0];
  coordinator.receive(a, bad);
  auto refused = next(*a, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->refused().message().find("stream index 5"), std::string::npos) << refused->refused().message();
  auto again = coordinator.connect("a2");
  coordinator.receive(again, hello("agent-a", ""));
  auto final_a = report(1, 1, true);
  *final_a.mutable_report()->mutable_delivery() = wire::encodeDelivery(on_a, 1 << 20)[0];
  coordinator.receive(again, final_a);

  runner.join();
  ASSERT_TRUE(result && result->ok());
  const auto& delivery = (*result)->info.delivery;
  ASSERT_EQ(delivery.size(), 1u);
  EXPECT_EQ(delivery[0].published, 3u);
  EXPECT_EQ(delivery[0].delivered, 2u);
  EXPECT_EQ(delivery[0].lost, 1u);
  EXPECT_EQ(delivery[0].expected, 3u);
  EXPECT_EQ(delivery[0].duplicates, 0u);
  EXPECT_EQ((*result)->aggregate.total().requests(), 2u);
}

}  // namespace
}  // namespace herd::coordinator::test
